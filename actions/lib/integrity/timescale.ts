import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import { fail, pass, warn, type CheckResult, type CheckStatus } from './check.ts';

// ---------------------------------------------------------------------------------------------------------------
// Catalog queries
//
// TimescaleDB catalog queries, as plain SQL, each one run by test/integration/sql-timescaledb.test.ts (the first
// six) or test/integration/integrity-timescale.test.ts (the rest) against TimescaleDB 2.23 (WASM build) and, in CI,
// a real TimescaleDB image. Only the public `timescaledb_information` views and `pg_extension`/`pg_class` are read
// (stable across 2.x), never `_timescaledb_catalog`.
//
// A table parameter (`$1`) is a table name as the caller would write it — `tick_data` (resolved through the
// search_path) or `ticks.tick_data` — compared by regclass, so the schema never has to be passed separately.
// A name that does not exist simply matches no row.

/** (schema, name) of the table named by $1, or no row. */
const TABLE_NAME_OF_PARAM = `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`;

/** Chunk interval of a hypertable's primary (time) dimension. $1 = hypertable name.
 *  Columns: chunk_interval (interval; null for integer time columns), chunk_interval_seconds (bigint). */
export const HYPERTABLE_INTERVAL_SQL = `
SELECT d.time_interval AS chunk_interval,
       extract(epoch FROM d.time_interval)::bigint AS chunk_interval_seconds
FROM timescaledb_information.dimensions d
WHERE (d.hypertable_schema, d.hypertable_name) = (${TABLE_NAME_OF_PARAM})
  AND d.dimension_number = 1`;

/** Installed TimescaleDB version (e.g. '2.23.0'); no row when the extension is absent. Column: extversion. */
export const TIMESCALEDB_VERSION_SQL = `
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`;

/** Policy jobs attached to a hypertable. $1 = hypertable name.
 *  proc_name in 2.x: 'policy_compression' (the columnstore policy: add_columnstore_policy and the older
 *  add_compression_policy create the same job, config.compress_after), 'policy_retention' (config.drop_after),
 *  'policy_reorder'. A continuous aggregate's refresh policy is listed under the view (2.23 names the view in
 *  jobs.hypertable_name; older 2.x named its materialization hypertable), never under the raw table: see
 *  CAGG_REFRESH_POLICIES_SQL.
 *  Columns: job_id, application_name, proc_name, config (jsonb), schedule_interval, scheduled. */
export const POLICIES_SQL = `
SELECT j.job_id, j.application_name, j.proc_name, j.config, j.schedule_interval, j.scheduled
FROM timescaledb_information.jobs j
WHERE (j.hypertable_schema, j.hypertable_name) = (${TABLE_NAME_OF_PARAM})
ORDER BY j.job_id`;

/** Every continuous aggregate with what it is built on. parent_view_* is the finer continuous aggregate for a
 *  hierarchical one (5m on 1m) and null when it reads a hypertable directly; source_* is the hypertable it reads
 *  (for a hierarchical one, the parent's materialization hypertable).
 *  Columns: view_schema, view_name, materialized_only, source_schema, source_table, parent_view_schema,
 *  parent_view_name, materialization_hypertable_schema, materialization_hypertable_name. */
export const CAGGS_SQL = `
SELECT c.view_schema, c.view_name, c.materialized_only,
       c.hypertable_schema AS source_schema, c.hypertable_name AS source_table,
       p.view_schema AS parent_view_schema, p.view_name AS parent_view_name,
       c.materialization_hypertable_schema, c.materialization_hypertable_name
FROM timescaledb_information.continuous_aggregates c
LEFT JOIN timescaledb_information.continuous_aggregates p
  ON p.materialization_hypertable_schema = c.hypertable_schema
 AND p.materialization_hypertable_name = c.hypertable_name
ORDER BY c.view_schema, c.view_name`;

/** Refresh policy of every continuous aggregate (none → no row for that view). Matches the job on the view name
 *  (what 2.23's jobs view shows) or on the materialization hypertable (what older 2.x showed; job_stats still does).
 *  config holds start_offset, end_offset, mat_hypertable_id.
 *  Columns: view_schema, view_name, job_id, config (jsonb), schedule_interval, scheduled. */
