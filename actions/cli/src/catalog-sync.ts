import { defineAction, type InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { syncCatalog } from '../../lib/catalog/sync.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import { parseDatabaseUrl } from '../../lib/pg/connection.ts';

const INPUTS = {
  'storage-url': {
    description: 'Where the backups are: s3://bucket/prefix, file:///path or ./path, newline- or comma-separated.',
    required: true,
  },
  'catalog-url': {
    description: 'postgresql:// URL of the database that holds (or gets) backstop.backup_logs (a secret).',
    required: true,
    secret: 'url',
  },
  name: { description: 'Backup names to sync, newline- or comma-separated; default every name in storage-url.' },
  ...TIMEOUT_INPUTS,
} as const satisfies InputSpecs;

type CatalogSyncOutput = 'backups' | 'drills' | 'purged';

/**
 * catalog-sync (CLI only): rebuilds backstop.backup_logs from the manifests and drill records in storage, e.g. after
 * the catalog database was down during backups, or to fill a new catalog. Idempotent.
 */
export default defineAction<CatalogSyncOutput>({
  name: 'catalog-sync',
  description:
    'Rebuilds the backstop.backup_logs table from the manifests and drill records in storage (the source of ' +
    'truth); creates the table when missing. Idempotent.',
  branding: { icon: 'database', color: 'blue' },
  inputs: INPUTS,
  outputs: {
    backups: { description: 'Complete backups written to the table.' },
    drills: { description: 'Of them, backups whose newest drill verdict was written.' },
    purged: { description: 'Rows whose backup no destination holds any more, now marked purged.' },
  },
  run,
});

async function run(runtime: Runtime<CatalogSyncOutput>): Promise<void> {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  // Every bad input at once, a line each, before storage or the catalog is reached.
  const { database, stores, names } = inputs.fields({
    database: () => parseDatabaseUrl(inputs.string('catalog-url'), inputs.origin('catalog-url')),
    stores: () => readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts: readTimeouts(inputs) }),
    names: () => inputs.list('name').map((name) => checkBackupName(name, inputs.origin('name'))),
  });
  const result = await syncCatalog({ stores, names, database, log: (line) => runtime.info(line) });
  runtime.setOutput('backups', result.backups);
  runtime.setOutput('drills', result.drills);
  runtime.setOutput('purged', result.purged.length);
  runtime.info(
    `backstop.backup_logs at ${database.display}: ${result.backups} backup(s) of ${result.names.length} name(s), ` +
      `${result.drills} drill verdict(s), ${result.purged.length} marked purged`,
  );
  await runtime.writeSummary(
    `## Catalog synced: ${database.display}\n\n${result.backups} backup(s) of ${result.names.join(', ') || 'no name'}` +
      `, ${result.drills} drill verdict(s), ${result.purged.length} row(s) marked purged (gone from storage).\n`,
  );
}
