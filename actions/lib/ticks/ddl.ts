import { quoteIdent } from '../pg/connection.ts';

/**
 * The tick_data shapes, written once: migrate-ticks (setup: auto) sends these statements built from the source
 * table's own columns, and `npm run generate` writes sql/timescaledb/tick_data.sql and sql/postgres/tick_data.sql
 * from them for the seeds' columns (story 1.6), for operators who apply the shape by hand.
 */
export const TICK_TABLE = 'tick_data';

/** A column as CREATE TABLE needs it: name, type as format_type() spells it, nullability. */
export interface ColumnDefinition {
  name: string;
  type: string;
  notNull: boolean;
}

/** Where the candles take their values from: open/high/low/close from price, summed volume, per symbol. */
export interface CandleColumns {
  symbol: string;
  price: string;
  volume: string;
}

export interface TickTableDefinition {
  columns: ColumnDefinition[];
  timeColumn: string;
  /** Segments the columnstore and leads the replay index; absent when the table has no symbol column. */
  symbolColumn?: string;
  /** Absent: no candle aggregates (the table lacks a price, volume or symbol column). */
  candles?: CandleColumns;
}

/** The seeds' tick table (story 1.6), exactly. */
export const SEED_TICK_TABLE: TickTableDefinition = {
  columns: [
    { name: 'time', type: 'timestamptz', notNull: true },
    { name: 'symbol', type: 'text', notNull: true },
    { name: 'bid_price', type: 'numeric(20,8)', notNull: false },
    { name: 'ask_price', type: 'numeric(20,8)', notNull: false },
    { name: 'last_price', type: 'numeric(20,8)', notNull: false },
    { name: 'volume', type: 'bigint', notNull: false },
    { name: 'source', type: 'text', notNull: false },
    { name: 'trade_id', type: 'uuid', notNull: false },
    { name: 'account_id', type: 'uuid', notNull: false },
  ],
  timeColumn: 'time',
  symbolColumn: 'symbol',
  candles: { symbol: 'symbol', price: 'last_price', volume: 'volume' },
};

interface CandleLevel {
  view: string;
  bucket: string;
  /** The refresh policy: how far back it looks, how close to now it stops, how often it runs. */
  startOffset: string;
  endOffset: string;
  every: string;
}

/**
 * candle_1m's policy is story 1.6's (1 hour back, up to 1 minute ago, every minute). The seeds leave the coarser
 * ones open; each follows the same pattern: it stops one bucket short of now, runs once a bucket, and looks back far
 * enough to cover several buckets (TimescaleDB requires two at least) and what the finer level refreshed since.
 */
export const CANDLE_LEVELS: readonly CandleLevel[] = [
  { view: 'candle_1m', bucket: '1 minute', startOffset: '1 hour', endOffset: '1 minute', every: '1 minute' },
  { view: 'candle_5m', bucket: '5 minutes', startOffset: '2 hours', endOffset: '5 minutes', every: '5 minutes' },
  { view: 'candle_15m', bucket: '15 minutes', startOffset: '6 hours', endOffset: '15 minutes', every: '15 minutes' },
  { view: 'candle_1h', bucket: '1 hour', startOffset: '1 day', endOffset: '1 hour', every: '1 hour' },
];

export const CANDLE_VIEWS = CANDLE_LEVELS.map((level) => level.view);

const CHUNK_INTERVAL = '1 day';
const COLUMNSTORE_AFTER = '30 days';
const RETENTION = '90 days';

const NO_CANDLES = '\n-- No candles: the table has no price, volume or symbol column for them.\n';

const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

function createTable(table: TickTableDefinition, suffix = ''): string {
  const names = table.columns.map((column) => quoteIdent(column.name));
  const width = Math.max(...names.map((name) => name.length));
  const lines = table.columns.map(
    (column, index) => `  ${names[index]!.padEnd(width)} ${column.type}${column.notNull ? ' NOT NULL' : ''}`,
  );
  return `CREATE TABLE IF NOT EXISTS ${TICK_TABLE} (\n${lines.join(',\n')}\n)${suffix};`;
}

/**
 * `expression AS name` lines, the names aligned after the first line (the bucket, long or on two lines); an empty
 * name keeps the expression as it is.
 */
function selectList([bucket, ...items]: [expression: string, name: string][]): string {
  const width = Math.max(...items.filter(([, name]) => name).map(([expression]) => expression.length));
  const rest = items.map(([expression, name]) => (name ? `${expression.padEnd(width)} AS ${name}` : expression));
  return [`${bucket![0]} AS ${bucket![1]}`, ...rest].join(',\n       ');
}

function replayIndex(table: TickTableDefinition, note = ''): string {
  if (!table.symbolColumn) return '-- No symbol column: no (symbol, time) index.';
  return (
    `-- Replay reads one symbol over a time window.${note}\n` +
    `CREATE INDEX IF NOT EXISTS ${TICK_TABLE}_symbol_time_idx ON ${TICK_TABLE} ` +
    `(${quoteIdent(table.symbolColumn)}, ${quoteIdent(table.timeColumn)} DESC);`
  );
}