export const CAGG_REFRESH_POLICIES_SQL = `
SELECT c.view_schema, c.view_name, j.job_id, j.config, j.schedule_interval, j.scheduled
FROM timescaledb_information.continuous_aggregates c
JOIN timescaledb_information.jobs j
  ON j.proc_name = 'policy_refresh_continuous_aggregate'
 AND (j.hypertable_schema, j.hypertable_name) IN ((c.view_schema, c.view_name),
                                                  (c.materialization_hypertable_schema, c.materialization_hypertable_name))
ORDER BY c.view_schema, c.view_name, j.job_id`;

/** Jobs whose last run failed (all jobs, not only policies). hypertable_* as in the jobs view (a refresh policy
 *  shows its continuous aggregate on 2.23); null for jobs not tied to a table.
 *  Columns: job_id, application_name, proc_schema, proc_name, hypertable_schema, hypertable_name,
 *  last_run_started_at, last_run_status, total_failures, next_start. */
export const FAILING_JOBS_SQL = `
SELECT s.job_id, j.application_name, j.proc_schema, j.proc_name, j.hypertable_schema, j.hypertable_name,
       s.last_run_started_at, s.last_run_status, s.total_failures, s.next_start
FROM timescaledb_information.job_stats s
JOIN timescaledb_information.jobs j ON j.job_id = s.job_id
WHERE s.last_run_status = 'Failed'
ORDER BY s.job_id`;

/** (schema, name) of the relation named by $1, or no row; raises on a malformed name (e.g. too many dots).
 *  Columns: nspname, relname. */
export const RELATION_NAME_SQL = TABLE_NAME_OF_PARAM;

/** A policy of one kind on a hypertable: its setting as text and whether it equals an expected interval.
 *  $1 = hypertable name, $2 = proc_name ('policy_compression' | 'policy_retention'), $3 = config key
 *  ('compress_after' | 'drop_after'), $4 = expected interval. matches is null when the setting is not an interval
 *  (an integer time column's policy, or compress_created_before instead of compress_after).
 *  Columns: job_id, scheduled, setting (text), config (jsonb), matches. */
export const POLICY_SETTING_SQL = `
SELECT p.job_id, p.scheduled, p.config ->> $3::text AS setting, p.config,
       CASE WHEN jsonb_typeof(p.config -> $3::text) = 'string'
            THEN (p.config ->> $3::text)::interval = $4::interval END AS matches
FROM (${POLICIES_SQL}) p
WHERE p.proc_name = $2::text`;

/** Last successful run of each continuous aggregate's refresh policy and whether it is within $1 (an interval) of
 *  now(). job_stats.last_successful_finish is null before the job's first run and -infinity after runs that all
 *  failed (TimescaleDB's "no time yet"): both mean never. One row per refresh policy.
 *  Columns: view_schema, view_name, job_id, scheduled, last_refresh (text, UTC), age (text), fresh (null when never). */
export const CAGG_FRESHNESS_SQL = `
SELECT r.view_schema, r.view_name, r.job_id, r.scheduled,
       to_char(f.finished AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') AS last_refresh,
       date_trunc('second', now() - f.finished)::text AS age,
       f.finished > now() - $1::interval AS fresh
FROM (${CAGG_REFRESH_POLICIES_SQL}) r
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = r.job_id
CROSS JOIN LATERAL (SELECT CASE WHEN isfinite(s.last_successful_finish) THEN s.last_successful_finish END AS finished) f
ORDER BY r.view_schema, r.view_name, r.job_id`;

/** The latest recorded error of each job in $1 (int[]), from timescaledb_information.job_errors (2.15+ a view over
 *  the job history, which policy_job_stat_history_retention trims after a month). A job may have none recorded.
 *  Columns: job_id, finish_time (text, UTC), err_message. */
export const LAST_JOB_ERRORS_SQL = `
SELECT DISTINCT ON (e.job_id) e.job_id,
       to_char(e.finish_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"') AS finish_time, e.err_message
FROM timescaledb_information.job_errors e
WHERE e.job_id = ANY ($1::int[])
ORDER BY e.job_id, e.finish_time DESC NULLS LAST`;

// ---------------------------------------------------------------------------------------------------------------
// The check

