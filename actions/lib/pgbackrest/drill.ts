import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import { Origin } from '../action/origin.ts';
import { onInterrupt } from '../interrupt.ts';
import type { FoundBackup } from '../manifest/catalog.ts';
import { runDrill, type Budgets, type DrillRecordBase, type EngineOutcome } from '../manifest/drills.ts';
import type { Manifest } from '../manifest/schema.ts';
import { connect, parseDatabaseUrl, type DatabaseUrl } from '../pg/connection.ts';
import { chownTo, serverUser } from '../pg/os-user.ts';
import { startServer, type RunningServer } from '../pg/server.ts';
import { findToolVersions, serverMajor, type BinDirChoice } from '../pg/tools.ts';
import type { S3Settings, Store } from '../storage/index.ts';
import { writeRunConfig } from './backup.ts';
import { findPgbackrest } from './binary.ts';
import { pgbackrest, pgbackrestEnvironment, type Pgbackrest } from './command.ts';
import { repoDisplay, repoOptions } from './config.ts';
import { readRecoveryLog, type RecoveryLog } from './recovery-log.ts';
import { newestArchivedWal, type NewestWal } from './wal.ts';

export interface PitrDrillOptions extends Budgets {
  found: FoundBackup;
  stores: Store[];
  /** undefined: recover to the end of the backup itself (consistency), no time target. */
  toTime?: Date;
  toTimeOrigin: Origin;
  /** Must return one true value in the recovered database. */
  verifySql?: string;
  verifySqlOrigin: Origin;
  passphrase?: string;
  passphraseOrigin: Origin;
  s3: S3Settings;
  s3Credentials: Pgbackrest['s3Credentials'];
  pgBin: BinDirChoice;
  log: (line: string) => void;
  /** How long the recovery may take before the drill gives up on it (promotion never came). */
  recoveryTimeoutSeconds?: number;
}

export interface PitrOutcome extends EngineOutcome {
  /** The target asked for (ISO), or null for a drill to the backup's own end. */
  toTime: string | null;
  /** The last transaction replayed (pg_last_xact_replay_timestamp), ISO; null when none was. */
  recoveredTo: string | null;
  /** pgBackRest's label of the base backup restored. */
  baseBackup: string;
  /** WAL segments the server fetched from the archive while recovering. */
  walReplayed: number;
  /** PostgreSQL's own line for where recovery stopped. */
  recoveryStop: string | null;
  /** verify-sql's answer, when given. */
  verifySqlResult: boolean | null;
  /** The newest segment in the repository when the drill ran: how far a recovery could go right now (the RPO). */
  newestWal: NewestWal | null;
}

export type PitrDrillRecord = DrillRecordBase & Omit<PitrOutcome, keyof EngineOutcome>;

/**
 * restore-drill of a pgBackRest backup: `pgbackrest restore` of the chosen base backup into a throwaway folder (with
 * `--type=time --target=<to-time> --target-action=promote` when a time is given), a server of the backup's major
 * version on its own port that recovers from the archive, the wait for its promotion, then the proof: PostgreSQL's
 * log says recovery stopped at the target (never "ended before" it) and the last replayed transaction is at or
 * before it; verify-sql must return true. The folder and the server are gone afterwards, whatever happened.
 */
export async function drillPitr(options: PitrDrillOptions): Promise<PitrDrillRecord> {
  const record = options.found.manifest.pgbackrest;
  if (!record) throw new Error(`${options.found.manifest.id} is not a pgBackRest backup.`);
  checkTarget(options.found.manifest, options);
  const outcome: PitrOutcome = {
    target: 'a throwaway PostgreSQL restored by pgBackRest',
    restoreSeconds: 0,
    checksumsVerified: false,
    problems: [],
    toTime: options.toTime?.toISOString() ?? null,
    recoveredTo: null,
    baseBackup: record.label,
    walReplayed: 0,
    recoveryStop: null,
    verifySqlResult: null,
    newestWal: null,
  };
  const prepared = await prepare(options);
  return runDrill(
    { ...options, budgets: options, dryRun: false, engine: 'pgbackrest', outcome, rtoInDryRun: false },
    (progress) => recover(options, prepared, progress),
  );
}