const TIMESCALE_NOTES = `\
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
--   * Objects go into the current schema: the caller sets search_path (e.g. \`SET search_path = ticks\`). The
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
-- client sends them out of time order. Plain COPY into the rowstore + the columnstore policy is the supported path.`;

/** The TimescaleDB shape: hypertable, columnstore, retention, candle aggregates and their refresh policies. */
export function timescaleDdl(table: TickTableDefinition): string {
  const time = quoteIdent(table.timeColumn);
  const segmentBy = table.symbolColumn
    ? `\n      timescaledb.segmentby = ${literal(quoteIdent(table.symbolColumn))},`
    : '';
  return `DO $$
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

${createTable(table)}

-- 1-day chunks. (create_hypertable also adds its default index on (time DESC).)
SELECT create_hypertable('${TICK_TABLE}', by_range(${literal(table.timeColumn)}, INTERVAL '${CHUNK_INTERVAL}'),
                         if_not_exists => true);

${replayIndex(table)}

-- Columnstore${table.symbolColumn ? ' segmented by symbol' : ''}, newest first inside a segment. Guarded: only when the
-- columnstore is not yet enabled, so a second run never touches the settings. (2.23 accepts the ALTER again even
-- with chunks in the columnstore, since settings became per chunk; older 2.x could refuse it once a chunk was
-- compressed.)
DO $$
BEGIN
  IF NOT EXISTS (
    SELECT 1
    FROM timescaledb_information.hypertables h
    WHERE format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass = '${TICK_TABLE}'::regclass
      AND h.compression_enabled
  ) THEN
    ALTER TABLE ${TICK_TABLE} SET (
      timescaledb.enable_columnstore = true,${segmentBy}
      timescaledb.orderby = ${literal(`${time} DESC`)}
    );
  END IF;
END
$$;

-- Chunks move to the columnstore once they are 30 days old (a procedure since 2.18: CALL, not SELECT).
CALL add_columnstore_policy('${TICK_TABLE}', after => INTERVAL '${COLUMNSTORE_AFTER}', if_not_exists => true);

-- Raw ticks are dropped after 90 days. The candles outlive them: their refresh windows (at most a day back) never
-- reach dropped chunks, so dropping raw data does not erase materialized candles.
SELECT add_retention_policy('${TICK_TABLE}', drop_after => INTERVAL '${RETENTION}', if_not_exists => true);
${table.candles ? timescaleCandles(table.candles, time) : NO_CANDLES}`;
}

