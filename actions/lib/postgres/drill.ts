import type { BinDirChoice } from '../pg/tools.ts';
import type { Identities } from '../crypto/age.ts';
import type pg from 'pg';
import { Origin } from '../action/origin.ts';
import { ConfigurationError } from '../action/errors.ts';
import type { FoundBackup } from '../manifest/catalog.ts';
import { runDrill, type Budgets, type DrillRecordBase, type EngineOutcome } from '../manifest/drills.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { Store } from '../storage/index.ts';
import { MissingLibraryError, startScratchCluster, type ScratchCluster } from '../pg/cluster.ts';
import { notPreloadedMessage, timescaleImage, timescaleOnServer, timescalePackage } from '../pg/timescale.ts';
import { serverMajor } from '../pg/tools.ts';
import { connect, parseDatabaseUrl, qualified, quoteIdent, type DatabaseUrl } from '../pg/connection.ts';
import { fetchRolesFile, listArchive, restoreInto, type RestoreOptions } from './restore.ts';
import {
  checkLeftOutTables,
  checkRestoredPrivileges,
  leftOutObjects,
  planRestore,
  type LeftOutObject,
} from './restore-plan.ts';
import type { RolesRestored } from './roles.ts';
import type { SecurityCheck } from './security.ts';
import { compareTimescaleObjects, readTimescaleObjects, type Tally, type TimescaleCheck } from './timescale.ts';

export interface DrillOptions extends Budgets {
  found: FoundBackup;
  /** Every destination: the drill record is written next to the backup wherever the backup is. */
  stores: Store[];
  /** Restore here (an empty database); when absent, into a throwaway local cluster. */
  target?: DatabaseUrl;
  /** Where a target of one's own is given: named in the hints when none was and the throwaway one cannot do. */
  targetOrigin: Origin;
  identities: Identities;
  dryRun: boolean;
  jobs: number;
  pgBin: BinDirChoice;
  tempDir: string;
  log: (line: string) => void;
  now?: () => Date;
  /** Owners and grants as in the source (the default); false: --no-owner --no-acl. */
  privileges?: boolean;
}

export interface TableCheck {
  schema: string;
  name: string;
  expected: number;
  actual: number | null;
  /**
   * An extension's configuration table (TimescaleDB's catalog): CREATE EXTENSION fills it with rows of its own before
   * the dumped ones are restored, so it must hold at least the manifest's count.
   */
  atLeast?: true;
}

/** The restored table holds what the manifest says it should. */
export function rowCountMatches(check: TableCheck): boolean {
  if (check.actual === null) return false;
  return check.atLeast ? check.actual >= check.expected : check.actual === check.expected;
}

export interface DrillRecord extends DrillRecordBase {
  engine: 'postgres';
  tables: TableCheck[];
  tocEntries?: number;
  /** A backup that records TimescaleDB objects: how many of each the restored database matches. */
  timescaledb?: TimescaleCheck;
  /** The backup's roles: which the target lacked and got, which it had already. */
  roles?: RolesRestored | null;
  /** Owners, grants and default privileges restored, and the RLS validation, against the backup. */
  security?: SecurityCheck;
  /** What the target could not take because it lacks an extension of the source, named. */
  leftOut?: LeftOutObject[];
}

type PostgresOutcome = EngineOutcome &
  Pick<DrillRecord, 'tables' | 'tocEntries' | 'timescaledb' | 'roles' | 'security' | 'leftOut'>;

/**
 * restore-drill for PostgreSQL: fetch (checksums verified while streaming) → decrypt → pg_restore into an empty
 * target → compare every table's row count with the manifest → RTO and RPO budgets → a drill record next to the
 * backup. Any failure makes the verdict "not verified"; the record says why.
 */
export async function drillPostgres(options: DrillOptions): Promise<DrillRecord> {
  const outcome: PostgresOutcome = {
    target: options.target?.display ?? 'a throwaway local PostgreSQL',
    restoreSeconds: 0,
    checksumsVerified: false,
    problems: [],
    tables: [],
    tocEntries: undefined,
    timescaledb: undefined,
  };
  return runDrill({ ...options, budgets: options, engine: 'postgres', outcome, rtoInDryRun: true }, (progress) =>
    options.dryRun ? listAndVerify(options, progress) : restoreAndCount(options, progress),
  );
}