/** A pinned base backup must hold the database before the target: recovery only goes forward from it. */
function checkTarget(manifest: Manifest, options: PitrDrillOptions): void {
  const stoppedAt = manifest.pgbackrest!.stoppedAt;
  if (options.toTime && Date.parse(stoppedAt) > options.toTime.getTime()) {
    throw new ConfigurationError(
      `${options.toTimeOrigin.title} is ${options.toTime.toISOString()}, before backup ${manifest.id} was ` +
        `consistent (${stoppedAt}): choose a later time, or an older backup (or none: the newest before the time).`,
    );
  }
}

interface Prepared {
  tool: Pgbackrest;
  binDir: string;
  work: string;
  dataDir: string;
}

/** What must be right before anything is restored: tools, the passphrase, a folder of our own. */
async function prepare(options: PitrDrillOptions): Promise<Prepared> {
  const { manifest } = options.found;
  const record = manifest.pgbackrest!;
  if (record.cipher !== 'none' && options.passphrase === undefined) {
    throw new ConfigurationError(
      `${options.passphraseOrigin.title} is empty: backup ${manifest.id} is in an encrypted pgBackRest repository ` +
        '(aes-256-cbc); give the passphrase archive-config was run with.',
    );
  }
  const binary = await findPgbackrest();
  const binDir = await serverBinDir(manifest, options.pgBin);
  const user = serverUser();
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-pitr-drill-'));
  await fs.chmod(work, 0o700);
  chownTo(user, work);
  const dataDir = path.join(work, 'data');
  const store = repoStore(options.stores, manifest, options.s3) ?? options.found.store;
  const repo = repoOptions({ store, name: manifest.name, s3: options.s3, encrypted: record.cipher !== 'none' });
  const tool: Pgbackrest = {
    binary: binary.path,
    // Locks of its own: a drill on the database host must not wait for, nor block, the host's backups and archiving.
    configFile: await writeRunConfig(work, record.stanza, [...repo, ['pg1-path', dataDir], ['lock-path', work]], user),
    stanza: record.stanza,
    user,
    passphrase: record.cipher === 'none' ? undefined : options.passphrase,
    s3Credentials: options.s3Credentials,
    repoDisplay: repoDisplay(repo),
  };
  return { tool, binDir, work, dataDir };
}

/** The destination that holds the repository the backup was made into (the first destination of that run). */
function repoStore(stores: Store[], manifest: Manifest, s3: S3Settings): Store | undefined {
  return stores.find((store) => {
    const repo = repoOptions({ store, name: manifest.name, s3, encrypted: true });
    return repoDisplay(repo) === manifest.pgbackrest!.repo;
  });
}

/** A physical backup starts only on a server of its own major version. */
async function serverBinDir(manifest: Manifest, pgBin: BinDirChoice): Promise<string> {
  const major = serverMajor(manifest.source.serverVersionNum ?? 0);
  const found = (await findToolVersions('initdb', pgBin.dir)).find((tool) => tool.major === major);
  if (!found) {
    throw new ConfigurationError(
      `Backup ${manifest.id} is of PostgreSQL ${major}, and a physical backup starts only on PostgreSQL ${major}: ` +
        `install postgresql-${major} on this machine${pgBin.dir ? `, or set ${pgBin.origin} to its bin folder` : ''}.`,
    );
  }
  return path.dirname(found.path);
}

