// TimescaleDB catalog queries, as plain SQL, each one run by test/integration/sql-timescaledb.test.ts (the first
// six) or test/integration/integrity-timescale.test.ts (the rest) against TimescaleDB 2.23 (WASM build) and, in CI,
// a real TimescaleDB image. Only the public `timescaledb_information` views and `pg_extension`/`pg_class` are read
// (stable across 2.x), never `_timescaledb_catalog`.
//
// A table parameter (`$1`) is a table name as the caller would write it — `tick_data` (resolved through the
// search_path) or `ticks.tick_data` — compared by regclass, so the schema never has to be passed separately.
// A name that does not exist simply matches no row.

/** (schema, name) of the table named by $1, or no row. */
const TABLE_NAME_OF_PARAM = `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1)`;

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
 AND (j.hypertable_schema, j.hypertable_name) IN (
       (c.view_schema, c.view_name),
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
 *  Columns: view_schema, view_name, job_id, scheduled, last_refresh (text, UTC), age (text),
 *  fresh (null when never). */
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
