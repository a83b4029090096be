/**
 * sql/timescaledb/tick_data.sql and the catalog queries of test/harness/timescale-catalog.ts, against TimescaleDB
 * 2.23 compiled to WASM (test/harness/pglite.ts) and, when one is installed here, a real TimescaleDB
 * (test/harness/timescale.ts). Everything goes through the `pg` client, the way the migration applies the file.
 * The WASM build has no background workers, so the job scheduler never runs: policies are checked in the catalog
 * and run in the foreground with CALL run_job(); see the FAILING_JOBS_SQL test for the one place where a scheduler
 * record has to be written by hand; the real server's scheduler is stopped for the same tests (see realTimescale).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { CANDLE_COLUMNS_SQL, CANDLE_VIEWS, EXPECTED_CANDLES, candle, fixtureTicksSql } from '../harness/candles.ts';
import { startPgliteTimescale } from '../harness/pglite.ts';
import { sql } from '../harness/postgres.ts';
import { sayWhenTimescaleIsMissing, startTimescaleCluster, TIMESCALE } from '../harness/timescale.ts';
import {
  CAGGS_SQL,
  CAGG_REFRESH_POLICIES_SQL,
  FAILING_JOBS_SQL,
  HYPERTABLE_INTERVAL_SQL,
  POLICIES_SQL,
  TIMESCALEDB_VERSION_SQL,
} from '../harness/timescale-catalog.ts';

const DDL = readFileSync(new URL('../../sql/timescaledb/tick_data.sql', import.meta.url), 'utf8');
const SCHEMA = 'ticks_ts';
const VIEWS = CANDLE_VIEWS;

/**
 * A server with TimescaleDB and the extension created in the database at url. The real one's job scheduler is
 * stopped, as in WASM: policies run when a test runs them (the scheduler's own runs would race the assertions; and
 * the TimescaleDB build on our machines fails every background job, its own included, with `cannot drop portal ""
 * while it is being set up`, while the same jobs run fine in the foreground).
 */
interface Server {
  url: string;
  stop(): Promise<void>;
}

async function realTimescale(): Promise<Server> {
  const cluster = await startTimescaleCluster();
  await sql(cluster.url, 'CREATE DATABASE ticks_sql');
  const url = cluster.urlFor('ticks_sql');
  await sql(url, 'CREATE EXTENSION timescaledb');
  await sql(url, 'SELECT _timescaledb_functions.stop_background_workers()');
  return { url, stop: () => cluster.stop() };
}

const SERVERS = [
  { label: 'TimescaleDB 2.23 (WASM)', start: startPgliteTimescale, present: true },
  { label: `the installed TimescaleDB ${TIMESCALE?.version}`, start: realTimescale, present: Boolean(TIMESCALE) },
];

sayWhenTimescaleIsMissing();

let db: Server | undefined;
let client: pg.Client;
/** UTC days relative to today, so that on a real server (where the job scheduler runs) no policy touches a day
 *  before the test means it to: DAY is outside every refresh window (at most a day back), younger than the
 *  30-day columnstore horizon; OLD is past it; ANCIENT is past the 90-day retention. */
let DAY: string, NEXT_DAY: string, OLD: string, ANCIENT: string;

async function q<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]> {
  return (await client.query<T>(text, values)).rows;
}