function restoreOptionsOf(options: DrillOptions): RestoreOptions {
  const { found, identities, jobs, pgBin, tempDir, log } = options;
  return { found, identities, jobs, pgBin, tempDir, log };
}

/** Dry run: every file fetched, checksummed and decrypted, and the archive's contents listed; nothing restored. */
async function listAndVerify(options: DrillOptions, outcome: PostgresOutcome): Promise<void> {
  const started = Date.now();
  outcome.tocEntries = (await listArchive(restoreOptionsOf(options))).length;
  await fetchRolesFile(restoreOptionsOf(options));
  outcome.checksumsVerified = true;
  outcome.restoreSeconds = (Date.now() - started) / 1000;
  outcome.target = 'none (dry run)';
  options.log(`Dry run: every file verified and decrypted; the archive lists ${outcome.tocEntries} entries.`);
}

async function restoreAndCount(options: DrillOptions, outcome: PostgresOutcome): Promise<void> {
  const { manifest } = options.found;
  const timescale = timescaleOf(manifest);
  let scratch: ScratchCluster | undefined;
  try {
    let target = options.target;
    let where = target ? `the target ${target.display} (${target.origin})` : '';
    if (!target) {
      scratch = await startThrowaway(options, timescale);
      target = await createScratchDatabase(scratch, manifest.source.database ?? 'restored');
      outcome.target = `a throwaway PostgreSQL ${scratch.major}${timescale ? ' that preloads TimescaleDB' : ''}`;
      where = `the local PostgreSQL ${scratch.major}`;
    }
    options.log(`Restoring ${manifest.id} into ${outcome.target}`);
    const client = await connect(target);
    try {
      await assertEmptyDatabase(client, target);
      if (timescale)
        await restoreTimescale(client, target, { version: timescale, where, own: !scratch }, options, outcome);
      else await restoreAndVerify(client, target, options, outcome);
    } finally {
      await client.end().catch(() => undefined);
    }
    for (const table of outcome.tables.filter((check) => !rowCountMatches(check))) {
      outcome.problems.push(
        `${table.schema}.${table.name}: ${table.actual === null ? 'missing after restore' : `${table.actual} rows`}, ` +
          `the manifest says ${table.atLeast ? 'at least ' : ''}${table.expected}`,
      );
    }
  } finally {
    await scratch?.stop();
  }
}

async function restoreAndVerify(
  client: pg.Client,
  target: DatabaseUrl,
  options: DrillOptions,
  outcome: PostgresOutcome,
): Promise<void> {
  const { manifest } = options.found;
  const started = Date.now();
  const plan = await planRestore(client, { ...restoreOptionsOf(options), privileges: options.privileges ?? true });
  outcome.roles = plan.roles;
  outcome.leftOut = leftOutObjects(plan);
  await restoreInto(target, restoreOptionsOf(options), plan.selection).finally(plan.cleanup);
  outcome.checksumsVerified = true;
  outcome.restoreSeconds = (Date.now() - started) / 1000;
  const counted = checkLeftOutTables(await compareRowCounts(client, manifest), plan);
  outcome.tables = counted.tables;
  const privileges = await checkRestoredPrivileges(client, manifest, plan);
  outcome.security = privileges.check;
  outcome.problems.push(...counted.problems, ...privileges.problems);
  if (manifest.timescaledb) await compareTimescale(client, manifest, outcome, options);
}

/** The TimescaleDB a backup needs, and where it is to be restored (for the messages). */
interface TimescaleTarget {
  version: string;
  /** Who lacks what, in mid-sentence. */
  where: string;
  /** A target of one's own (not the throwaway cluster). */
  own: boolean;
}

/**
 * TimescaleDB: the restore and the checks between timescaledb_pre_restore() and timescaledb_post_restore(). They
 * are verified while the database is still in restore mode, so its policies (compression, retention, refresh)
 * cannot change it under the counts; the checking session alone runs with TimescaleDB working, as the dump's did.
 */
