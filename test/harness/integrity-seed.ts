import { sql, type ScratchCluster } from './postgres.ts';

/**
 * A database in the seeds' shape (story 1.6) for the integrity tests: tick_data (time, symbol, bid_price, ask_price,
 * last_price, volume bigint, source, trade_id, account_id) as a hypertable with 1-day chunks, the columnstore
 * segmented by symbol ordered by time DESC after 30 days, 90-day retention, and the continuous aggregates
 * candle_1m, candle_5m, candle_15m (on tick_data) and candle_1h (on candle_15m) with refresh policies; beside it
 * users, trades and accounts with foreign keys, one of them from the hypertable (so every chunk carries a copy).
 *
 * Built by the same statements every time, so two databases built by it are equal row for row. The ticks lie on the
 * three days that start SEED_DAY, five days back: far from every policy's window (refreshes look back at most a day,
 * the columnstore takes chunks after 30 days, retention drops them after 90), so the server's background jobs
 * never change them while a test runs.
 */
export const SEED_DAY = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 5 * 86_400_000)
  .toISOString()
  .slice(0, 10);

/** One tick every 10 seconds for three days, the symbols taking turns. */
export const SEED_TICKS = 3 * 8_640;

export const SEED_AGGREGATES = ['candle_1m', 'candle_5m', 'candle_15m', 'candle_1h'] as const;

export interface SeedOptions {
  /** Refresh the aggregates only up to this time (e.g. `${SEED_DAY} 10:00`); default: all of it. */
  refreshUntil?: string;
}

/** OHLCV by time_bucket: from the ticks' last_price, or (hierarchical) from a finer aggregate's candles. */
function candleSql(view: string, width: string, source = 'tick_data'): string {
  const fromTicks = source === 'tick_data';
  const time = fromTicks ? 'time' : 'bucket';
  const [open, high, low, close] = fromTicks
    ? [`first(last_price, ${time})`, 'max(last_price)', 'min(last_price)', `last(last_price, ${time})`]
    : [`first(open, ${time})`, 'max(high)', 'min(low)', `last(close, ${time})`];
  return `
    CREATE MATERIALIZED VIEW ${view} WITH (timescaledb.continuous) AS
    SELECT time_bucket(INTERVAL '${width}', ${time}) AS bucket, symbol, ${open} AS open, ${high} AS high,
           ${low} AS low, ${close} AS close, sum(volume) AS volume
    FROM ${source} GROUP BY time_bucket(INTERVAL '${width}', ${time}), symbol WITH NO DATA;`;
}

/**
 * The tables, the hypertable with its columnstore and retention, the aggregates (WITH NO DATA) and their refresh
 * policies, in the current schema; the extension must exist. One multi-statement query can send it.
 */
export function seedSchemaSql(): string {
  return `
    CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);
    CREATE TABLE accounts (id uuid PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id));
    CREATE TABLE trades (id bigint PRIMARY KEY, account_id uuid NOT NULL REFERENCES accounts (id), symbol text);
    CREATE TABLE tick_data (
      time timestamptz NOT NULL, symbol text NOT NULL, bid_price numeric(20, 8), ask_price numeric(20, 8),
      last_price numeric(20, 8), volume bigint, source text, trade_id uuid,
      account_id uuid REFERENCES accounts (id));
    SELECT create_hypertable('tick_data', by_range('time', INTERVAL '1 day'));
    ALTER TABLE tick_data SET (timescaledb.enable_columnstore = true, timescaledb.segmentby = 'symbol',
                               timescaledb.orderby = 'time DESC');
    CALL add_columnstore_policy('tick_data', after => INTERVAL '30 days');
    SELECT add_retention_policy('tick_data', drop_after => INTERVAL '90 days');
    ${candleSql('candle_1m', '1 minute')}
    ${candleSql('candle_5m', '5 minutes')}
    ${candleSql('candle_15m', '15 minutes')}
    ${candleSql('candle_1h', '1 hour', 'candle_15m')}
    SELECT add_continuous_aggregate_policy('candle_1m', start_offset => INTERVAL '1 hour',
      end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');
    SELECT add_continuous_aggregate_policy('candle_5m', start_offset => INTERVAL '6 hours',
      end_offset => INTERVAL '5 minutes', schedule_interval => INTERVAL '5 minutes');
    SELECT add_continuous_aggregate_policy('candle_15m', start_offset => INTERVAL '12 hours',
      end_offset => INTERVAL '15 minutes', schedule_interval => INTERVAL '15 minutes');
    SELECT add_continuous_aggregate_policy('candle_1h', start_offset => INTERVAL '1 day',
      end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');`;
}

/** 11 users, 3 accounts, 843 trades and SEED_TICKS ticks. */
export function seedDataSql(): string {
  return `
    INSERT INTO users SELECT i, 'trader ' || i FROM generate_series(1, 11) AS i;
    INSERT INTO accounts SELECT md5('account ' || i)::uuid, 1 + i % 11 FROM generate_series(1, 3) AS i;
    INSERT INTO trades SELECT i, md5('account ' || (1 + i % 3))::uuid, (ARRAY['ES', 'NQ'])[1 + i % 2]
      FROM generate_series(1, 843) AS i;
    INSERT INTO tick_data
    SELECT timestamptz '${SEED_DAY} 00:00+00' + i * INTERVAL '10 seconds', (ARRAY['ES', 'NQ'])[1 + i % 2],
           CASE WHEN i % 50 <> 0 THEN 99.99 + (i % 97) / 100.0 END, 100.01 + (i % 97) / 100.0, 100 + (i % 97) / 100.0,
           1 + i % 13, 'fixture', CASE WHEN i % 100 = 0 THEN md5('trade ' || i)::uuid END,
           md5('account ' || (1 + i % 3))::uuid
    FROM generate_series(0, ${SEED_TICKS} - 1) AS i;`;
}

/** A new database in the cluster (which must preload timescaledb), in the seeds' shape; returns its URL. */
export async function seedDatabase(cluster: ScratchCluster, name: string, options: SeedOptions = {}): Promise<string> {
  await sql(cluster.url, `CREATE DATABASE ${name}`);
  const url = cluster.urlFor(name);
  await sql(url, `CREATE EXTENSION IF NOT EXISTS timescaledb; ${seedSchemaSql()} ${seedDataSql()}`);
  // CALL refresh_continuous_aggregate cannot run inside a transaction block (a multi-statement query is one).
  const until = options.refreshUntil ? `'${options.refreshUntil}+00'` : 'NULL';
  for (const view of SEED_AGGREGATES) await sql(url, `CALL refresh_continuous_aggregate('${view}', NULL, ${until})`);
  return url;
}
