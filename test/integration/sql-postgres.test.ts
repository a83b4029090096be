/**
 * sql/postgres/tick_data.sql (tick_data without TimescaleDB: native daily partitions, candle materialized views)
 * against a real PostgreSQL cluster (the newest installed here: 15).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { CANDLE_COLUMNS_SQL, CANDLE_VIEWS, EXPECTED_CANDLES, candle, fixtureTicksSql } from '../harness/candles.ts';

const DDL = readFileSync(new URL('../../sql/postgres/tick_data.sql', import.meta.url), 'utf8');
const SCHEMA = 'ticks_pg';
const VIEWS = CANDLE_VIEWS;

let cluster: ScratchCluster;
let url: string;
let client: pg.Client;

async function q<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]> {
  return (await client.query<T>(text, values)).rows;
}

/** What the DDL creates, to compare one run with the next. */
async function inventory(): Promise<unknown> {
  return {
    relations: await q(`SELECT relname, relkind FROM pg_class WHERE relnamespace = $1::regnamespace ORDER BY 1`, [
      SCHEMA,
    ]),
    indexes: await q(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, [SCHEMA]),
    functions: await q(
      `SELECT p.oid::regprocedure::text AS f, p.proconfig FROM pg_proc p
                        WHERE p.pronamespace = $1::regnamespace ORDER BY 1`,
      [SCHEMA],
    ),
  };
}

