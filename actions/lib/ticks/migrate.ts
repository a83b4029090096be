import type { Origin } from '../action/origin.ts';
import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import { chooseHashMethod, pinSession, type HashMethod, type RangeTable } from '../pg/fingerprint.ts';
import { connect, qualified, quoteIdent, type DatabaseUrl } from '../pg/connection.ts';
import { formatCount, formatSeconds } from '../format.ts';
import { copyRange, type RangeResult, type VerifyMode } from './copy.ts';
import { ensureLedger, finishedRanges, rangeKey } from './ledger.ts';
import { describeRange, planRanges, type Shard, type TimeRange } from './plan.ts';
import { CANDLE_VIEWS } from './ddl.ts';
import { defineTickTable, describeCandles, type CandleChoice } from './definition.ts';
import { describeTarget, setupTarget, timescaleVersion, type RetentionPolicy, type TargetShape } from './setup.ts';
import { assertTimeColumn, findTable, type ResolvedTable, type TableName } from './tables.ts';

export interface MigrateOptions {
  source: DatabaseUrl;
  target: DatabaseUrl;
  sourceTable: TableName;
  targetTable: TableName;
  timeColumn: string;
  /** Where the time column is named, for the error when a table lacks it. */
  timeColumnOrigin: Origin;
  from?: Date;
  to?: Date;
  workers: number;
  verify: VerifyMode;
  setup: 'auto' | 'none';
  /** Where setup was chosen, for errors that suggest the other choice. */
  setupOrigin: Origin;
  /** The columns setup: auto's candles read. */
  candles: CandleChoice;
  shard: Shard;
  dryRun: boolean;
  log: (line: string) => void;
  warn: (line: string) => void;
}

export interface PlannedRange {
  range: TimeRange;
  sourceRows: number;
  done: boolean;
}

export interface MigrationResult {
  dryRun: boolean;
  shape: TargetShape['kind'] | 'not created (dry run)';
  timescaleVersion?: string;
  /** setup: auto only: which candle aggregates were set up from what, or why none were. */
  candles?: string;
  sourceTable: string;
  targetTable: string;
  from?: Date;
  to?: Date;
  copied: RangeResult[];
  skipped: number;
  /** Dry run only: every range of this shard, with its source rows. */
  plan: PlannedRange[];
  rowsCopied: number;
  seconds: number;
  verified: boolean;
  /** How each range was proven (copy.ts, VerifyMode). */
  verify: VerifyMode;
}

/**
 * Rows per second assumed for a dry run's estimate: what bench/migrate-ticks.ts measured on a 2-core machine, seed-
 * shaped ticks into a TimescaleDB hypertable (2026-12-02: 188,000; into plain partitions it is faster).
 */
export const ESTIMATED_ROWS_PER_SECOND = 190_000;

/**
 * migrate-ticks: plans day-aligned ranges over [from, to), sets up the target (unless dry-run or setup: none), then
 * copies the ranges the ledger does not hold yet with `workers` in parallel, each range verified and recorded in its
 * own transaction. A dry run reads the source and the ledger only.
 */
