/**
 * A trading-journal database shaped like the one in the seeds (users, trades, journal entries, tags, tick data),
 * generated inside PostgreSQL with generate_series so a million ticks load in seconds. Deterministic: the same
 * arguments give the same rows, so tests can assert exact counts and sums.
 */
export const SAMPLE_COUNTS = { users: 11, trades: 843, journalEntries: 843, tags: 8 } as const;

/** The seeds' tick table (story 1.6), as a source database has it. */
export const TICK_TABLE_SQL = `CREATE TABLE tick_data (
  time timestamptz NOT NULL,
  symbol text NOT NULL,
  bid_price numeric(20,8),
  ask_price numeric(20,8),
  last_price numeric(20,8),
  volume bigint,
  source text,
  trade_id uuid,
  account_id uuid
);`;

/**
 * Seed-shaped ticks: `rows` of them from `from`, one every `step` (an SQL interval expression, which may use i, the
 * row number), with microseconds, NULL quotes now and then, a feed name, and trade and account ids (md5-made uuids,
 * the same for the same row) on the ticks a trade was filled at.
 */
export function ticksInsertSql({ rows, from, step }: { rows: number; from: string; step: string }): string {
  return `INSERT INTO tick_data
SELECT timestamptz '${from}' + i * ${step} + (i % 1000) * interval '1 microsecond',
       (ARRAY['ES', 'NQ', 'BTCUSD', 'EURUSD'])[1 + i % 4],
       CASE WHEN i % 101 = 0 THEN NULL ELSE round((99.99 + 10 * sin(i / 5000.0))::numeric, 8) END,
       CASE WHEN i % 101 = 0 THEN NULL ELSE round((100.01 + 10 * sin(i / 5000.0))::numeric, 8) END,
       round((100 + 10 * sin(i / 5000.0) + (i % 97) / 100.0)::numeric, 8),
       (i % 13) + 1,
       (ARRAY['cme', 'binance', 'oanda'])[1 + i % 3],
       CASE WHEN i % 500 = 0 THEN md5('trade' || i)::uuid END,
       CASE WHEN i % 500 = 0 THEN md5('account' || (1 + i % ${SAMPLE_COUNTS.users}))::uuid END
FROM generate_series(0, ${rows} - 1) AS i;`;
}

export function sampleDatabaseSql(ticks: number): string {
  const { users, trades, journalEntries, tags } = SAMPLE_COUNTS;
  return `
CREATE TABLE users (
  id bigint PRIMARY KEY,
  email text NOT NULL UNIQUE,
  display_name text,
  created_at timestamptz NOT NULL
);
CREATE TABLE trades (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  quantity numeric(20,8) NOT NULL,
  entry_price numeric(20,8) NOT NULL,
  exit_price numeric(20,8),
  opened_at timestamptz NOT NULL,
  closed_at timestamptz,
  pnl numeric(20,8)
);
CREATE TABLE journal_entries (
  id bigint PRIMARY KEY,
  trade_id bigint REFERENCES trades (id),
  user_id bigint NOT NULL REFERENCES users (id),
  body text NOT NULL,
  mood text,
  created_at timestamptz NOT NULL
);
CREATE TABLE tags (id int PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE trade_tags (
  trade_id bigint NOT NULL REFERENCES trades (id),
  tag_id int NOT NULL REFERENCES tags (id),
  PRIMARY KEY (trade_id, tag_id)
);
${TICK_TABLE_SQL}

INSERT INTO users
SELECT i, 'trader' || i || '@example.com', 'Trader ' || i, timestamptz '2025-06-01 00:00:00+00' + i * interval '3 days'
FROM generate_series(1, ${users}) AS i;

INSERT INTO tags (id, name)
SELECT i, (ARRAY['breakout', 'reversal', 'scalp', 'swing', 'news', 'fomo', 'revenge', 'plan'])[i]
FROM generate_series(1, ${tags}) AS i;

INSERT INTO trades
SELECT i,
       1 + i % ${users},
       (ARRAY['ES', 'NQ', 'BTCUSD', 'EURUSD'])[1 + i % 4],
       CASE WHEN i % 3 = 0 THEN 'sell' ELSE 'buy' END,
       round((1 + i % 5)::numeric / 4, 8),
       round((100 + 10 * sin(i / 50.0))::numeric, 8),
       CASE WHEN i % 10 = 0 THEN NULL ELSE round((100 + 10 * sin(i / 50.0) + cos(i)::numeric)::numeric, 8) END,
       timestamptz '2026-01-05 13:30:00+00' + i * interval '17 minutes 3.123456 seconds',
       CASE WHEN i % 10 = 0 THEN NULL ELSE timestamptz '2026-01-05 13:30:00+00' + i * interval
         '17 minutes 3.123456 seconds' + interval '42 minutes' END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE round((cos(i) * (1 + i % 5) / 4)::numeric, 8) END
FROM generate_series(1, ${trades}) AS i;

INSERT INTO journal_entries
SELECT i, i, 1 + i % ${users},
       'Trade ' || i || ': ' || (ARRAY['followed the plan', 'entered late', 'sized too big', 'clean setup'])[1 + i % 4],
       CASE WHEN i % 7 = 0 THEN NULL WHEN i % 7 = 1 THEN '' ELSE (ARRAY['calm', 'anxious', 'confident'])[1 + i % 3] END,
       timestamptz '2026-01-05 15:00:00+00' + i * interval '17 minutes'
FROM generate_series(1, ${journalEntries}) AS i;

INSERT INTO trade_tags
SELECT t, 1 + (t * k) % ${tags}
FROM generate_series(1, ${trades}) AS t, generate_series(1, 2) AS k
ON CONFLICT DO NOTHING;

${ticksInsertSql({ rows: ticks, from: '2026-01-05 00:00:00+00', step: "interval '250 milliseconds'" })}

CREATE INDEX tick_data_symbol_time ON tick_data (symbol, time DESC);
ANALYZE;
`;
}
