import { defineAction, type InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { PASSPHRASE_INPUTS, readPassphrase } from '../../lib/inputs/passphrase.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../lib/pg/connection.ts';
import { configureArchiving, type ArchiveConfigOptions } from '../../lib/pgbackrest/archive-config.ts';
import path from 'node:path';

const INPUTS = {
  name: { description: 'Backup name: also the pgBackRest stanza, e.g. prod-db.', required: true },
  'storage-url': {
    description:
      'Where the backups are (s3://bucket/prefix or file:///path); the repository goes under <prefix>/<name>/pgbackrest/.',
    required: true,
  },
  'pg-data': { description: 'The PostgreSQL data directory on this machine (SHOW data_directory).', required: true },
  'database-url': {
    description:
      'A local connection (postgresql://postgres@localhost/postgres): finds the port and socket, checks pg-data.',
    secret: 'url',
  },
  config: {
    description: 'The pgBackRest configuration file to write; default /etc/pgbackrest/backstop-<name>.conf.',
  },
  ...PASSPHRASE_INPUTS,
  'archive-timeout': {
    description: 'Seconds after which an idle server still archives its WAL segment (archive_timeout): the RPO.',
    default: '60',
  },
} as const satisfies InputSpecs;

type ArchiveConfigOutput = 'config-file' | 'stanza' | 'changed' | 'archiving';

/**
 * archive-config (CLI only: it runs once, by hand, on the database host): the pgBackRest configuration and stanza for
 * one server, and the postgresql.conf lines to add. Running it twice changes nothing.
 */
export default defineAction<ArchiveConfigOutput>({
  name: 'archive-config',
  description:
    'pgBackRest for a self-hosted server: writes its configuration (repository under storage-url, aes-256-cbc, ' +
    'zstd), creates the stanza, prints the postgresql.conf lines. Idempotent.',
  branding: { icon: 'archive', color: 'blue' },
  inputs: INPUTS,
  outputs: {
    'config-file': { description: 'The pgBackRest configuration file.' },
    stanza: { description: 'The stanza (the backup name).' },
    changed: { description: 'Whether the file was written (false: it already said exactly this).' },
    archiving: { description: 'Whether the server already archives through it (pgbackrest check passed).' },
  },
  run,
});

type ArchiveConfigInputs = Omit<ArchiveConfigOptions, 's3' | 's3Credentials' | 'log'>;

async function run(runtime: Runtime<ArchiveConfigOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  if (!inputs.passphrase) runtime.warning('allow-unencrypted is set: the pgBackRest repository is not encrypted.');
  const result = await configureArchiving({
    ...inputs,
    s3: runtime.context.s3,
    s3Credentials: runtime.context.awsCredentials,
    log: (line) => runtime.info(line),
  });
  runtime.setOutput('config-file', result.configFile);
  runtime.setOutput('stanza', result.stanza);
  runtime.setOutput('changed', result.configChanged);
  runtime.setOutput('archiving', result.archiving);
  const conf = result.postgresqlConf.join('\n');
  await runtime.writeSummary(
    result.archiving
      ? `## ✅ ${result.stanza}: WAL archives to ${result.repo}\n\npostgresql.conf already has:\n\n\`\`\`\n${conf}\n\`\`\`\n`
      : `## ${result.stanza}: pgBackRest is configured (${result.repo})\n\nAdd to postgresql.conf, restart the ` +
          `server, then run this command again (it checks that WAL archives):\n\n\`\`\`\n${conf}\n\`\`\`\n`,
  );
}

/** Every input checked, each mistake a line of its own, before pgBackRest is looked for or anything is written. */
function readInputs(runtime: Runtime): ArchiveConfigInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const { config, ...read } = inputs.fields({
    name: () => checkBackupName(inputs.string('name'), inputs.origin('name')),
    store: () => readStores(inputs, 'storage-url', runtime.context.s3)[0]!,
    pgData: () => path.resolve(inputs.string('pg-data')),
    pgDataOrigin: () => inputs.origin('pg-data'),
    database: () => readDatabase(inputs),
    config: () => inputs.optional('config'),
    configOrigin: () => inputs.origin('config'),
    passphrase: () => readPassphrase(inputs),
    archiveTimeoutSeconds: () => inputs.integer('archive-timeout', { min: 1, max: 3600 }),
  });
  return { ...read, configFile: path.resolve(config ?? `/etc/pgbackrest/backstop-${read.name}.conf`) };
}

function readDatabase(inputs: InputReader): DatabaseUrl | undefined {
  const url = inputs.optional('database-url');
  return url ? parseDatabaseUrl(url, inputs.origin('database-url')) : undefined;
}