export async function migrateTicks(options: MigrateOptions): Promise<MigrationResult> {
  const started = Date.now();
  const { source, target } = await connectBoth(options);
  try {
    const sourceTable = await findTable(source, options.sourceTable);
    if (!sourceTable) {
      throw new ConfigurationError(
        `${options.sourceTable.origin.title}: ${nameOf(options.sourceTable)} does not exist in ` +
          `${options.source.display}: check the name (schema.table).`,
      );
    }
    assertTimeColumn(sourceTable, options.timeColumn, options.source.display, options.timeColumnOrigin);
    const bounds = await timeBounds(source, sourceTable, options);
    const result: MigrationResult = {
      dryRun: options.dryRun,
      shape: 'not created (dry run)',
      sourceTable: `${sourceTable.schema}.${sourceTable.name}`,
      targetTable: nameOf(options.targetTable),
      ...bounds,
      copied: [],
      skipped: 0,
      plan: [],
      rowsCopied: 0,
      seconds: 0,
      verified: true,
      verify: options.verify,
    };
    if (!bounds.from || !bounds.to) {
      options.log(
        `${result.sourceTable} has no rows${options.from || options.to ? ' in the range' : ''}: nothing to copy.`,
      );
      return { ...result, seconds: (Date.now() - started) / 1000 };
    }
    const targetName = { ...options.targetTable, schema: options.targetTable.schema ?? 'public' };
    const span = { from: bounds.from, to: bounds.to };
    const targetTable = await prepareTarget(target, sourceTable, targetName, span, { options, result });
    const shape = targetTable
      ? await describeTarget(target, options.target, targetTable)
      : { kind: 'plain' as const, intervalMs: 86_400_000, timescaleVersion: await timescaleVersion(target) };
    if (!targetTable && !options.dryRun) {
      throw new ConfigurationError(
        `${targetName.origin.title}: ${nameOf(targetName)} does not exist in ${options.target.display} and ` +
          `${options.setupOrigin} is none: create it, or set ${options.setupOrigin} to auto.`,
      );
    }
    const tables = targetTable ? copyTables(sourceTable, targetTable, options.timeColumn) : undefined;
    result.targetTable = targetTable ? `${targetTable.schema}.${targetTable.name}` : result.targetTable;
    result.timescaleVersion = shape.timescaleVersion;
    if (!options.dryRun) result.shape = shape.kind;
    if (targetTable && shape.retention) warnOfRetention(result.targetTable, shape.retention, bounds.from, options.warn);

    const ranges = planRanges(bounds.from, bounds.to, shape.intervalMs, options.shard);
    const sourceIdentity = `${options.source.host}/${options.source.database}/${result.sourceTable}`;
    const finished = await finishedRanges(target, sourceIdentity, result.targetTable);
    const todo = ranges.filter((range) => !finished.has(rangeKey(range)));
    result.skipped = ranges.length - todo.length;
    options.log(
      `${ranges.length} range(s) of ${formatSeconds(shape.intervalMs / 1000)} over ${bounds.from.toISOString()} – ` +
        `${bounds.to.toISOString()}` +
        `${options.shard.count > 1 ? ` (shard ${options.shard.index}/${options.shard.count})` : ''}: ${todo.length} ` +
        `to copy, ${result.skipped} already in the ledger`,
    );
    if (options.dryRun) {
      result.plan = await planWithCounts(source, sourceTable, options.timeColumn, ranges, finished);
      return { ...result, seconds: (Date.now() - started) / 1000 };
    }
    await ensureLedger(target);
    const hash = await chooseVerification(options, source, target, tables!);
    const copyStarted = Date.now();
    result.copied = await runWorkers(options, tables!, sourceIdentity, todo, hash);
    result.rowsCopied = result.copied.reduce((sum, copied) => sum + copied.rows, 0);
    result.seconds = (Date.now() - copyStarted) / 1000;
    return result;
  } finally {
    await closeBoth({ source, target });
  }
}

/**
 * The target table, checked against the source when it exists, and set up (setup: auto, not a dry run) from its own
 * columns or the source's. Notes in the result which candles setup: auto makes.
 */
async function prepareTarget(
  target: pg.Client,
  sourceTable: ResolvedTable,
  targetName: TableName & { schema: string },
  range: { from: Date; to: Date },
  { options, result }: { options: MigrateOptions; result: MigrationResult },
): Promise<ResolvedTable | undefined> {
  const existing = await findTable(target, targetName);
  if (existing) checkTargetColumns(sourceTable, existing, options);
  if (options.setup !== 'auto') return existing;
  const { definition, noCandles } = defineTickTable(existing ?? sourceTable, options.timeColumn, options.candles);
  if (noCandles) options.warn(noCandles);
  result.candles = definition.candles
    ? `${CANDLE_VIEWS.join(', ')}: ${describeCandles(definition.candles)}`
    : 'none (see the warning)';
  if (options.dryRun) return existing;
  await setupTarget(target, {
    database: options.target,
    table: targetName,
    definition,
    range,
    setupOrigin: options.setupOrigin,
  });
  return findTable(target, targetName);
}