async function recover(options: PitrDrillOptions, prepared: Prepared, outcome: PitrOutcome): Promise<void> {
  const started = Date.now();
  let server: RunningServer | undefined;
  // Interrupted: the restored data folder (the size of the database) goes too, after its server has stopped.
  const forget = onInterrupt('removed the restored data folder', async () => {
    await server?.stop();
    await fs.rm(prepared.work, { recursive: true, force: true });
  });
  try {
    options.log(
      `pgbackrest restore of ${outcome.baseBackup}` +
        `${outcome.toTime ? ` to ${outcome.toTime}` : ' (to its consistent point)'} into ${prepared.dataDir}`,
    );
    await pgbackrest(prepared.tool, 'restore', restoreArgs(options, outcome));
    await prepareRestoredDir(prepared);
    server = await startRecovered(options, prepared, outcome);
    await waitForPromotion(server, options, outcome);
    outcome.restoreSeconds = (Date.now() - started) / 1000;
    outcome.checksumsVerified = true;
    const log = readRecoveryLog(await server.log());
    outcome.walReplayed = log.segmentsRestored;
    outcome.recoveryStop = log.stopLine;
    // Reported beside the recovery, never a reason to fail it: a listing that fails leaves the row empty, said once.
    outcome.newestWal =
      (await newestArchivedWal(prepared.tool).catch((error: unknown) => {
        options.log(`Could not list the newest archived WAL: ${errorMessage(error)}`);
        return undefined;
      })) ?? null;
    const database = await recoveredDatabase(server, options.found.manifest);
    outcome.recoveredTo = database.lastReplay;
    outcome.problems.push(...targetProblems(options.toTime, log, database.lastReplay));
    if (options.verifySql) {
      outcome.verifySqlResult = await runVerifySql(server, options);
      if (!outcome.verifySqlResult)
        outcome.problems.push(
          `${options.verifySqlOrigin.title} returned false in the database recovered to ${outcome.toTime ?? 'the end'}.`,
        );
    }
    options.log(
      `Recovered to ${outcome.recoveredTo ?? 'the backup'} in ${outcome.restoreSeconds.toFixed(1)} s ` +
        `(${outcome.walReplayed} WAL segments from the archive)`,
    );
  } finally {
    forget();
    await server?.stop();
    await fs.rm(prepared.work, { recursive: true, force: true });
  }
}

function restoreArgs(options: PitrDrillOptions, outcome: PitrOutcome): string[] {
  const args = [`--set=${outcome.baseBackup}`, '--target-action=promote'];
  if (!options.toTime) return [...args, '--type=immediate'];
  return [...args, '--type=time', `--target=${postgresTime(options.toTime)}`];
}

/** recovery_target_time as PostgreSQL reads it unambiguously: UTC, milliseconds, explicit offset. */
export function postgresTime(at: Date): string {
  return at.toISOString().replace('T', ' ').replace('Z', '+00');
}

/**
 * A restored data directory is production's: its pg_hba.conf may want passwords the drill does not have, and a
 * Debian cluster keeps postgresql.conf in /etc. The drill trusts loopback only and starts from an empty
 * postgresql.conf when there is none (the server's own defaults, then ours on the command line).
 */