async function restoreTimescale(
  client: pg.Client,
  target: DatabaseUrl,
  timescale: TimescaleTarget,
  options: DrillOptions,
  outcome: PostgresOutcome,
): Promise<void> {
  await timescalePreRestore(client, timescale, options);
  let restoreMode = true;
  try {
    await client.query('SET timescaledb.restoring = off');
    await restoreAndVerify(client, target, options, outcome);
    const started = Date.now();
    await client.query('SELECT timescaledb_post_restore()');
    restoreMode = false;
    outcome.restoreSeconds += (Date.now() - started) / 1000;
  } finally {
    // Whatever failed, a database of one's own is not left with TimescaleDB in restore mode (its jobs stopped).
    if (restoreMode) await client.query('SELECT timescaledb_post_restore()').catch(() => undefined);
  }
}

/** The TimescaleDB version the backup needs, when its source had the extension. */
function timescaleOf(manifest: Manifest): string | undefined {
  return (
    manifest.timescaledb?.version ??
    (manifest.source.extensions ?? []).find((extension) => extension.name === 'timescaledb')?.version
  );
}

function sourceMajor(manifest: Manifest): number {
  return Math.floor((manifest.source.serverVersionNum ?? 0) / 10000);
}

/** A local cluster at least as new as the source, preloading TimescaleDB when the backup needs it. */
async function startThrowaway(options: DrillOptions, timescale: string | undefined): Promise<ScratchCluster> {
  const minMajor = sourceMajor(options.found.manifest);
  try {
    return await startScratchCluster({
      minMajor,
      baseDir: options.tempDir,
      instead: options.targetOrigin,
      preload: timescale ? ['timescaledb'] : [],
    });
  } catch (error) {
    if (timescale && error instanceof MissingLibraryError) {
      throw new ConfigurationError(
        `The backup needs TimescaleDB ${timescale} and the local PostgreSQL ${error.major} has no TimescaleDB: ` +
          getTimescale(timescale, error.major, options.found.manifest, options.targetOrigin),
      );
    }
    throw error;
  }
}

/** How to get the TimescaleDB version a backup needs: installed locally, or a server of one's own. */
function getTimescale(version: string, localMajor: number, manifest: Manifest, targetOrigin: Origin): string {
  const image = timescaleImage(version, sourceMajor(manifest) || localMajor);
  return (
    `install ${timescalePackage(version, localMajor)}, or run ${image} and give its empty database through ` +
    `${targetOrigin} (a dump of TimescaleDB restores only into the same extension version).`
  );
}

/** The throwaway cluster's URLs are Backstop's own: an error about them is ours, not an input's. */
const THROWAWAY = Origin.internal('the throwaway cluster');

async function createScratchDatabase(scratch: ScratchCluster, database: string): Promise<DatabaseUrl> {
  const admin = await connect(parseDatabaseUrl(scratch.url, THROWAWAY));
  try {
    if (database !== 'postgres') await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } finally {
    await admin.end();
  }
  return parseDatabaseUrl(scratch.urlFor(database), THROWAWAY);
}

/** A drill must never write over data: it restores into a database without tables of its own, or not at all. */
async function assertEmptyDatabase(client: pg.Client, target: DatabaseUrl): Promise<void> {
  const { rows } = await client.query<{ n: string }>(`
    SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'
      -- Tables an extension owns (TimescaleDB's catalog, created in every new database by its images) are not data.
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`);
  const count = Number(rows[0]!.n);
  if (count > 0) {
    throw new ConfigurationError(
      `${target.origin.title}: ${target.display} already holds ${count} tables. A drill restores only into an empty ` +
        'database, so it can never overwrite data: create an empty one, or leave the input empty for a throwaway ' +
        'cluster.',
    );
  }
}

/**
 * A dump of TimescaleDB restores only into the same extension version, between timescaledb_pre_restore() and
 * timescaledb_post_restore(): checked before anything is restored, without calling into a library that is not
 * preloaded (that would end the session with a bare FATAL).
 */