/**
 * A retention policy drops whole chunks older than its drop_after, whoever put the rows there: ticks copied from
 * before that horizon are gone at the policy's next run, and the candle refreshes (a day back at most) never see
 * them. setup: auto adds a 90-day policy, and a history migration is usually older than that. The copy goes on (it
 * may be what the team wants); the warning says before the copy what will be dropped and how to keep it.
 */
function warnOfRetention(table: string, policy: RetentionPolicy, oldest: Date, warn: (line: string) => void): void {
  if (oldest >= policy.horizon) return;
  warn(
    `${table} has a retention policy (job ${policy.job}, drop_after ${policy.dropAfter}): the ticks copied from ` +
      `before ${policy.horizon.toISOString().slice(0, 10)} (the oldest is ${oldest.toISOString()}) will be dropped ` +
      'at its next run, and no candle will hold them. To keep them, remove the policy before the copy ' +
      `(SELECT remove_retention_policy('${table}')), or copy only newer ticks (from).`,
  );
}

/**
 * Says how every range will be proven; for verify: reread, the checksum both servers can compute alike (a 64-bit
 * hash_record_extended where both have it).
 */
async function chooseVerification(
  options: MigrateOptions,
  source: pg.Client,
  target: pg.Client,
  tables: { source: RangeTable; target: RangeTable },
): Promise<HashMethod> {
  const counts = "the rows the source's COPY sent, the tuples that crossed the pipe and the rows the target stored";
  if (options.verify === 'stream') {
    options.log(`Each range is verified from its stream: ${counts} must be equal (its sha256 goes into the ledger).`);
    return 'record';
  }
  const hash = await chooseHashMethod([
    { client: source, table: tables.source },
    { client: target, table: tables.target },
  ]);
  options.log(
    `Each range is verified from its stream (${counts}), then read back on both sides for its row count and a ` +
      `${hash === 'record' ? '64-bit hash_record_extended' : 'hashtext(row::text)'} checksum.`,
  );
  return hash;
}

/** A source and a target session, pinned to the same settings; neither is left open if the other fails. */
async function connectBoth(options: MigrateOptions): Promise<{ source: pg.Client; target: pg.Client }> {
  const source = await connect(options.source);
  try {
    const target = await connect(options.target);
    try {
      await refuseOneDatabase(source, target, options);
      await Promise.all([pinSession(source), pinSession(target)]);
    } catch (error) {
      await target.end().catch(() => undefined);
      throw error;
    }
    return { source, target };
  } catch (error) {
    // An open connection would keep the process alive after the error.
    await source.end().catch(() => undefined);
    throw error;
  }
}

async function closeBoth(pair: { source: pg.Client; target: pg.Client }): Promise<void> {
  await Promise.all([pair.source.end().catch(() => undefined), pair.target.end().catch(() => undefined)]);
}

/**
 * The same database as source and target would "migrate" the table onto itself (or beside itself) and verify it
 * against itself: a typo, never a migration. Told by the server's identity, not the URLs' text (localhost and
 * 127.0.0.1, a pooler in front): the cluster's system identifier where the user may read it, else the postmaster's
 * start time, with the database's oid. Before anything is written.
 */
async function refuseOneDatabase(source: pg.Client, target: pg.Client, options: MigrateOptions): Promise<void> {
  const [from, to] = await Promise.all([serverIdentity(source), serverIdentity(target)]);
  if (from.identity !== to.identity) return;
  throw new ConfigurationError(
    `${options.source.origin.title} and ${options.target.origin} reach the same database (${from.database} on the ` +
      `server ${from.server}): nothing would move. Point ${options.target.origin} at the database the ticks go to.`,
  );
}