async function columns(relation: string): Promise<string[]> {
  const rows = await q<{ c: string }>(
    `
    SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS c
    FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [relation],
  );
  return rows.map((r) => r.c);
}

const candles = (view: string) =>
  q(`
  SELECT ${CANDLE_COLUMNS_SQL}
  FROM ${SCHEMA}.${view} WHERE bucket < '2026-01-06' ORDER BY symbol, bucket`);
const c = candle;

beforeAll(async () => {
  cluster = await startTestCluster();
  url = await emptyDatabase(cluster);
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await q(`CREATE SCHEMA ${SCHEMA}`);
  await q(`SET search_path = ${SCHEMA}`);
});

afterAll(async () => {
  await client?.end().catch(() => {});
  await cluster?.stop();
});

describe('sql/postgres/tick_data.sql on PostgreSQL', () => {
  it('applies as one multi-statement query, twice, and the second run changes nothing', async () => {
    await client.query(DDL);
    const first = await inventory();
    await client.query(DDL);
    expect(await inventory()).toEqual(first);
  });

  it("creates tick_data with the seeds' columns, range-partitioned by time, no default partition", async () => {
    expect(await columns(`${SCHEMA}.tick_data`)).toEqual([
      'time timestamp with time zone not null',
      'symbol text not null',
      'bid_price numeric(20,8)',
      'ask_price numeric(20,8)',
      'last_price numeric(20,8)',
      'volume bigint',
      'source text',
      'trade_id uuid',
      'account_id uuid',
    ]);
    expect(
      await q(
        `SELECT pg_get_partkeydef($1::regclass) AS k, partdefid::int AS default_partition
                    FROM pg_partitioned_table WHERE partrelid = $1::regclass`,
        [`${SCHEMA}.tick_data`],
      ),
    ).toEqual([{ k: 'RANGE ("time")', default_partition: 0 }]);
    expect(
      await q(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tick_data'`, [SCHEMA]),
    ).toEqual([
      {
        indexdef: `CREATE INDEX tick_data_symbol_time_idx ON ONLY ${SCHEMA}.tick_data USING btree (symbol, "time" DESC)`,
      },
    ]);
    for (const view of VIEWS) {
      expect(await columns(`${SCHEMA}.${view}`)).toEqual([
        'bucket timestamp with time zone',
        'symbol text',
        'open numeric',
        'high numeric',
        'low numeric',
        'close numeric',
        'volume numeric',
      ]);
    }
  });

  it('backstop_create_tick_partitions creates each missing UTC day once and says how many', async () => {
    expect(await q(`SELECT backstop_create_tick_partitions('2026-01-05', '2026-01-08') AS n`)).toEqual([{ n: 3 }]);
    expect(await q(`SELECT backstop_create_tick_partitions('2026-01-05', '2026-01-08') AS n`)).toEqual([{ n: 0 }]);
    await q(`SET TimeZone = 'UTC'`);
    expect(
      await q(`SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
                    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                    WHERE i.inhparent = 'tick_data'::regclass ORDER BY 1`),
    ).toEqual([
      {
        relname: 'tick_data_p20260105',
        bound: `FOR VALUES FROM ('2026-01-05 00:00:00+00') TO ('2026-01-06 00:00:00+00')`,
      },
      {
        relname: 'tick_data_p20260106',
        bound: `FOR VALUES FROM ('2026-01-06 00:00:00+00') TO ('2026-01-07 00:00:00+00')`,
      },
      {
        relname: 'tick_data_p20260107',
        bound: `FOR VALUES FROM ('2026-01-07 00:00:00+00') TO ('2026-01-08 00:00:00+00')`,
      },
    ]);
    // Every partition has the parent's index.
    expect(
      await q(
        `SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename LIKE 'tick_data_p%'
                    ORDER BY 1`,
        [SCHEMA],
      ),
    ).toEqual(
      ['20260105', '20260106', '20260107'].map((d) => ({
        tablename: `tick_data_p${d}`,
        indexdef:
          `CREATE INDEX tick_data_p${d}_symbol_time_idx ON ${SCHEMA}.tick_data_p${d} USING btree (symbol, ` +
          `"time" DESC)`,
      })),
    );
    // Overlapping, empty and reversed ranges.
    expect(await q(`SELECT backstop_create_tick_partitions('2026-01-07', '2026-01-09') AS n`)).toEqual([{ n: 1 }]);
    expect(await q(`SELECT backstop_create_tick_partitions('2026-01-09', '2026-01-09') AS n`)).toEqual([{ n: 0 }]);
    await expect(client.query(`SELECT backstop_create_tick_partitions('2026-01-09', '2026-01-08')`)).rejects.toThrow(
      /is before from_day/,
    );
    await q(`DROP TABLE tick_data_p20260108`);
  });

  it('puts rows into the partition of their UTC day, whatever the session time zone, and refuses rows outside', async () => {
    await q(`SET TimeZone = 'Asia/Kolkata'`); // +05:30: local midnight is not UTC midnight
    await q(`INSERT INTO tick_data (time, symbol, last_price, volume) VALUES
      ('2026-01-05 00:00:00+00', 'EDGE', 1, 1),
      ('2026-01-05 23:59:59.999999+00', 'EDGE', 2, 1),
      ('2026-01-06 00:00:00+00', 'EDGE', 3, 1),
      ('2026-01-06 01:00:00+05:30', 'EDGE', 4, 1),
      ('2026-01-07 23:59:59+00', 'EDGE', 5, 1)`);
    expect(
      await q(
        `SELECT last_price::int AS price, tableoid::regclass::text AS part FROM tick_data WHERE symbol = 'EDGE' ` +
          `ORDER BY last_price`,
      ),
    ).toEqual([
      { price: 1, part: 'tick_data_p20260105' },
      { price: 2, part: 'tick_data_p20260105' },
      { price: 3, part: 'tick_data_p20260106' },
      { price: 4, part: 'tick_data_p20260105' },
      { price: 5, part: 'tick_data_p20260107' },
    ]);
    for (const time of ['2026-01-04 23:59:59.999999+00', '2026-01-08 00:00:00+00', '2025-06-01 12:00:00+00']) {
      await expect(
        client.query(`INSERT INTO tick_data (time, symbol, last_price, volume) VALUES ($1, 'OUT', 1, 1)`, [time]),
      ).rejects.toThrow(/no partition of relation "tick_data" found for row/);
    }
    await q(`DELETE FROM tick_data WHERE symbol = 'EDGE'`);
    await q(`SET TimeZone = 'UTC'`);
  });

  it('refuses to skip a day whose partition name is taken by a table that is not a partition', async () => {
    await q(`CREATE TABLE tick_data_p20260120 (LIKE tick_data)`);
    await expect(client.query(`SELECT backstop_create_tick_partitions('2026-01-19', '2026-01-21')`)).rejects.toThrow(
      /tick_data_p20260120 exists but is not a partition of tick_data/,
    );
    // The failed call created nothing (one transaction).
    expect(await q(`SELECT to_regclass('tick_data_p20260119') IS NULL AS absent`)).toEqual([{ absent: true }]);
    await q(`DROP TABLE tick_data_p20260120`);
  });

  it('serializes concurrent callers: overlapping ranges from two connections create each partition once', async () => {
    const call = (from: string, to: string) =>
      sql<{ n: number }>(url, `SELECT ${SCHEMA}.backstop_create_tick_partitions($1, $2) AS n`, [from, to]);
    const [a, b] = await Promise.all([call('2026-02-01', '2026-02-11'), call('2026-02-05', '2026-02-15')]);
    expect(a[0]!.n + b[0]!.n).toBe(14);
    expect(await q(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'tick_data'::regclass`)).toEqual([
      { n: 3 + 14 },
    ]);
  });

  it('backstop_refresh_candles populates the views with exact OHLCV, and can run again', async () => {
    await expect(client.query(`SELECT * FROM candle_1m`)).rejects.toThrow(/has not been populated/);
    await q(fixtureTicksSql('2026-01-05'));
    // Refreshed from a session in another time zone: buckets stay UTC.
    await q(`SET TimeZone = 'Asia/Kolkata'`);
    await q(`SELECT backstop_refresh_candles()`);
    await q(`SET TimeZone = 'UTC'`);
    expect(
      await q(`SELECT matviewname, ispopulated FROM pg_matviews WHERE schemaname = $1 ORDER BY 1`, [SCHEMA]),
    ).toEqual([...VIEWS].sort().map((matviewname) => ({ matviewname, ispopulated: true })));

    const expected = EXPECTED_CANDLES;
    for (const view of VIEWS) expect(await candles(view)).toEqual(expected[view]);

    // Second run: the views are populated now, so this is the CONCURRENTLY path; nothing changed, nothing moves.
    await q(`SELECT backstop_refresh_candles()`);
    for (const view of VIEWS) expect(await candles(view)).toEqual(expected[view]);

    // A late tick flows up the hierarchy on the next refresh.
    await q(
      `INSERT INTO tick_data (time, symbol, last_price, volume) VALUES ('2026-01-05 10:00:59+00', 'EURUSD', 0.80, 1)`,
    );
    await q(`SELECT backstop_refresh_candles()`);
    expect((await candles('candle_1m'))[0]).toEqual(
      c('10:00', 'EURUSD', '1.10000000', '1.30000000', '0.80000000', '0.80000000', '11'),
    );
    expect((await candles('candle_1h'))[0]).toEqual(
      c('10:00', 'EURUSD', '1.10000000', '1.50000000', '0.80000000', '1.40000000', '23'),
    );
  });

  it('the refresh is CONCURRENTLY once populated: readers of a candle view are not blocked', async () => {
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    try {
      await reader.query(`BEGIN`);
      await reader.query(`SELECT count(*) FROM ${SCHEMA}.candle_1h`); // holds ACCESS SHARE until COMMIT
      // A plain REFRESH would wait for the reader's lock; the concurrent one does not.
      await q(`SET lock_timeout = '5s'`);
      await q(`SELECT backstop_refresh_candles()`);
      await q(`RESET lock_timeout`);
      await reader.query(`COMMIT`);
    } finally {
      await reader.end();
    }
  });

  it('the TimescaleDB file stops with a clear message on a server without the extension', async () => {
    const plain = await emptyDatabase(cluster);
    const timescaleDdl = readFileSync(new URL('../../sql/timescaledb/tick_data.sql', import.meta.url), 'utf8');
    await expect(sql(plain, timescaleDdl)).rejects.toThrow(/the timescaledb extension is not installed in database/);
    expect(await sql(plain, `SELECT to_regclass('public.tick_data') AS t`)).toEqual([{ t: null }]);
  });

  it('the functions find their objects whatever the caller’s search_path, and the file applies again over data', async () => {
    await q(`SET search_path = public`);
    expect(await q(`SELECT ${SCHEMA}.backstop_create_tick_partitions('2026-01-05', '2026-01-09') AS n`)).toEqual([
      { n: 1 },
    ]);
    await q(`SELECT ${SCHEMA}.backstop_refresh_candles()`);
    expect(
      await q(`SELECT to_regclass('public.tick_data') AS t, to_regclass('public.tick_data_p20260108') AS p`),
    ).toEqual([{ t: null, p: null }]);
    await q(`SET search_path = ${SCHEMA}`);
    const before = await inventory();
    await client.query(DDL);
    expect(await inventory()).toEqual(before);
    expect(await q(`SELECT count(*)::int AS n FROM tick_data`)).toEqual([{ n: 10 }]);
    expect((await candles('candle_1h'))[0]!.volume).toBe('23');
  });
});
