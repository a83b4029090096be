-- Generated from actions/lib/ticks/ddl.ts by `npm run generate` (edit that file, not this one). migrate-ticks
-- (setup: auto) sends the same statements, built from the source table's own columns.
--
-- tick_data on TimescaleDB (story 1.6): a hypertable with 1-day chunks, columnstore (compression) after 30 days
-- segmented by symbol, newest first, 90-day retention, and the candle continuous aggregates candle_1m, candle_5m,
-- candle_15m and candle_1h (open/high/low/close from last_price, summed volume) with their refresh policies.
--
-- Written for TimescaleDB 2.18+ (the hypercore/columnstore names). Checked against TimescaleDB 2.23 (WASM build,
-- test/integration/sql-timescaledb.test.ts) and a real TimescaleDB 2.24 when one is installed.
--
-- How to apply
--   * Idempotent: safe to run again on a database that already has it (every step is IF NOT EXISTS or guarded).
--     It never changes settings that already exist: to change an interval, remove the policy / alter the job.
--   * Objects go into the current schema: the caller sets search_path (e.g. `SET search_path = ticks`). The
--     TimescaleDB functions live in the extension's schema (usually public): when the search_path does not reach
--     it, the statement after the extension check appends it to the session's search_path, after the caller's schemas.
--   * The extension must already exist (CREATE EXTENSION timescaledb is an operator step: it needs
--     shared_preload_libraries = 'timescaledb' on self-hosted servers and is preinstalled on Tiger Cloud); the file
--     stops with a clear error when it does not.
--   * Can be sent as one multi-statement query. Nothing here waits for data: the continuous aggregates are created
--     WITH NO DATA and their refresh policies fill them in the background (or CALL refresh_continuous_aggregate).
--   * create_hypertable refuses a non-empty plain table (no migrate_data here): create tick_data with this file
--     first, then copy the ticks in.
--
-- Servers older than 2.18 (the names this file uses did not exist yet):
--   before 2.13, create_hypertable had no by_range():
--     SELECT create_hypertable('tick_data', 'time', chunk_time_interval => INTERVAL '1 day', if_not_exists => true);
--   before 2.18, the columnstore was called compression:
--     ALTER TABLE tick_data SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol',
--                                timescaledb.compress_orderby = 'time DESC');
--     SELECT add_compression_policy('tick_data', compress_after => INTERVAL '30 days', if_not_exists => true);
--   (2.18+ still accepts these old names as deprecated aliases; the policy job is the same either way:
--    timescaledb_information.jobs.proc_name = 'policy_compression', application_name 'Columnstore Policy [n]'.)
--
-- Do NOT set timescaledb.enable_direct_compress_copy (COPY straight into compressed chunks), in this file or in the
-- session that copies ticks in: it crashed a 2.24 server in our test, and on 2.21–2.25 it loses rows when the
-- client sends them out of time order. Plain COPY into the rowstore + the columnstore policy is the supported path.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
    RAISE EXCEPTION 'sql/timescaledb/tick_data.sql: the timescaledb extension is not installed in database %',
      current_database()
      USING HINT = 'CREATE EXTENSION timescaledb (self-hosted: shared_preload_libraries must include timescaledb), '
                   'or use sql/postgres/tick_data.sql for plain PostgreSQL.';
  END IF;
END
$$;

-- Reach the extension's functions (create_hypertable, time_bucket, first, last, ...) without moving the current
-- schema: appended to this session's search_path only when missing from it.
SELECT set_config('search_path', concat_ws(', ', nullif(current_setting('search_path'), ''), quote_ident(n.nspname)),
                  false)
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'timescaledb' AND NOT (n.nspname = ANY (current_schemas(false)));

CREATE TABLE IF NOT EXISTS tick_data (
  "time"       timestamptz NOT NULL,
  "symbol"     text NOT NULL,
  "bid_price"  numeric(20,8),
  "ask_price"  numeric(20,8),
  "last_price" numeric(20,8),
  "volume"     bigint,
  "source"     text,
  "trade_id"   uuid,
  "account_id" uuid
);

-- 1-day chunks. (create_hypertable also adds its default index on (time DESC).)
SELECT create_hypertable('tick_data', by_range('time', INTERVAL '1 day'),
                         if_not_exists => true);

-- Replay reads one symbol over a time window.
CREATE INDEX IF NOT EXISTS tick_data_symbol_time_idx ON tick_data ("symbol", "time" DESC);