async function serverIdentity(client: pg.Client): Promise<{ identity: string; server: string; database: string }> {
  const { rows } = await client.query<{ server: string; database: string; oid: string }>(`
    SELECT CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE')
                THEN 'with system identifier ' || (SELECT system_identifier FROM pg_control_system())::text
                ELSE 'started at ' || pg_postmaster_start_time()::text END AS server,
           current_database() AS database,
           (SELECT oid FROM pg_database WHERE datname = current_database())::text AS oid`);
  const row = rows[0]!;
  return { identity: `${row.server}/${row.oid}`, server: row.server, database: row.database };
}

function nameOf(table: TableName): string {
  return table.schema ? `${table.schema}.${table.name}` : table.name;
}

/** from/to as given, else the source's first and last timestamps (to just past the last). */
async function timeBounds(
  source: pg.Client,
  table: ResolvedTable,
  options: MigrateOptions,
): Promise<{ from?: Date; to?: Date }> {
  if (options.from && options.to) return { from: options.from, to: options.to };
  const time = quoteIdent(options.timeColumn);
  const { rows } = await source.query<{ first: Date | null; last: Date | null }>(
    `SELECT min(${time}) AS first, max(${time}) AS last FROM ${qualified(table.schema, table.name)}
     WHERE ($1::timestamptz IS NULL OR ${time} >= $1) AND ($2::timestamptz IS NULL OR ${time} < $2)`,
    [options.from ?? null, options.to ?? null],
  );
  const first = rows[0]?.first;
  const last = rows[0]?.last;
  if (!first || !last) return {};
  // max() is the last row itself: one millisecond past it (timestamps are microseconds; Date has milliseconds).
  return { from: options.from ?? first, to: options.to ?? new Date(Math.floor(last.getTime()) + 1) };
}

/**
 * An existing target must take every one of its columns from the source (by name; types may differ, the copy casts);
 * source columns the target lacks are not copied, which is said once.
 */
function checkTargetColumns(source: ResolvedTable, target: ResolvedTable, options: MigrateOptions): void {
  assertTimeColumn(target, options.timeColumn, options.target.display, options.timeColumnOrigin);
  const names = (table: ResolvedTable, others: ResolvedTable): string[] =>
    table.columns.filter((column) => !others.columns.some((c) => c.name === column.name)).map((c) => c.name);
  const lacking = names(target, source);
  const targetName = `${target.schema}.${target.name}`;
  if (lacking.length > 0) {
    const auto =
      `With ${options.setupOrigin} auto, a missing target is created from the source's columns, but an existing ` +
      `table is never changed: drop or rename ${targetName} and run again, or give the source those columns.`;
    const none =
      `Drop those columns from ${targetName}, give the source those columns, or drop ${targetName} and set ` +
      `${options.setupOrigin} to auto to create it from the source's columns.`;
    throw new ConfigurationError(
      `Target ${targetName} already exists with column(s) ${lacking.join(', ')} that source ` +
        `${source.schema}.${source.name} lacks. ${options.setup === 'auto' ? auto : none}`,
    );
  }
  const uncopied = names(source, target);
  if (uncopied.length > 0) {
    options.warn(
      `Source column(s) ${uncopied.join(', ')} of ${source.schema}.${source.name} are not in target ${targetName}: ` +
        'they are not copied.',
    );
  }
}

/** Target columns, taken from the source by name and cast to the target's types where they differ. */
function copyTables(
  source: ResolvedTable,
  target: ResolvedTable,
  timeColumn: string,
): { source: RangeTable; target: RangeTable } {
  const columns = target.columns.map((column) => column.name);
  const casts = target.columns.map((column) =>
    source.columns.find((c) => c.name === column.name)!.type === column.type ? undefined : column.type,
  );
  return {
    source: { schema: source.schema, name: source.name, timeColumn, columns, casts },
    target: { schema: target.schema, name: target.name, timeColumn, columns },
  };
}

