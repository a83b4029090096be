// The TimescaleDB catalog of one database as the comparison of two databases reads it (catalog.ts). Plain SQL over
// the public timescaledb_information views (2.x), never _timescaledb_catalog, run by
// test/integration/integrity-timescale-parity.test.ts against the real TimescaleDB and by
// test/integration/integrity-timescale.test.ts against the WASM build. Names are schema and name apart, unquoted.

/** The extension's version and the schema its functions live in. Columns: version, schema. */
export const EXTENSION_SQL = `
SELECT e.extversion AS version, n.nspname AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'timescaledb'`;

/** Every hypertable the user made (continuous aggregates' materialization hypertables are not listed by the view),
 *  with its time dimension, any further dimension, and its chunks. chunk_interval is an interval as text, or an
 *  integer for an integer time column. other_dimensions: e.g. "symbol (4 partitions)", null when none.
 *  Columns: schema, name, columnstore, time_column, time_type, chunk_interval, other_dimensions, chunks,
 *  compressed_chunks. */
export const HYPERTABLES_SQL = `
SELECT h.hypertable_schema AS schema, h.hypertable_name AS name, h.compression_enabled AS columnstore,
       d.column_name::text AS time_column, d.column_type::text AS time_type,
       coalesce(d.time_interval::text, d.integer_interval::text) AS chunk_interval,
       (SELECT string_agg(format('%s (%s)', o.column_name, coalesce(o.num_partitions || ' partitions',
                                 o.time_interval::text, o.integer_interval::text)), ', ' ORDER BY o.dimension_number)
        FROM timescaledb_information.dimensions o
        WHERE (o.hypertable_schema, o.hypertable_name) = (h.hypertable_schema, h.hypertable_name)
          AND o.dimension_number > 1) AS other_dimensions,
       c.chunks, c.compressed_chunks
FROM timescaledb_information.hypertables h
LEFT JOIN timescaledb_information.dimensions d
  ON (d.hypertable_schema, d.hypertable_name) = (h.hypertable_schema, h.hypertable_name) AND d.dimension_number = 1
CROSS JOIN LATERAL (
  SELECT count(*)::int AS chunks, (count(*) FILTER (WHERE k.is_compressed))::int AS compressed_chunks
  FROM timescaledb_information.chunks k
  WHERE (k.hypertable_schema, k.hypertable_name) = (h.hypertable_schema, h.hypertable_name)) c
ORDER BY 1, 2`;

/** The columnstore (compression) settings of each hypertable that has them: segmentby and orderby as written in
 *  ALTER TABLE … SET (timescaledb.segmentby = …, timescaledb.orderby = …), null when not set; the direction and
 *  NULLS placement only when they are not the default for it.
 *  Columns: schema, name, segmentby, orderby. */
export const COLUMNSTORE_SETTINGS_SQL = `
SELECT s.hypertable_schema AS schema, s.hypertable_name AS name,
       string_agg(s.attname::text, ', ' ORDER BY s.segmentby_column_index)
         FILTER (WHERE s.segmentby_column_index IS NOT NULL) AS segmentby,
       string_agg(s.attname::text || CASE WHEN s.orderby_asc THEN '' ELSE ' DESC' END
                  || CASE WHEN s.orderby_nullsfirst = s.orderby_asc
                          THEN CASE WHEN s.orderby_nullsfirst THEN ' NULLS FIRST' ELSE ' NULLS LAST' END
                          ELSE '' END,
                  ', ' ORDER BY s.orderby_column_index)
         FILTER (WHERE s.orderby_column_index IS NOT NULL) AS orderby
FROM timescaledb_information.compression_settings s
GROUP BY 1, 2
ORDER BY 1, 2`;

/** Every continuous aggregate: what it reads (its hypertable, or for a hierarchical one the aggregate it is built
 *  on, never the internal materialization name), its definition as pg_get_viewdef renders it under the session's
 *  search_path, its options, its columns, and its bucket column (the materialization's time dimension) with the
 *  width of time_bucket's first argument in microseconds (null when that is not an interval literal).
 *  Columns: schema, name, source, definition, materialized_only, columnstore, columns (text[]), bucket_column,
 *  bucket_type, bucket_micros, materialization. */
export const AGGREGATES_SQL = `
SELECT c.view_schema AS schema, c.view_name AS name,
       coalesce(p.view_schema || '.' || p.view_name, c.hypertable_schema || '.' || c.hypertable_name) AS source,
       c.view_definition AS definition, c.materialized_only, c.compression_enabled AS columnstore,
       array(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = format('%I.%I', c.view_schema, c.view_name)::regclass AND a.attnum > 0
               AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
       d.column_name::text AS bucket_column, d.column_type::text AS bucket_type,
       (extract(epoch FROM w.width::interval) * 1000000)::bigint AS bucket_micros,
       c.materialization_hypertable_schema || '.' || c.materialization_hypertable_name AS materialization
FROM timescaledb_information.continuous_aggregates c
LEFT JOIN timescaledb_information.continuous_aggregates p
  ON p.materialization_hypertable_schema = c.hypertable_schema
 AND p.materialization_hypertable_name = c.hypertable_name
LEFT JOIN timescaledb_information.dimensions d
  ON (d.hypertable_schema, d.hypertable_name) = (c.materialization_hypertable_schema,
                                                 c.materialization_hypertable_name)
 AND d.dimension_number = 1
CROSS JOIN LATERAL (SELECT substring(c.view_definition FROM $re$time_bucket\\('([^']+)'::interval$re$) AS width) w
ORDER BY 1, 2`;

/** The jobs the user made, directly or through a policy: TimescaleDB numbers its own (telemetry, job-history
 *  retention) below 1000. on_schema/on_name: the hypertable or continuous aggregate a policy is attached to (a
 *  refresh policy shows its aggregate on 2.23+, its materialization hypertable before), null for add_job jobs.
 *  Columns: job_id, proc_schema, proc_name, on_schema, on_name, schedule, scheduled, config (jsonb). */
export const JOBS_SQL = `
SELECT j.job_id, j.proc_schema::text, j.proc_name::text, j.hypertable_schema::text AS on_schema,
       j.hypertable_name::text AS on_name, j.schedule_interval::text AS schedule, j.scheduled, j.config
FROM timescaledb_information.jobs j
WHERE j.job_id >= 1000
ORDER BY j.job_id`;