export interface TimescaleExpectation {
  /** e.g. "tick_data" (through the search_path) or "public.tick_data" */
  hypertable: string;
  /** e.g. "1 day" (compared as an interval in SQL: "24 hours" is the same) */
  chunkInterval?: string;
  /** e.g. "30 days": the columnstore (compression) policy's compress_after */
  columnstoreAfter?: string;
  /** e.g. "90 days": the retention policy's drop_after */
  retention?: string;
  /** Continuous aggregate view names that must exist on the hypertable (directly or built on one that does). */
  aggregates?: string[];
  /** e.g. "2 hours": each aggregate's last successful refresh must be newer than now() - maxLag */
  maxLag?: string;
}

const INTERVAL_FIELDS = ['chunkInterval', 'columnstoreAfter', 'retention', 'maxLag'] as const;

/**
 * One result per aspect: extension, chunk interval (also: is it a hypertable), then only what the expectation asks
 * for — columnstore policy, retention policy, continuous aggregates, aggregate freshness (with maxLag) — and jobs.
 * Without the extension only the extension result is returned; without the hypertable, the first two.
 */
export async function checkTimescale(db: pg.Client, expectation: TimescaleExpectation): Promise<CheckResult[]> {
  await validateIntervals(db, expectation);
  const name = (aspect: string) => `timescaledb: ${expectation.hypertable} ${aspect}`;
  const version = (await db.query<{ extversion: string }>(TIMESCALEDB_VERSION_SQL)).rows[0]?.extversion;
  if (version === undefined) {
    return [fail('timescaledb: extension', `the timescaledb extension is not installed in this database; expected it, with hypertable ${expectation.hypertable}`)];
  }
  const results = [pass('timescaledb: extension', `timescaledb ${version} is installed`, { version })];
  const hypertable = await resolveHypertable(db, expectation);
  results.push(checkChunkInterval(expectation, hypertable, name('chunk interval')));
  if (hypertable === undefined || !hypertable.isHypertable) return results;

  if (expectation.columnstoreAfter !== undefined) results.push(await checkPolicy(db, expectation, COLUMNSTORE, expectation.columnstoreAfter, name('columnstore policy')));
  if (expectation.retention !== undefined) results.push(await checkPolicy(db, expectation, RETENTION, expectation.retention, name('retention policy')));
  const aggregates = aggregatesOf(hypertable, await queryRows<CaggRow>(db, CAGGS_SQL));
  if (expectation.aggregates !== undefined) results.push(await checkAggregates(db, expectation.aggregates, hypertable, aggregates, name('continuous aggregates')));
  if (expectation.maxLag !== undefined) results.push(await checkFreshness(db, expectation, aggregates, name('aggregate freshness')));
  results.push(await checkJobs(db, hypertable, aggregates, name('jobs')));
  return results;
}

async function queryRows<T extends pg.QueryResultRow>(db: pg.Client, text: string, values?: unknown[]): Promise<T[]> {
  return (await db.query<T>(text, values)).rows;
}