/** What the DDL creates, to compare one run with the next. */
async function inventory(): Promise<unknown> {
  return {
    jobs: await q(`SELECT application_name, proc_name, config::text, schedule_interval::text
                   FROM timescaledb_information.jobs ORDER BY job_id`),
    caggs: await q(`SELECT view_schema, view_name FROM timescaledb_information.continuous_aggregates ORDER BY 2`),
    indexes: await q(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, [SCHEMA]),
    hypertables: await q(`SELECT hypertable_schema, hypertable_name, compression_enabled
                          FROM timescaledb_information.hypertables ORDER BY 1, 2`),
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

async function connect(server: (typeof SERVERS)[number]): Promise<void> {
  db = await server.start();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  // The file creates everything in the current schema. The search_path does not reach the extension's schema
  // (public) on purpose: the file must find create_hypertable & co by itself.
  await q(`CREATE SCHEMA ${SCHEMA}`);
  await q(`SET search_path = ${SCHEMA}`);
  const [days] = await q<{ day: string; next_day: string; old: string; ancient: string }>(`
    SELECT to_char(d - 10, 'YYYY-MM-DD') AS day, to_char(d - 9, 'YYYY-MM-DD') AS next_day,
           to_char(d - 40, 'YYYY-MM-DD') AS old, to_char(d - 100, 'YYYY-MM-DD') AS ancient
    FROM (SELECT (now() AT TIME ZONE 'UTC')::date AS d) AS today`);
  ({ day: DAY, next_day: NEXT_DAY, old: OLD, ancient: ANCIENT } = days!);
}

async function disconnect(): Promise<void> {
  await client?.end().catch(() => {});
  await db?.stop();
  db = undefined;
}

describe.each(SERVERS.filter((server) => server.present))('sql/timescaledb/tick_data.sql on $label', (server) => {
  beforeAll(() => connect(server));
  afterAll(disconnect);

  it('applies as one multi-statement query, twice, and the second run changes nothing', async () => {
    await client.query(DDL);
    const first = await inventory();
    // The extension's schema was appended, after the caller's.
    expect(await q(`SELECT current_setting('search_path') AS p`)).toEqual([{ p: `${SCHEMA}, public` }]);
    await client.query(DDL);
    expect(await inventory()).toEqual(first);
    expect(await q(`SELECT current_setting('search_path') AS p`)).toEqual([{ p: `${SCHEMA}, public` }]);
  });

  it('never turns on direct compress COPY (crashed 2.24 here; loses client-ordered rows on 2.21–2.25)', async () => {
    const statements = DDL.split('\n')
      .map((line) => line.replace(/--.*$/, ''))
      .join('\n');
    expect(statements).not.toMatch(/direct_compress/i);
    // The master switches (2.21+; no row on older servers) are still off after applying the file.
    expect(
      await q(`SELECT name FROM pg_settings WHERE setting <> 'off' AND name IN
                    ('timescaledb.enable_direct_compress_copy', 'timescaledb.enable_direct_compress_copy_client_sorted')`),
    ).toEqual([]);
  });

  it("creates tick_data with the seeds' columns, in the current schema, indexed on (symbol, time DESC)", async () => {
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
    const indexes = await q<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'tick_data'`,
      [SCHEMA],
    );
    expect(indexes.map((i) => i.indexdef)).toContain(
      `CREATE INDEX tick_data_symbol_time_idx ON ${SCHEMA}.tick_data USING btree (symbol, "time" DESC)`,
    );
    expect(await q(`SELECT 1 FROM pg_tables WHERE tablename = 'tick_data' AND schemaname <> $1`, [SCHEMA])).toEqual([]);
  });

  it('makes tick_data a hypertable with 1-day chunks and the columnstore segmented by symbol', async () => {
    expect(
      await q(`SELECT hypertable_schema, hypertable_name, num_dimensions, compression_enabled
                    FROM timescaledb_information.hypertables`),
    ).toEqual([
      { hypertable_schema: SCHEMA, hypertable_name: 'tick_data', num_dimensions: 1, compression_enabled: true },
    ]);
    expect(
      await q(`SELECT column_name, dimension_type, time_interval::text AS time_interval
                    FROM timescaledb_information.dimensions WHERE hypertable_name = 'tick_data'`),
    ).toEqual([{ column_name: 'time', dimension_type: 'Time', time_interval: '1 day' }]);
    // The 2.18+ view of the columnstore settings.
    expect(
      await q(
        `SELECT segmentby, orderby FROM timescaledb_information.hypertable_columnstore_settings
                    WHERE hypertable = $1::regclass`,
        [`${SCHEMA}.tick_data`],
      ),
    ).toEqual([{ segmentby: 'symbol', orderby: '"time" DESC' }]);
  });

  it('HYPERTABLE_INTERVAL_SQL gives the chunk interval by table name, qualified or through the search_path', async () => {
    for (const name of ['tick_data', `${SCHEMA}.tick_data`]) {
      const rows = await q(HYPERTABLE_INTERVAL_SQL, [name]);
      expect(rows).toHaveLength(1);
      expect(String(rows[0]!.chunk_interval_seconds)).toBe('86400');
      expect(rows[0]!.chunk_interval.toPostgres()).toBe('1 days');
    }
    expect(await q(HYPERTABLE_INTERVAL_SQL, ['no_such_table'])).toEqual([]);
    expect(await q(HYPERTABLE_INTERVAL_SQL, ['pg_catalog.pg_class'])).toEqual([]);
  });

  it('TIMESCALEDB_VERSION_SQL reads the installed version (2.18+ names are used)', async () => {
    const rows = await q<{ extversion: string }>(TIMESCALEDB_VERSION_SQL);
    expect(rows).toHaveLength(1);
    const [major, minor] = rows[0]!.extversion.split('.').map(Number);
    expect(major).toBe(2);
    expect(minor).toBeGreaterThanOrEqual(18);
  });

  it('POLICIES_SQL lists one columnstore policy (30 days) and one retention policy (90 days) on tick_data', async () => {
    const rows = await q(POLICIES_SQL, ['tick_data']);
    expect(rows.map((r) => [r.proc_name, r.config.compress_after ?? r.config.drop_after])).toEqual([
      ['policy_compression', '30 days'],
      ['policy_retention', '90 days'],
    ]);
    expect(rows[0]!.application_name).toMatch(/^Columnstore Policy/);
    expect(rows.every((r) => r.scheduled === true)).toBe(true);
    expect(await q(POLICIES_SQL, [`${SCHEMA}.tick_data`])).toEqual(rows);
    expect(await q(POLICIES_SQL, ['no_such_table'])).toEqual([]);
  });

  it('CAGGS_SQL shows the four candle views, each coarser one built on the finer one', async () => {
    const rows = await q(CAGGS_SQL);
    expect(rows.map((r) => [r.view_schema, r.view_name, r.parent_view_name, r.materialized_only]).sort()).toEqual([
      [SCHEMA, 'candle_15m', 'candle_5m', true],
      [SCHEMA, 'candle_1h', 'candle_15m', true],
      [SCHEMA, 'candle_1m', null, true],
      [SCHEMA, 'candle_5m', 'candle_1m', true],
    ]);
    const oneMinute = rows.find((r) => r.view_name === 'candle_1m')!;
    expect([oneMinute.source_schema, oneMinute.source_table]).toEqual([SCHEMA, 'tick_data']);
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

  it('CAGG_REFRESH_POLICIES_SQL finds one refresh policy per candle view (candle_1m: story 1.6)', async () => {
    const rows = await q(CAGG_REFRESH_POLICIES_SQL);
    const byView = Object.fromEntries(
      rows.map((r) => [r.view_name, [r.config.start_offset, r.config.end_offset, r.schedule_interval.toPostgres()]]),
    );
    expect(rows).toHaveLength(4);
    expect(byView).toEqual({
      candle_1m: ['01:00:00', '00:01:00', '1 minutes'],
      candle_5m: ['02:00:00', '00:05:00', '5 minutes'],
      candle_15m: ['06:00:00', '00:15:00', '15 minutes'],
      candle_1h: ['1 day', '01:00:00', '1 hours'],
    });
    expect(rows.every((r) => r.scheduled === true)).toBe(true);
  });

  it('refresh_continuous_aggregate materializes exact OHLCV candles, level by level', async () => {
    await q(fixtureTicksSql(DAY));
    const candles = (view: string) =>
      q(
        `
      SELECT ${CANDLE_COLUMNS_SQL}
      FROM ${view} WHERE bucket >= $1 AND bucket < $2 ORDER BY symbol, bucket`,
        [DAY, NEXT_DAY],
      );
    const c = candle;

    expect(await candles('candle_1m')).toEqual([]); // WITH NO DATA, materialized only
    await q(`CALL refresh_continuous_aggregate('candle_1m', '${DAY}', '${NEXT_DAY}')`);
    expect(await candles('candle_1m')).toEqual(EXPECTED_CANDLES.candle_1m);

    await q(`CALL refresh_continuous_aggregate('candle_5m', '${DAY}', '${NEXT_DAY}')`);
    expect(await candles('candle_5m')).toEqual(EXPECTED_CANDLES.candle_5m);

    await q(`CALL refresh_continuous_aggregate('candle_15m', '${DAY}', '${NEXT_DAY}')`);
    await q(`CALL refresh_continuous_aggregate('candle_1h', '${DAY}', '${NEXT_DAY}')`);
    expect(await candles('candle_15m')).toEqual(EXPECTED_CANDLES.candle_15m);
    expect(await candles('candle_1h')).toEqual(EXPECTED_CANDLES.candle_1h);

    // A late tick is picked up by the next refresh of the minute it falls in, and flows up the hierarchy.
    await q(
      `INSERT INTO tick_data (time, symbol, last_price, volume) VALUES ('${DAY} 10:00:59+00', 'EURUSD', 0.80, 1)`,
    );
    for (const view of VIEWS) await q(`CALL refresh_continuous_aggregate('${view}', '${DAY}', '${NEXT_DAY}')`);
    expect((await candles('candle_1h'))[0]).toEqual(
      c('10:00', 'EURUSD', '1.10000000', '1.50000000', '0.80000000', '1.40000000', '23'),
    );
  });

  it('the refresh policies, run as jobs, materialize what their windows hold, level by level', async () => {
    // 45 minutes back, a tick a minute: inside candle_1m's window (1 hour back), and every 5- and 15-minute bucket
    // they fall in is complete inside the 5m and 15m windows. Their hour cannot be: candle_1h stops an hour short of
    // now while candle_1m looks back only an hour, so the hour fills on a later run, never on this one.
    await q(`INSERT INTO tick_data (time, symbol, last_price, volume)
             SELECT date_trunc('minute', now() - INTERVAL '45 minutes') + s * INTERVAL '1 minute', 'JOBTEST', 10 + s, 1
             FROM generate_series(0, 8) AS s`);
    const jobs = await q<{ view_name: string; job_id: number }>(CAGG_REFRESH_POLICIES_SQL);
    for (const view of VIEWS) await q(`CALL run_job($1)`, [jobs.find((j) => j.view_name === view)!.job_id]);
    for (const view of ['candle_1m', 'candle_5m', 'candle_15m']) {
      expect(
        await q(`SELECT (array_agg(open ORDER BY bucket))[1]::text AS open, max(high)::text AS high,
                        min(low)::text AS low, (array_agg(close ORDER BY bucket DESC))[1]::text AS close,
                        sum(volume)::text AS volume
                 FROM ${view} WHERE symbol = 'JOBTEST'`),
        view,
      ).toEqual([{ open: '10.00000000', high: '18.00000000', low: '10.00000000', close: '18.00000000', volume: '9' }]);
    }
    expect(await q(`SELECT count(*)::int AS n FROM candle_1m WHERE symbol = 'JOBTEST'`)).toEqual([{ n: 9 }]);
    expect(await q(`SELECT count(*)::int AS n FROM candle_1h WHERE symbol = 'JOBTEST'`)).toEqual([{ n: 0 }]);
  });

  it('the columnstore policy, run as a job, moves chunks older than 30 days to the columnstore', async () => {
    await q(`INSERT INTO tick_data (time, symbol, last_price, volume) VALUES
      ('${OLD} 12:00:00+00', 'OLDTICK', 3.5, 1), ('${OLD} 12:00:01+00', 'OLDTICK', 3.25, 2), ('${OLD} 13:00:00+00', 'OLDTICK', 3.75, 3)`);
    const [policy] = (await q<{ job_id: number; proc_name: string }>(POLICIES_SQL, ['tick_data'])).filter(
      (r) => r.proc_name === 'policy_compression',
    );
    await q(`CALL run_job($1)`, [policy!.job_id]);
    const chunks = await q<{ old: boolean; is_compressed: boolean }>(`
      SELECT range_end <= now() - INTERVAL '30 days' AS old, is_compressed FROM timescaledb_information.chunks
      WHERE hypertable_name = 'tick_data' ORDER BY range_start`);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const chunk of chunks) expect(chunk.is_compressed).toBe(chunk.old);
    expect(chunks.filter((chunk) => chunk.old)).toHaveLength(1); // OLD's chunk
    // Still readable, by symbol (the segment) and in time order.
    expect(
      await q(`SELECT string_agg(last_price::text, ',' ORDER BY time DESC) AS prices, sum(volume)::text AS v
                    FROM tick_data WHERE symbol = 'OLDTICK'`),
    ).toEqual([{ prices: '3.75000000,3.25000000,3.50000000', v: '6' }]);
  });

  it('applies again over existing data and a chunk already in the columnstore', async () => {
    expect(
      await q(`SELECT count(*)::int AS n FROM timescaledb_information.chunks
                    WHERE hypertable_name = 'tick_data' AND is_compressed`),
    ).toEqual([{ n: 1 }]);
    const before = await inventory();
    await client.query(DDL);
    expect(await inventory()).toEqual(before);
    expect(await q(`SELECT count(*)::int AS n FROM tick_data`)).toEqual([{ n: 10 + 9 + 3 }]);
  });

  it('the retention policy, run as a job, drops ticks older than 90 days and leaves their candles', async () => {
    await q(`INSERT INTO tick_data (time, symbol, last_price, volume) VALUES
      ('${ANCIENT} 12:00:00+00', 'ANCIENT', 7, 1), ('${ANCIENT} 12:00:30+00', 'ANCIENT', 8, 1)`);
    await q(`CALL refresh_continuous_aggregate('candle_1m', '${ANCIENT}', '${ANCIENT}'::date + 1)`);
    const candle = await q(`SELECT open::text, close::text, volume::int FROM candle_1m WHERE symbol = 'ANCIENT'`);
    expect(candle).toEqual([{ open: '7.00000000', close: '8.00000000', volume: 2 }]);

    const [policy] = (await q<{ job_id: number; proc_name: string }>(POLICIES_SQL, ['tick_data'])).filter(
      (r) => r.proc_name === 'policy_retention',
    );
    await q(`CALL run_job($1)`, [policy!.job_id]);
    expect(await q(`SELECT count(*)::int AS n FROM tick_data WHERE time < now() - INTERVAL '90 days'`)).toEqual([
      { n: 0 },
    ]);
    expect(await q(`SELECT count(*)::int AS n FROM tick_data`)).toEqual([{ n: 10 + 9 + 3 }]);
    // Candles are materialized data of their own: raw retention does not remove them.
    expect(await q(`SELECT open::text, close::text, volume::int FROM candle_1m WHERE symbol = 'ANCIENT'`)).toEqual(
      candle,
    );
  });

  it('FAILING_JOBS_SQL is empty while no job has failed, and lists a job whose last run failed', async () => {
    // Only this test's jobs: on a real server TimescaleDB's own background jobs may have run (and failed) already.
    const ours = async (): Promise<Record<string, unknown>[]> =>
      (await q(FAILING_JOBS_SQL)).filter((row) => row.proc_schema === SCHEMA);
    expect(await ours()).toEqual([]);

    await q(`CREATE FUNCTION ${SCHEMA}.backstop_failing_job(job_id integer, config jsonb) RETURNS void
             LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'backstop test job fails on purpose'; END $$`);
    const [{ id }] = (await q<{ id: number }>(
      `SELECT add_job('${SCHEMA}.backstop_failing_job', INTERVAL '1 day', scheduled => false) AS id`,
    )) as [{ id: number }];
    // run_job executes it in the foreground: the error reaches the caller.
    await expect(client.query(`CALL run_job($1)`, [id])).rejects.toThrow(/fails on purpose/);

    // There is no job scheduler in WASM, and a foreground run_job records no run, so the failed run the scheduler
    // would record is written into its stats table by hand. What is checked is the query against the real
    // job_stats/jobs views of 2.23, not the scheduler.
    const recorded = await client.query(
      `
      UPDATE _timescaledb_internal.bgw_job_stat
      SET last_start = now() - INTERVAL '1 minute', last_finish = now(), last_run_success = false,
          total_runs = total_runs + 1, total_failures = total_failures + 1, consecutive_failures = 1
      WHERE job_id = $1`,
      [id],
    );
    expect(recorded.rowCount).toBe(1);

    const failing = await ours();
    expect(
      failing.map((r) => [r.job_id, r.proc_schema, r.proc_name, r.last_run_status, String(r.total_failures)]),
    ).toEqual([[id, SCHEMA, 'backstop_failing_job', 'Failed', '1']]);
    await q(`SELECT delete_job($1)`, [id]);
    expect(await ours()).toEqual([]);
  });
});
