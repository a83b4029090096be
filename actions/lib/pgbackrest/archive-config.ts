import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import type { DatabaseUrl } from '../pg/connection.ts';
import { chownTo, dataDirOwner } from '../pg/os-user.ts';
import type { S3Settings, Store } from '../storage/index.ts';
import { findPgbackrest } from './binary.ts';
import { pgbackrest, type Pgbackrest } from './command.ts';
import {
  CONFIG_HEADER,
  type Options,
  pgOptions,
  postgresqlConfLines,
  renderConfig,
  repoDisplay,
  repoOptions,
} from './config.ts';
import { checkSameCluster, readServerFacts } from './server.ts';

export interface ArchiveConfigOptions {
  name: string;
  store: Store;
  s3: S3Settings;
  s3Credentials: Pgbackrest['s3Credentials'];
  pgData: string;
  pgDataOrigin: Origin;
  /** A local connection to the server, to find its port and socket and check it runs from pgData. */
  database?: DatabaseUrl;
  configFile: string;
  configOrigin: Origin;
  /** undefined: an unencrypted repository (allow-unencrypted). */
  passphrase?: string;
  archiveTimeoutSeconds: number;
  log: (line: string) => void;
}

export interface ArchiveConfigResult {
  configFile: string;
  /** false: the file already said exactly this. */
  configChanged: boolean;
  stanza: string;
  repo: string;
  /** The lines to add to postgresql.conf (then restart the server). */
  postgresqlConf: string[];
  /** The server already archives with this command, and `pgbackrest check` pushed a segment through it. */
  archiving: boolean;
  pgbackrestVersion: string;
}

/**
 * `backstop archive-config`: the pgBackRest configuration for one server, its stanza, and the postgresql.conf lines.
 * Running it again with the same inputs changes nothing. The file holds the repository passphrase (and S3 keys)
 * because the server's archive_command runs pgBackRest with nothing but that file: it is written 0600, owned by
 * the server's user. Backstop's own runs hand the passphrase to pgBackRest through its environment instead.
 */
export async function configureArchiving(options: ArchiveConfigOptions): Promise<ArchiveConfigResult> {
  const binary = await findPgbackrest();
  const user = dataDirOwner(options.pgData, options.pgDataOrigin);
  const facts = options.database ? await readServerFacts(options.database) : undefined;
  if (facts && options.database) checkSameCluster(options.pgData, facts, options.pgDataOrigin, options.database);
  const repo = repoOptions({ ...options, encrypted: options.passphrase !== undefined });
  const settings: Options = [
    ...repo,
    ...secretOptions(options),
    ...pgOptions({ dataDir: options.pgData, port: facts?.port, socketDir: facts?.socketDir }),
    // archive-push logs to the server's log (its stderr); no log folder of its own to create or rotate.
    ['log-level-file', 'off'],
    ['start-fast', 'y'],
  ];
  const content = renderConfig(options.name, settings, [
    `Stanza ${options.name}: repository ${repoDisplay(repo)}.`,
    'Holds the repository passphrase: keep it 0600 and owned by the PostgreSQL user.',
  ]);
  const configChanged = await writeConfig(options.configFile, content, user, options.configOrigin);
  options.log(`${configChanged ? 'Wrote' : 'Unchanged:'} ${options.configFile}`);
  await prepareRepoFolder(repo, user);
  const tool: Pgbackrest = {
    binary: binary.path,
    configFile: options.configFile,
    stanza: options.name,
    user,
    passphrase: options.passphrase,
    s3Credentials: options.s3Credentials,
    repoDisplay: repoDisplay(repo),
  };
  await pgbackrest(tool, 'stanza-create');
  options.log(`Stanza ${options.name} is ready in ${tool.repoDisplay}`);
  const postgresqlConf = postgresqlConfLines(options.configFile, options.name, options.archiveTimeoutSeconds);
  const command = postgresqlConf[1]!.replace(/^archive_command = '(.*)'$/, '$1');
  const archiving = facts?.archiveMode === 'on' && facts.archiveCommand === command;
  if (archiving) {
    await pgbackrest(tool, 'check');
    options.log('The server archives through pgBackRest: pgbackrest check pushed a WAL segment to the repository');
  }
  return {
    configFile: options.configFile,
    configChanged,
    stanza: options.name,
    repo: tool.repoDisplay,
    postgresqlConf,
    archiving,
    pgbackrestVersion: binary.version,
  };
}

function secretOptions(options: ArchiveConfigOptions): Options {
  const secrets: Options = [];
  if (options.passphrase !== undefined) secrets.push(['repo1-cipher-pass', options.passphrase]);
  const credentials = options.s3Credentials ?? {};
  if (options.store.displayUrl.startsWith('s3://')) {
    if (credentials.accessKeyId) secrets.push(['repo1-s3-key', credentials.accessKeyId]);
    if (credentials.secretAccessKey) secrets.push(['repo1-s3-key-secret', credentials.secretAccessKey]);
    if (credentials.sessionToken) secrets.push(['repo1-s3-token', credentials.sessionToken]);
  }
  return secrets;
}

/** Writes the file only when its content differs; never over a file some other tool or person wrote. */
async function writeConfig(file: string, content: string, user: string, origin: Origin): Promise<boolean> {
  const existing = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (existing === content) return false;
  if (existing !== undefined && !existing.startsWith(CONFIG_HEADER)) {
    throw new ConfigurationError(
      `${origin.title} is ${file}, a pgBackRest configuration Backstop did not write: give another file (the ` +
        'default is /etc/pgbackrest/backstop-<name>.conf), or move that one aside.',
    );
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const staging = `${file}.backstop-new`;
  await fs.writeFile(staging, content, { mode: 0o600 });
  chownTo(user, staging);
  await fs.rename(staging, file);
  return true;
}

/** A local repository folder must exist and belong to the server's user before pgBackRest writes into it. */
async function prepareRepoFolder(repo: Options, user: string): Promise<void> {
  const type = repo.find(([name]) => name === 'repo1-type')?.[1];
  const repoPath = repo.find(([name]) => name === 'repo1-path')?.[1];
  if (type !== 'posix' || !repoPath) return;
  // The folders above it keep the default mode: the server's user must pass through them.
  await fs.mkdir(path.dirname(repoPath), { recursive: true });
  await fs.mkdir(repoPath, { recursive: true, mode: 0o750 });
  chownTo(user, repoPath);
}