/** A typo in an interval is the caller's to fix, so it is reported before anything is checked. */
async function validateIntervals(db: pg.Client, expectation: TimescaleExpectation): Promise<void> {
  for (const field of INTERVAL_FIELDS) {
    const value = expectation[field];
    if (value === undefined) continue;
    try {
      await db.query('SELECT $1::interval', [value]);
    } catch (error) {
      throw new ConfigurationError(`TimescaleDB check of ${expectation.hypertable}: ${field} "${value}" is not an interval (${errorMessage(error)}); write e.g. "1 day", "30 days", "2 hours".`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Hypertable and chunk interval

interface Relation {
  schema: string;
  name: string;
}

interface Hypertable extends Relation {
  isHypertable: boolean;
  /** The chunk interval as text ("1 day"); null for an integer time column. */
  interval: string | null;
  /** Whether it equals the expected chunk interval (null when none is expected or the column is an integer). */
  matches: boolean | null;
}

const key = (relation: Relation) => `${relation.schema}.${relation.name}`;

async function resolveRelation(db: pg.Client, name: string, what: string): Promise<Relation | undefined> {
  let rows: { nspname: string; relname: string }[];
  try {
    rows = await queryRows(db, RELATION_NAME_SQL, [name]);
  } catch (error) {
    throw new ConfigurationError(`TimescaleDB check: ${what} "${name}" is not a relation name: ${errorMessage(error)}.`);
  }
  return rows[0] && { schema: rows[0].nspname, name: rows[0].relname };
}

/** The table (undefined when it does not exist) and, when it is a hypertable, its chunk interval. */
async function resolveHypertable(db: pg.Client, expectation: TimescaleExpectation): Promise<Hypertable | undefined> {
  const table = await resolveRelation(db, expectation.hypertable, 'hypertable');
  if (!table) return undefined;
  const [row] = await queryRows<{ interval: string | null; matches: boolean | null }>(db, `
    SELECT h.chunk_interval::text AS interval, h.chunk_interval = $2::interval AS matches
    FROM (${HYPERTABLE_INTERVAL_SQL}) h`, [expectation.hypertable, expectation.chunkInterval ?? null]);
  return { ...table, isHypertable: row !== undefined, interval: row?.interval ?? null, matches: row?.matches ?? null };
}

function checkChunkInterval(expectation: TimescaleExpectation, hypertable: Hypertable | undefined, name: string): CheckResult {
  const expected = expectation.chunkInterval;
  const wanted = expected === undefined ? 'expected a hypertable' : `expected a hypertable with ${expected} chunks`;
  if (!hypertable) return fail(name, `${expectation.hypertable} does not exist; ${wanted}`);
  const details = { table: key(hypertable), chunkInterval: hypertable.interval, expected: expected ?? null };
  if (!hypertable.isHypertable) return fail(name, `${key(hypertable)} is a plain table, not a hypertable; ${wanted}`, details);
  if (expected === undefined) {
    return pass(name, `${key(hypertable)} is a hypertable ${hypertable.interval === null ? 'on an integer column' : `with ${hypertable.interval} chunks`}`, details);
  }
  if (hypertable.interval === null) {
    return fail(name, `${key(hypertable)} is partitioned on an integer column, so its chunk interval is not an interval; expected ${expected}`, details);
  }
  if (!hypertable.matches) return fail(name, `${key(hypertable)} has ${hypertable.interval} chunks; expected ${expected}`, details);
  return pass(name, `${key(hypertable)} has ${hypertable.interval} chunks, as expected`, details);
}

// ---------------------------------------------------------------------------------------------------------------
// Policies

interface PolicyKind {
  proc: string;
  setting: string;
  /** What the policy does, for findings: "moves chunks to the columnstore after". */
  does: string;
  label: string;
}

const COLUMNSTORE: PolicyKind = { proc: 'policy_compression', setting: 'compress_after', does: 'moves chunks to the columnstore after', label: 'columnstore policy' };
const RETENTION: PolicyKind = { proc: 'policy_retention', setting: 'drop_after', does: 'drops chunks older than', label: 'retention policy' };

async function checkPolicy(db: pg.Client, expectation: TimescaleExpectation, kind: PolicyKind, expected: string, name: string): Promise<CheckResult> {
  const [policy] = await queryRows<{ job_id: number; scheduled: boolean; setting: string | null; config: unknown; matches: boolean | null }>(
    db, POLICY_SETTING_SQL, [expectation.hypertable, kind.proc, kind.setting, expected]);
  const table = expectation.hypertable;
  if (!policy) return fail(name, `${table} has no ${kind.label}; expected one that ${kind.does} ${expected}`, { expected });
  const details = { jobId: policy.job_id, scheduled: policy.scheduled, config: policy.config, expected };
  // Another setting (compress_created_before, an integer) is named by its config, which says what it does.
  const actual = policy.setting ?? JSON.stringify(policy.config);
  if (!policy.matches) return fail(name, `${table}'s ${kind.label} (job ${policy.job_id}) ${kind.does} ${actual}; expected ${expected}`, details);
  // A paused policy is present but does nothing: the data it should move or drop piles up.
  if (!policy.scheduled) return fail(name, `${table}'s ${kind.label} (job ${policy.job_id}) is paused (scheduled = false); expected it running, ${expected}`, details);
  return pass(name, `${table}'s ${kind.label} (job ${policy.job_id}) ${kind.does} ${actual}`, details);
}

// ---------------------------------------------------------------------------------------------------------------
// Continuous aggregates

interface CaggRow {
  view_schema: string;
  view_name: string;
  source_schema: string;
  source_table: string;
  parent_view_schema: string | null;
  parent_view_name: string | null;
  materialization_hypertable_schema: string;
  materialization_hypertable_name: string;
}

/** The continuous aggregates built on the hypertable: on it directly, or on one of these (hierarchical). */
function aggregatesOf(hypertable: Relation, caggs: CaggRow[]): CaggRow[] {
  const found: CaggRow[] = [];
  const bases = new Set([key(hypertable)]);
  const materializations = new Map<string, string>(); // materialization hypertable → its view
  for (let grew = true; grew; ) {
    grew = false;
    for (const cagg of caggs) {
      const view = `${cagg.view_schema}.${cagg.view_name}`;
      const source = `${cagg.source_schema}.${cagg.source_table}`;
      const onBase = bases.has(source) || bases.has(materializations.get(source) ?? '');
      if (onBase && !bases.has(view)) {
        found.push(cagg);
        bases.add(view);
        materializations.set(`${cagg.materialization_hypertable_schema}.${cagg.materialization_hypertable_name}`, view);
        grew = true;
      }
    }
  }
  return found;
}

const viewOf = (cagg: CaggRow) => `${cagg.view_schema}.${cagg.view_name}`;

async function checkAggregates(db: pg.Client, expected: string[], hypertable: Relation, aggregates: CaggRow[], name: string): Promise<CheckResult> {
  const ours = new Set(aggregates.map(viewOf));
  const problems: string[] = [];
  for (const view of expected) {
    const relation = await resolveRelation(db, view, 'continuous aggregate');
    if (!relation) problems.push(`${view} does not exist`);
    else if (!ours.has(key(relation))) problems.push(`${view} is not a continuous aggregate of ${key(hypertable)}`);
  }
  const details = { expected, found: [...ours] };
  if (problems.length > 0) return fail(name, `${problems.join('; ')}; expected ${expected.join(', ')}`, details);
  return pass(name, `${key(hypertable)} has ${expected.length === 1 ? 'its continuous aggregate' : `all ${expected.length} continuous aggregates`}: ${expected.join(', ')}`, details);
}

interface FreshnessRow {
  view_schema: string;
  view_name: string;
  job_id: number;
  scheduled: boolean;
  last_refresh: string | null;
  age: string | null;
  fresh: boolean | null;
}

/** Each aggregate's last successful refresh against maxLag: stale or without a policy fails, never refreshed warns. */
async function checkFreshness(db: pg.Client, expectation: TimescaleExpectation, aggregates: CaggRow[], name: string): Promise<CheckResult> {
  const maxLag = expectation.maxLag!;
  const targets = await freshnessTargets(db, expectation, aggregates);
  if (targets.length === 0) return warn(name, `${expectation.hypertable} has no continuous aggregates to hold to a ${maxLag} lag`, { maxLag });
  const rows = await queryRows<FreshnessRow>(db, CAGG_FRESHNESS_SQL, [maxLag]);
  const verdicts = targets.map((view) => freshnessOf(view, rows.filter((row) => `${row.view_schema}.${row.view_name}` === view)));
  const status = worst(verdicts.map((verdict) => verdict.status));
  const details = { maxLag, aggregates: verdicts };
  if (status === 'pass') return pass(name, `all ${targets.length} continuous aggregates refreshed within ${maxLag}`, details);
  const problems = verdicts.filter((verdict) => verdict.status !== 'pass').map((verdict) => `${verdict.view} ${verdict.finding}`);
  return (status === 'fail' ? fail : warn)(name, `${problems.join('; ')}; expected a successful refresh within ${maxLag}`, details);
}

/** The expected aggregates that exist (missing ones are the aggregates result's finding), else all of the hypertable's. */
async function freshnessTargets(db: pg.Client, expectation: TimescaleExpectation, aggregates: CaggRow[]): Promise<string[]> {
  const ours = aggregates.map(viewOf);
  if (expectation.aggregates === undefined) return ours;
  const targets: string[] = [];
  for (const view of expectation.aggregates) {
    const relation = await resolveRelation(db, view, 'continuous aggregate');
    if (relation && ours.includes(key(relation))) targets.push(key(relation));
  }
  return targets;
}

function freshnessOf(view: string, policies: FreshnessRow[]): { view: string; status: CheckStatus; finding: string; jobId?: number; lastRefresh?: string | null } {
  // Nothing refreshes an aggregate without a policy (or with its policy paused): it only grows staler.
  const [policy] = policies;
  if (!policy) return { view, status: 'fail', finding: 'has no refresh policy' };
  const at = { jobId: policy.job_id, lastRefresh: policy.last_refresh };
  if (policy.fresh === null) return { view, status: 'warn', finding: `was never refreshed (job ${policy.job_id})`, ...at };
  if (!policy.fresh) return { view, status: 'fail', finding: `was last refreshed ${policy.last_refresh}, ${policy.age} ago (job ${policy.job_id})`, ...at };
  if (!policy.scheduled) return { view, status: 'fail', finding: `has its refresh policy paused (job ${policy.job_id}, scheduled = false)`, ...at };
  return { view, status: 'pass', finding: `was refreshed ${policy.last_refresh}`, ...at };
}

function worst(statuses: CheckStatus[]): CheckStatus {
  return statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';
}

// ---------------------------------------------------------------------------------------------------------------
// Jobs

interface FailingJob {
  job_id: number;
  proc_name: string;
  hypertable_schema: string | null;
  hypertable_name: string | null;
  last_run_started_at: Date | number | null;
  total_failures: string | number | null;
}

/** Jobs of the hypertable and its aggregates (by view, or by materialization hypertable on older 2.x) whose last run failed. */
async function checkJobs(db: pg.Client, hypertable: Relation, aggregates: CaggRow[], name: string): Promise<CheckResult> {
  const ours = new Set([key(hypertable), ...aggregates.map(viewOf), ...aggregates.map((c) => `${c.materialization_hypertable_schema}.${c.materialization_hypertable_name}`)]);
  const failing = (await queryRows<FailingJob>(db, FAILING_JOBS_SQL)).filter((job) => ours.has(`${job.hypertable_schema}.${job.hypertable_name}`));
  const scope = `${key(hypertable)}${aggregates.length > 0 ? ` and its ${aggregates.length} continuous aggregate${aggregates.length === 1 ? '' : 's'}` : ''}`;
  if (failing.length === 0) return pass(name, `no job of ${scope} failed its last run`);
  const errors = await lastErrors(db, failing.map((job) => job.job_id));
  const described = failing.map((job) => describeFailure(job, errors.get(job.job_id)));
  const details = failing.map((job) => ({ jobId: job.job_id, proc: job.proc_name, table: `${job.hypertable_schema}.${job.hypertable_name}`, totalFailures: Number(job.total_failures), lastError: errors.get(job.job_id) ?? null }));
  return fail(name, `${failing.length} job${failing.length === 1 ? '' : 's'} of ${scope} failing: ${described.join('; ')}`, details);
}

interface JobError {
  finish_time: string | null;
  err_message: string | null;
}

/** The latest recorded error per job; none when the history holds none (trimmed, or a server without job_errors). */
async function lastErrors(db: pg.Client, jobIds: number[]): Promise<Map<number, JobError>> {
  try {
    const rows = await queryRows<JobError & { job_id: number }>(db, LAST_JOB_ERRORS_SQL, [jobIds]);
    return new Map(rows.map((row) => [row.job_id, { finish_time: row.finish_time, err_message: row.err_message }]));
  } catch (error) {
    // The error text is a bonus (the failure itself is known from job_stats): a server without the view has none.
    if ((error as { code?: string }).code === '42P01') return new Map();
    throw error;
  }
}

/** Names the job and when it last failed: the recorded error's time, else (history trimmed) the failed run's start. */
function describeFailure(job: FailingJob, error: JobError | undefined): string {
  // pg turns -infinity (TimescaleDB's "not yet") into a number, not a Date.
  const startedAt = job.last_run_started_at;
  const started = startedAt instanceof Date && !Number.isNaN(startedAt.getTime()) ? `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'at an unknown time';
  const when = error?.finish_time ?? started;
  const message = error?.err_message ? `: ${error.err_message}` : '';
  return `job ${job.job_id} (${job.proc_name} on ${job.hypertable_name}) last failed ${when}${message}`;
}