function timescaleCandles(candles: CandleColumns, time: string): string {
  const [first, ...coarser] = CANDLE_LEVELS;
  const price = quoteIdent(candles.price);
  const symbol = quoteIdent(candles.symbol);
  const volume = quoteIdent(candles.volume);
  const views = [
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${first!.view}
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT ${selectList([
      [`time_bucket(INTERVAL '${first!.bucket}', ${time})`, 'bucket'],
      [symbol, 'symbol'],
      [`first(${price}, ${time})`, 'open'],
      [`max(${price})`, 'high'],
      [`min(${price})`, 'low'],
      [`last(${price}, ${time})`, 'close'],
      [`sum(${volume})`, 'volume'],
    ])}
FROM ${TICK_TABLE}
GROUP BY time_bucket(INTERVAL '${first!.bucket}', ${time}), ${symbol}
WITH NO DATA;`,
    ...coarser.map(
      (level, index) => `CREATE MATERIALIZED VIEW IF NOT EXISTS ${level.view}
WITH (timescaledb.continuous, timescaledb.materialized_only = true) AS
SELECT ${selectList([
        [`time_bucket(INTERVAL '${level.bucket}', bucket)`, 'bucket'],
        ['symbol', ''],
        ['first(open, bucket)', 'open'],
        ['max(high)', 'high'],
        ['min(low)', 'low'],
        ['last(close, bucket)', 'close'],
        ['sum(volume)', 'volume'],
      ])}
FROM ${CANDLE_LEVELS[index]!.view}
GROUP BY time_bucket(INTERVAL '${level.bucket}', bucket), symbol
WITH NO DATA;`,
    ),
  ];
  const policies = CANDLE_LEVELS.map(
    (level) => `SELECT add_continuous_aggregate_policy('${level.view}',
  start_offset => INTERVAL '${level.startOffset}', end_offset => INTERVAL '${level.endOffset}',
  schedule_interval => INTERVAL '${level.every}', if_not_exists => true);`,
  );
  return `
-- Candles. Hierarchical: candle_1m is built on tick_data, candle_5m on candle_1m, candle_15m on candle_5m,
-- candle_1h on candle_15m (each bucket a multiple of the finer one, as TimescaleDB requires). Materialized only (no
-- real-time union with raw rows): queries read exactly what was materialized. Buckets are UTC (time_bucket's default
-- for timestamptz). open/close are the first/last price by time, high/low its max/min, volume the sum.

${views.join('\n\n')}

-- Refresh policies. candle_1m's is story 1.6's: 1 hour back, up to 1 minute ago, every minute. Each coarser view
-- runs once a bucket, stops one bucket short of now and looks further back, so it sees what the finer view
-- materialized. Windows stay far inside the 30-day columnstore horizon, so refreshes never have to decompress.
${policies.join('\n\n')}
`;
}

const POSTGRES_NOTES = `\
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
-- search_path is later.`;

/** The plain-PostgreSQL shape: daily partitions made by a function, candle materialized views and their refresh. */
export function postgresDdl(table: TickTableDefinition): string {
  return `${createTable(table, ` PARTITION BY RANGE (${quoteIdent(table.timeColumn)})`)}

${replayIndex(table, ' Defined on the parent, so every partition gets (inherits) it.')}

${PARTITION_FUNCTION}
${table.candles ? postgresCandles(table.candles, quoteIdent(table.timeColumn)) : NO_CANDLES}`;
}

const PARTITION_FUNCTION = `\
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
  parent        regclass := '${TICK_TABLE}'::regclass;
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
$$;`;

/** SQL for the start of the UTC bucket of a finer candle's bucket, aligned like time_bucket. */
function utcBucket(level: CandleLevel, column: string): string {
  const utc = `${column} AT TIME ZONE 'UTC'`;
  const minutes = /^(\d+) minutes?$/.exec(level.bucket)?.[1];
  if (level.bucket === '1 hour') return `date_trunc('hour', ${utc}) AT TIME ZONE 'UTC'`;
  if (minutes === '1') return `date_trunc('minute', ${utc}) AT TIME ZONE 'UTC'`;
  return (
    `(date_trunc('hour', ${utc})\n        + floor(date_part('minute', ${utc}) / ${minutes}) * ` +
    `INTERVAL '${level.bucket}')\n       AT TIME ZONE 'UTC'`
  );
}

function postgresCandles(candles: CandleColumns, time: string): string {
  const [first, ...coarser] = CANDLE_LEVELS;
  const price = quoteIdent(candles.price);
  const views = [
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${first!.view} AS
SELECT ${selectList([
      [utcBucket(first!, time), 'bucket'],
      [quoteIdent(candles.symbol), 'symbol'],
      [`(array_agg(${price} ORDER BY ${time}))[1]`, 'open'],
      [`max(${price})`, 'high'],
      [`min(${price})`, 'low'],
      [`(array_agg(${price} ORDER BY ${time} DESC))[1]`, 'close'],
      [`sum(${quoteIdent(candles.volume)})`, 'volume'],
    ])}
FROM ${TICK_TABLE}
GROUP BY 1, 2
WITH NO DATA;`,
    ...coarser.map(
      (level, index) => `CREATE MATERIALIZED VIEW IF NOT EXISTS ${level.view} AS
SELECT ${selectList([
        [utcBucket(level, 'bucket'), 'bucket'],
        ['symbol', ''],
        ['(array_agg(open ORDER BY bucket))[1]', 'open'],
        ['max(high)', 'high'],
        ['min(low)', 'low'],
        ['(array_agg(close ORDER BY bucket DESC))[1]', 'close'],
        ['sum(volume)', 'volume'],
      ])}
FROM ${CANDLE_LEVELS[index]!.view}
GROUP BY 1, 2
WITH NO DATA;`,
    ),
  ];
  const indexes = CANDLE_LEVELS.map(
    (level) => `CREATE UNIQUE INDEX IF NOT EXISTS ${level.view}_symbol_bucket_key ON ${level.view} (symbol, bucket);`,
  );
  return `
-- Candles. Buckets are UTC and aligned like TimescaleDB's time_bucket (whatever the session TimeZone), open/close
-- are the first/last price by time, high/low its max/min, volume the sum; each coarser view aggregates the finer one.

${views.join('\n\n')}

-- A unique index over all rows is what REFRESH MATERIALIZED VIEW CONCURRENTLY needs (and what candle reads use).
${indexes.join('\n')}

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
  FOREACH view_name IN ARRAY ARRAY[${CANDLE_VIEWS.map(literal).join(', ')}] LOOP
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
`;
}

/** The files in sql/ (written by npm run generate): the seeds' table in both shapes, with the notes for operators. */
export function seedDdlFiles(): { path: string; content: string }[] {
  const generated =
    '-- Generated from actions/lib/ticks/ddl.ts by `npm run generate` (edit that file, not this one). migrate-ticks\n' +
    "-- (setup: auto) sends the same statements, built from the source table's own columns.\n--\n";
  return [
    {
      path: 'sql/timescaledb/tick_data.sql',
      content: `${generated}${TIMESCALE_NOTES}\n\n${timescaleDdl(SEED_TICK_TABLE)}`,
    },
    { path: 'sql/postgres/tick_data.sql', content: `${generated}${POSTGRES_NOTES}\n\n${postgresDdl(SEED_TICK_TABLE)}` },
  ];
}