async function prepareRestoredDir(prepared: Prepared): Promise<void> {
  const hba = path.join(prepared.work, 'pg_hba.conf');
  await fs.writeFile(hba, 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  chownTo(prepared.tool.user, hba);
  const conf = path.join(prepared.dataDir, 'postgresql.conf');
  if (!(await fs.stat(conf).catch(() => undefined))) {
    await fs.writeFile(conf, '# The backup had no postgresql.conf (Debian keeps it in /etc/postgresql).\n');
    chownTo(prepared.tool.user, conf);
  }
}

async function startRecovered(options: PitrDrillOptions, prepared: Prepared, outcome: PitrOutcome) {
  try {
    return await startServer({
      binDir: prepared.binDir,
      dataDir: prepared.dataDir,
      workDir: prepared.work,
      user: prepared.tool.user,
      // The server's restore_command is pgBackRest's archive-get: it needs the passphrase, from its environment.
      env: pgbackrestEnvironment(prepared.tool),
      settings: [`hba_file='${path.join(prepared.work, 'pg_hba.conf')}'`, 'ssl=off', 'hot_standby=on'],
      timeoutSeconds: options.recoveryTimeoutSeconds ?? 1800,
    });
  } catch (error) {
    const serverLog = (error as { serverLog?: string }).serverLog ?? '';
    const log = readRecoveryLog(serverLog);
    outcome.walReplayed = log.segmentsRestored;
    throw new Error(recoveryFailure(options, log, errorMessage(error)));
  }
}

/** Why the restored server never came up, in one line from its log. */
function recoveryFailure(options: PitrDrillOptions, log: RecoveryLog, fallback: string): string {
  if (log.endedBeforeTarget) {
    return (
      `Recovery ended before the target ${options.toTime?.toISOString() ?? ''}: the archive has no WAL past ` +
      `${log.lastSegment ?? 'the backup'} (a segment missing from the repository, or a time later than the newest ` +
      'archived transaction); check archiving (pgbackrest check) and choose an earlier time.'
    );
  }
  return `The restored server did not start: ${log.fatal ?? fallback}`;
}

/** A hot standby accepts connections before recovery is over: promotion is when pg_is_in_recovery() turns false. */
async function waitForPromotion(server: RunningServer, options: PitrDrillOptions, outcome: PitrOutcome) {
  const timeoutSeconds = options.recoveryTimeoutSeconds ?? 1800;
  const deadline = Date.now() + timeoutSeconds * 1000;
  const database = parseDatabaseUrl(server.url, Origin.internal('the restored server'));
  while (Date.now() < deadline) {
    if (await promoted(database)) return;
    const log = readRecoveryLog(await server.log());
    if (log.fatal) {
      outcome.walReplayed = log.segmentsRestored;
      throw new Error(recoveryFailure(options, log, log.fatal));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The restored server was not promoted within ${timeoutSeconds} s (still replaying WAL).`);
}

/**
 * Whether the server is out of recovery. A server that cannot reach its target shuts down on its own, perhaps
 * between our connect and our query (a reset connection): that is "not yet", and its log then says why.
 */
async function promoted(database: DatabaseUrl): Promise<boolean> {
  const client = await connect(database).catch(() => undefined);
  if (!client) return false;
  try {
    const row = (await client.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering')).rows[0];
    return row !== undefined && !row.recovering;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The recovered database, reached as the role the backup connected as; and the last transaction replayed. */
async function recoveredDatabase(server: RunningServer, manifest: Manifest) {
  const client = await connect(recoveredUrl(server, manifest));
  try {
    const row = (await client.query<{ at: Date | null }>('SELECT pg_last_xact_replay_timestamp() AS at')).rows[0];
    return { lastReplay: row?.at ? row.at.toISOString() : null };
  } finally {
    await client.end();
  }
}

function recoveredUrl(server: RunningServer, manifest: Manifest) {
  const role = encodeURIComponent(manifest.pgbackrest!.role);
  const database = encodeURIComponent(manifest.source.database ?? 'postgres');
  return parseDatabaseUrl(
    `postgresql://${role}@127.0.0.1:${server.port}/${database}`,
    Origin.internal('the restored server'),
  );
}

/**
 * Recovery stopped where it was asked to: PostgreSQL says "recovery stopping before …" (the first transaction past
 * the target), and the last transaction it replayed is not after the target.
 */
export function targetProblems(toTime: Date | undefined, log: RecoveryLog, lastReplay: string | null): string[] {
  if (!toTime) return [];
  const problems: string[] = [];
  if (log.endedBeforeTarget) problems.push(`Recovery ended before the target ${toTime.toISOString()}.`);
  else if (!log.stopLine) {
    problems.push(
      `PostgreSQL did not log where recovery stopped for target ${toTime.toISOString()}: it may have replayed ` +
        'everything archived without reaching the target.',
    );
  }
  if (lastReplay && Date.parse(lastReplay) > toTime.getTime()) {
    problems.push(`The last replayed transaction (${lastReplay}) is after the target ${toTime.toISOString()}.`);
  }
  return problems;
}

async function runVerifySql(server: RunningServer, options: PitrDrillOptions): Promise<boolean> {
  const client = await connect(recoveredUrl(server, options.found.manifest));
  try {
    const result = await client.query({ text: options.verifySql!, rowMode: 'array' });
    const rows = result.rows as unknown[][];
    if (rows.length !== 1 || rows[0]!.length !== 1 || typeof rows[0]![0] !== 'boolean') {
      throw new ConfigurationError(
        `${options.verifySqlOrigin.title} returned ${rows.length} row(s) of ${rows[0]?.length ?? 0} column(s): it ` +
          'must return one boolean, e.g. SELECT count(*) = 3 FROM canary.',
      );
    }
    return rows[0]![0] === true;
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    // A canary table that is not there is missing data, not a typo we can tell apart: the drill fails on it.
    throw new Error(`${options.verifySqlOrigin.title} failed in the recovered database: ${errorMessage(error)}`);
  } finally {
    await client.end();
  }
}
