-- Generated from actions/lib/ticks/ddl.ts by `npm run generate` (edit that file, not this one). migrate-ticks
-- (setup: auto) sends the same statements, built from the source table's own columns.
--
-- tick_data on plain PostgreSQL 13+ (no TimescaleDB: Supabase dropped the extension on Postgres 17). The same
-- table and candle views as sql/timescaledb/tick_data.sql, built from native features:
--   * tick_data is range-partitioned by time, one partition per UTC day (tick_data_pYYYYMMDD), made by
--     backstop_create_tick_partitions(from_day, to_day). There is NO default partition: a tick for a day without
--     a partition fails loudly ("no partition of relation ... found for row") instead of piling up in a default
--     partition, which would also have to be scanned — and could block — every later partition creation.
--   * Candles are plain materialized views (candle_1m from tick_data, candle_5m from candle_1m, candle_15m from
--     candle_5m, candle_1h from candle_15m), created WITH NO DATA and filled by backstop_refresh_candles(), which
--     recomputes them fully (plain PostgreSQL has no incremental refresh: schedule it, e.g. with pg_cron, no more
--     often than a refresh takes).
--   * Retention (90 days on TimescaleDB) is dropping old partitions: DROP TABLE tick_data_pYYYYMMDD. There is no
--     columnstore equivalent.
--
-- How to apply: idempotent (run it again at will); objects go into the current schema (the caller sets
-- search_path); can be sent as one multi-statement query. The two functions remember the search_path they were
-- created with (SET search_path FROM CURRENT), so they find tick_data and the views whatever the caller's
-- search_path is later.

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
) PARTITION BY RANGE ("time");

-- Replay reads one symbol over a time window. Defined on the parent, so every partition gets (inherits) it.
CREATE INDEX IF NOT EXISTS tick_data_symbol_time_idx ON tick_data ("symbol", "time" DESC);