-- Columnstore segmented by symbol, newest first inside a segment. Guarded: only when the
-- columnstore is not yet enabled, so a second run never touches the settings. (2.23 accepts the ALTER again even
-- with chunks in the columnstore, since settings became per chunk; older 2.x could refuse it once a chunk was
-- compressed.)
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1
    FROM timescaledb_information.hypertables h
    WHERE format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass = 'tick_data'::regclass
      AND h.compression_enabled
  ) THEN
    ALTER TABLE tick_data SET (
      timescaledb.enable_columnstore = true,
      timescaledb.segmentby = '"symbol"',
      timescaledb.orderby = '"time" DESC'
    );
  END IF;
END
$$;

-- Chunks move to the columnstore once they are 30 days old (a procedure since 2.18: CALL, not SELECT).
CALL add_columnstore_policy('tick_data', after => INTERVAL '30 days', if_not_exists => true);

-- Raw ticks are dropped after 90 days. The candles outlive them: their refresh windows (at most a day back) never
-- reach dropped chunks, so dropping raw data does not erase materialized candles.
SELECT add_retention_policy('tick_data', drop_after => INTERVAL '90 days', if_not_exists => true);

-- Candles. Hierarchical: candle_1m is built on tick_data, candle_5m on candle_1m, candle_15m on candle_5m,
-- candle_1h on candle_15m (each bucket a multiple of the finer one, as TimescaleDB requires). Materialized only (no
-- real-time union with raw rows): queries read exactly what was materialized. Buckets are UTC (time_bucket's default
-- for timestamptz). open/close are the first/last price by time, high/low its max/min, volume the sum.

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_1m
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT time_bucket(INTERVAL '1 minute', "time") AS bucket,
       "symbol"                    AS symbol,
       first("last_price", "time") AS open,
       max("last_price")           AS high,
       min("last_price")           AS low,
       last("last_price", "time")  AS close,
       sum("volume")               AS volume
FROM tick_data
GROUP BY time_bucket(INTERVAL '1 minute', "time"), "symbol"
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_5m
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT time_bucket(INTERVAL '5 minutes', bucket) AS bucket,
       symbol,
       first(open, bucket) AS open,
       max(high)           AS high,
       min(low)            AS low,
       last(close, bucket) AS close,
       sum(volume)         AS volume
FROM candle_1m
GROUP BY time_bucket(INTERVAL '5 minutes', bucket), symbol
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_15m
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT time_bucket(INTERVAL '15 minutes', bucket) AS bucket,
       symbol,
       first(open, bucket) AS open,
       max(high)           AS high,
       min(low)            AS low,
       last(close, bucket) AS close,
       sum(volume)         AS volume
FROM candle_5m
GROUP BY time_bucket(INTERVAL '15 minutes', bucket), symbol
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT time_bucket(INTERVAL '1 hour', bucket) AS bucket,
       symbol,
       first(open, bucket) AS open,
       max(high)           AS high,
       min(low)            AS low,
       last(close, bucket) AS close,
       sum(volume)         AS volume
FROM candle_15m
GROUP BY time_bucket(INTERVAL '1 hour', bucket), symbol
WITH NO DATA;

-- Refresh policies. candle_1m's is story 1.6's: 1 hour back, up to 1 minute ago, every minute. Each coarser view
-- runs once a bucket, stops one bucket short of now and looks further back, so it sees what the finer view
-- materialized. Windows stay far inside the 30-day columnstore horizon, so refreshes never have to decompress.
SELECT add_continuous_aggregate_policy('candle_1m',
  start_offset => INTERVAL '1 hour', end_offset => INTERVAL '1 minute',
  schedule_interval => INTERVAL '1 minute', if_not_exists => true);

SELECT add_continuous_aggregate_policy('candle_5m',
  start_offset => INTERVAL '2 hours', end_offset => INTERVAL '5 minutes',
  schedule_interval => INTERVAL '5 minutes', if_not_exists => true);

SELECT add_continuous_aggregate_policy('candle_15m',
  start_offset => INTERVAL '6 hours', end_offset => INTERVAL '15 minutes',
  schedule_interval => INTERVAL '15 minutes', if_not_exists => true);

SELECT add_continuous_aggregate_policy('candle_1h',
  start_offset => INTERVAL '1 day', end_offset => INTERVAL '1 hour',
  schedule_interval => INTERVAL '1 hour', if_not_exists => true);