async function timescalePreRestore(
  client: pg.Client,
  timescale: TimescaleTarget,
  options: DrillOptions,
): Promise<void> {
  const { version, where } = timescale;
  const server = await timescaleOnServer(client);
  const major = sourceMajor(options.found.manifest);
  const elsewhere = timescale.own
    ? `restore into a server running TimescaleDB ${version} (e.g. ${timescaleImage(version, major)}) through ` +
      `${options.targetOrigin} (a dump of TimescaleDB restores only into the same extension version).`
    : getTimescale(version, major, options.found.manifest, options.targetOrigin);
  if (server.available.length === 0) {
    throw new ConfigurationError(`The backup needs TimescaleDB ${version} and ${where} has none: ${elsewhere}`);
  }
  if (server.installed !== null && server.installed !== version) {
    throw new ConfigurationError(
      `The backup needs TimescaleDB ${version} and ${where} has TimescaleDB ${server.installed} in the ` +
        `database: ${elsewhere}`,
    );
  }
  if (!server.available.includes(version)) {
    throw new ConfigurationError(
      `The backup needs TimescaleDB ${version} and ${where} has TimescaleDB ` +
        `${server.available.join(', ')}: ${elsewhere}`,
    );
  }
  if (!server.preloaded) {
    throw new ConfigurationError(
      notPreloadedMessage(capitalized(where), `a backup of TimescaleDB ${version} cannot be restored there`),
    );
  }
  await client.query(`CREATE EXTENSION IF NOT EXISTS timescaledb VERSION '${version.replace(/'/g, "''")}'`);
  await client.query('SELECT timescaledb_pre_restore()');
  options.log(`TimescaleDB ${version}: pre-restore mode on`);
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The restored hypertables, continuous aggregates and jobs against the manifest's record of them. */
async function compareTimescale(
  client: pg.Client,
  manifest: Manifest,
  outcome: PostgresOutcome,
  options: DrillOptions,
): Promise<void> {
  const expected = manifest.timescaledb!;
  const actual = await readTimescaleObjects(client, expected.version);
  const { rows } = await client.query<{ n: string }>("SELECT current_setting('server_version_num') AS n");
  const restoredMajor = serverMajor(Number(rows[0]!.n));
  // Another PostgreSQL major may print the same view differently: definitions compare only on the same major.
  const sameMajor = restoredMajor === sourceMajor(manifest);
  const { check, problems } = compareTimescaleObjects(expected, actual, sameMajor);
  outcome.timescaledb = check;
  outcome.problems.push(...problems.map((problem) => `TimescaleDB ${problem}`));
  options.log(
    `TimescaleDB: ${tally(check.hypertables)} hypertables, ${tally(check.continuousAggregates)} continuous ` +
      `aggregates, ${tally(check.jobs)} policy jobs match the manifest` +
      (sameMajor
        ? ''
        : ` (view definitions not compared: PostgreSQL ${restoredMajor}, the source ran ${sourceMajor(manifest)})`),
  );
}

function tally(counts: Tally): string {
  return `${counts.matching} of ${counts.expected}`;
}

async function compareRowCounts(client: pg.Client, manifest: Manifest): Promise<TableCheck[]> {
  const configuration = await extensionConfigurationTables(client);
  const checks: TableCheck[] = [];
  for (const table of manifest.tables ?? []) {
    if (table.rows === null) continue;
    const name = qualified(table.schema, table.name);
    const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [name]);
    let actual: number | null = null;
    if (rows[0]!.exists) {
      const counted = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${name}`);
      actual = Number(counted.rows[0]!.n);
    }
    const check: TableCheck = { schema: table.schema, name: table.name, expected: table.rows, actual };
    checks.push(configuration.has(name) ? { ...check, atLeast: true } : check);
  }
  return checks;
}

/** The tables extensions mark as configuration (pg_dump dumps their rows, filtered), as qualified names. */
async function extensionConfigurationTables(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{ schema: string; name: string }>(`
    SELECT n.nspname AS schema, c.relname AS name
    FROM pg_extension e CROSS JOIN LATERAL unnest(e.extconfig) AS config(oid)
    JOIN pg_class c ON c.oid = config.oid JOIN pg_namespace n ON n.oid = c.relnamespace`);
  return new Set(rows.map((row) => qualified(row.schema, row.name)));
}