-- Creates the daily partitions tick_data_pYYYYMMDD for every day in [from_day, to_day) that has none yet, each
-- covering [day 00:00 UTC, next day 00:00 UTC); returns how many it created (0 when all exist).
-- Each partition is created as a table and then ATTACHed: ATTACH PARTITION takes only a SHARE UPDATE EXCLUSIVE
-- lock on tick_data, so reads and writes (a migration's COPY into other days) keep going, whereas
-- CREATE TABLE ... PARTITION OF would wait for them and block them. Callers are serialized by the same lock,
-- so two workers asking for the same days create each partition once.
CREATE OR REPLACE FUNCTION backstop_create_tick_partitions(from_day date, to_day date)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  parent        regclass := 'tick_data'::regclass;
  parent_schema name;
  parent_name   name;
  part_day      date;
  part_name     text;
  existing      regclass;
  created       integer := 0;
BEGIN
  IF from_day IS NULL OR to_day IS NULL THEN
    RAISE EXCEPTION 'backstop_create_tick_partitions: from_day and to_day are required (got % and %)', from_day, to_day;
  END IF;
  IF to_day < from_day THEN
    RAISE EXCEPTION 'backstop_create_tick_partitions: to_day (%) is before from_day (%); the range is '
                    '[from_day, to_day)', to_day, from_day;
  END IF;

  SELECT n.nspname, c.relname INTO parent_schema, parent_name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = parent;

  EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', parent);

  FOR i IN 0 .. (to_day - from_day) - 1 LOOP
    part_day := from_day + i;
    part_name := parent_name || '_p' || to_char(part_day, 'YYYYMMDD');
    existing := to_regclass(format('%I.%I', parent_schema, part_name));
    IF existing IS NOT NULL THEN
      IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = existing AND inhparent = parent) THEN
        RAISE EXCEPTION 'backstop_create_tick_partitions: % exists but is not a partition of %', existing, parent
          USING HINT = format('Attach it (ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)) or drop it.',
                              parent, existing, to_char(part_day, 'YYYY-MM-DD') || ' 00:00:00+00',
                              to_char(part_day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
      END IF;
      CONTINUE;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   parent_schema, part_name, parent);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                   parent, parent_schema, part_name,
                   to_char(part_day, 'YYYY-MM-DD') || ' 00:00:00+00',
                   to_char(part_day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
    created := created + 1;
  END LOOP;
  RETURN created;
END
$$;

-- Candles. Buckets are UTC and aligned like TimescaleDB's time_bucket (whatever the session TimeZone), open/close
-- are the first/last price by time, high/low its max/min, volume the sum; each coarser view aggregates the finer one.

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_1m AS
SELECT date_trunc('minute', "time" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
       "symbol"                                          AS symbol,
       (array_agg("last_price" ORDER BY "time"))[1]      AS open,
       max("last_price")                                 AS high,
       min("last_price")                                 AS low,
       (array_agg("last_price" ORDER BY "time" DESC))[1] AS close,
       sum("volume")                                     AS volume
FROM tick_data
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_5m AS
SELECT (date_trunc('hour', bucket AT TIME ZONE 'UTC')
        + floor(date_part('minute', bucket AT TIME ZONE 'UTC') / 5) * INTERVAL '5 minutes')
       AT TIME ZONE 'UTC' AS bucket,
       symbol,
       (array_agg(open ORDER BY bucket))[1]       AS open,
       max(high)                                  AS high,
       min(low)                                   AS low,
       (array_agg(close ORDER BY bucket DESC))[1] AS close,
       sum(volume)                                AS volume
FROM candle_1m
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_15m AS
SELECT (date_trunc('hour', bucket AT TIME ZONE 'UTC')
        + floor(date_part('minute', bucket AT TIME ZONE 'UTC') / 15) * INTERVAL '15 minutes')
       AT TIME ZONE 'UTC' AS bucket,
       symbol,
       (array_agg(open ORDER BY bucket))[1]       AS open,
       max(high)                                  AS high,
       min(low)                                   AS low,
       (array_agg(close ORDER BY bucket DESC))[1] AS close,
       sum(volume)                                AS volume
FROM candle_5m
GROUP BY 1, 2
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS candle_1h AS
SELECT date_trunc('hour', bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
       symbol,
       (array_agg(open ORDER BY bucket))[1]       AS open,
       max(high)                                  AS high,
       min(low)                                   AS low,
       (array_agg(close ORDER BY bucket DESC))[1] AS close,
       sum(volume)                                AS volume
FROM candle_15m
GROUP BY 1, 2
WITH NO DATA;

-- A unique index over all rows is what REFRESH MATERIALIZED VIEW CONCURRENTLY needs (and what candle reads use).
CREATE UNIQUE INDEX IF NOT EXISTS candle_1m_symbol_bucket_key ON candle_1m (symbol, bucket);
CREATE UNIQUE INDEX IF NOT EXISTS candle_5m_symbol_bucket_key ON candle_5m (symbol, bucket);
CREATE UNIQUE INDEX IF NOT EXISTS candle_15m_symbol_bucket_key ON candle_15m (symbol, bucket);
CREATE UNIQUE INDEX IF NOT EXISTS candle_1h_symbol_bucket_key ON candle_1h (symbol, bucket);

-- Refreshes the candle views finest first (each coarser one reads the finer one, in the same transaction).
-- CONCURRENTLY once a view holds data, so readers are never blocked; a view that was never populated (WITH NO
-- DATA above) cannot be refreshed concurrently, so its first refresh is a plain one.
CREATE OR REPLACE FUNCTION backstop_refresh_candles()
RETURNS void
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  view_name text;
  populated boolean;
BEGIN
  FOREACH view_name IN ARRAY ARRAY['candle_1m', 'candle_5m', 'candle_15m', 'candle_1h'] LOOP
    SELECT m.ispopulated INTO populated
    FROM pg_matviews m
    JOIN pg_namespace n ON n.nspname = m.schemaname
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = m.matviewname
    WHERE c.oid = view_name::regclass;
    IF populated THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', view_name::regclass);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', view_name::regclass);
    END IF;
  END LOOP;
END
$$;