async function planWithCounts(
  source: pg.Client,
  table: ResolvedTable,
  timeColumn: string,
  ranges: TimeRange[],
  finished: Set<string>,
): Promise<PlannedRange[]> {
  const plan: PlannedRange[] = [];
  const time = quoteIdent(timeColumn);
  for (const range of ranges) {
    const { rows } = await source.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${qualified(table.schema, table.name)} WHERE ${time} >= $1 AND ${time} < $2`,
      [range.start, range.end],
    );
    plan.push({ range, sourceRows: Number(rows[0]!.n), done: finished.has(rangeKey(range)) });
  }
  return plan;
}

/** `workers` connections pairs take ranges from one queue; the first failure stops the others taking more. */
async function runWorkers(
  options: MigrateOptions,
  tables: { source: RangeTable; target: RangeTable },
  sourceIdentity: string,
  todo: TimeRange[],
  hash: HashMethod,
): Promise<RangeResult[]> {
  const queue = [...todo];
  const done: RangeResult[] = [];
  const started = Date.now();
  let failure: unknown;
  const worker = async (): Promise<void> => {
    let pair = await connectBoth(options);
    // A failed attempt may have closed the source session (copy.ts): every retry starts on a new pair.
    const freshPair = async (): Promise<void> => {
      await closeBoth(pair);
      pair = await connectBoth(options);
    };
    try {
      for (let range = queue.shift(); range && !failure; range = queue.shift()) {
        try {
          const job = { ...tables, sourceIdentity, range, hash, verify: options.verify };
          const result = await copyWithRetry(range, options.log, async (attempt) => {
            if (attempt > 1) await freshPair();
            return copyRange(pair.source, pair.target, job);
          });
          done.push(result);
          logProgress(options.log, result, done, todo.length, started);
        } catch (error) {
          failure ??= error;
        }
      }
    } finally {
      await closeBoth(pair);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.workers, Math.max(todo.length, 1)) }, worker));
  if (failure)
    throw new Error(
      `${errorMessage(failure)} (${done.length} of ${todo.length} ranges were copied and recorded; rerun to resume.)`,
    );
  return done;
}

/** PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back whole, by design. */
const TRANSIENT = new Set(['40P01', '40001']);
const ATTEMPTS = 4;

/**
 * A range again when the server rolled it back for a deadlock: two workers whose COPYs create TimescaleDB chunks at
 * the same moment can deadlock on the hypertable's catalog, and PostgreSQL then aborts one of them. A range is one
 * transaction (rows and ledger entry), so nothing of the aborted attempt remains; after a short, jittered pause
 * the range is copied again, up to ATTEMPTS times.
 */
async function copyWithRetry(
  range: TimeRange,
  log: (line: string) => void,
  copy: (attempt: number) => Promise<RangeResult>,
): Promise<RangeResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await copy(attempt);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !TRANSIENT.has(code) || attempt === ATTEMPTS) throw error;
      const pause = 100 * 2 ** attempt * (0.5 + Math.random());
      log(
        `${describeRange(range)}: ${errorMessage(error)} (the server rolled the range back whole): copying it again ` +
          `in ${Math.round(pause)} ms (attempt ${attempt + 1} of ${ATTEMPTS}).`,
      );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function logProgress(
  log: (line: string) => void,
  result: RangeResult,
  done: RangeResult[],
  total: number,
  started: number,
): void {
  const elapsed = (Date.now() - started) / 1000;
  const rows = done.reduce((sum, r) => sum + r.rows, 0);
  const eta = done.length < total ? `, ETA ${formatSeconds((elapsed / done.length) * (total - done.length))}` : '';
  log(
    `${describeRange(result.range)}: ${formatCount(result.rows)} rows in ${result.seconds.toFixed(1)} s ` +
      `(${formatCount(Math.round(result.rows / Math.max(result.seconds, 0.001)))} rows/s) — ${done.length}/${total} ` +
      `ranges, ` +
      `${formatCount(Math.round(rows / Math.max(elapsed, 0.001)))} rows/s overall${eta}`,
  );
}
