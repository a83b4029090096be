import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import { CANDLE_VIEWS } from '../../actions/lib/ticks/ddl.ts';
import {
  emptyDatabase,
  sql,
  startPlainTestCluster,
  startTestCluster,
  type ScratchCluster,
} from '../harness/postgres.ts';
import { runAction, type ActionRun } from '../harness/runner.ts';
import { sayWhenTimescaleIsMissing, startTimescaleCluster, TIMESCALE } from '../harness/timescale.ts';

/**
 * migrate-ticks run as the bundle, between real PostgreSQL clusters: a source of the seeds' shape (story 1.6) on the
 * newest local PostgreSQL, into native daily partitions on a PostgreSQL without TimescaleDB (the embedded
 * PostgreSQL 18, whatever this machine has installed), and into a real TimescaleDB hypertable when one is installed
 * here (test/harness/timescale.ts); that part is skipped, with the reason printed, otherwise.
 */
sayWhenTimescaleIsMissing();

let source: ScratchCluster;
let plain: ScratchCluster;
let sourceUrl: string;
const DAYS = 6;
const TICKS = 240_000;
const SEED_COLUMNS = [
  'time timestamp with time zone not null',
  'symbol text not null',
  'bid_price numeric(20,8)',
  'ask_price numeric(20,8)',
  'last_price numeric(20,8)',
  'volume bigint',
  'source text',
  'trade_id uuid',
  'account_id uuid',
];

let databases = 0;

/**
 * Seed-shaped ticks over six UTC days from `from`, with NULLs, numeric(20,8) precision at its limits, microseconds
 * and uuids, in a source database whose sessions are not UTC.
 */
async function tickSource(ticks: number, from: string): Promise<string> {
  const name = `ticks_${++databases}`;
  await sql(source.url, `CREATE DATABASE ${name}`);
  await sql(source.url, `ALTER DATABASE ${name} SET TimeZone = 'America/New_York'`);
  const url = source.urlFor(name);
  await sql(
    url,
    `
    CREATE TABLE tick_data (time timestamptz NOT NULL, symbol text NOT NULL, bid_price numeric(20,8),
                            ask_price numeric(20,8), last_price numeric(20,8), volume bigint, source text,
                            trade_id uuid, account_id uuid);
    INSERT INTO tick_data
    SELECT timestamptz '${from} 00:00:00+00' + i * (interval '1 day' * ${DAYS} / ${ticks}) + (i % 997) * interval
      '1 microsecond',
           (ARRAY['ES', 'NQ', 'BTCUSD', 'EURUSD'])[1 + i % 4],
           CASE WHEN i % 101 = 0 THEN NULL ELSE round((99.99 + sin(i / 50.0))::numeric, 8) END,
           CASE WHEN i % 103 = 0 THEN NULL ELSE 123456789012.12345678 END,
           CASE WHEN i % 211 = 0 THEN NULL ELSE round((100 + 10 * sin(i / 5000.0))::numeric, 8) + 0.00000001 * (i % 7)
           END,
           CASE WHEN i % 107 = 0 THEN NULL ELSE (i % 13) + 1 END,
           (ARRAY['cme', 'binance', NULL])[1 + i % 3],
           CASE WHEN i % 50 = 0 THEN md5('trade' || i)::uuid END,
           CASE WHEN i % 50 = 0 THEN md5('account' || i % 11)::uuid END
    FROM generate_series(0, ${ticks} - 1) AS i;`,
  );
  return url;
}

/** Per UTC day: rows, exact sums, counts of NULLs and the newest microsecond — what must survive the copy exactly. */
const PER_DAY = `SELECT (time AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS n,
  sum(last_price)::text AS last, sum(volume)::text AS volume, count(bid_price)::int AS bids,
  count(ask_price)::int AS asks, sum(ask_price)::text AS ask_sum, count(source)::int AS sources,
  md5(string_agg(trade_id::text || account_id::text, ',' ORDER BY time)) AS trades,
  max(to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))::text AS newest
  FROM tick_data GROUP BY 1 ORDER BY 1`;

async function columns(url: string): Promise<string[]> {
  const rows = await sql<{ c: string }>(
    url,
    `SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END AS c
     FROM pg_attribute WHERE attrelid = 'public.tick_data'::regclass AND attnum > 0 AND NOT attisdropped
     ORDER BY attnum`,
  );
  return rows.map((row) => row.c);
}

const warnings = (run: ActionRun): string[] => run.stdout.split('\n').filter((line) => line.startsWith('::warning'));

/** SIGKILLs the run once two ranges are logged: one committed or more, another under way. */
const killAfterTwoRanges = {
  onStart: (child: ChildProcess) => {
    let rangesSeen = 0;
    child.stdout!.on('data', (text: Buffer) => {
      rangesSeen += (String(text).match(/ rows in /g) ?? []).length;
      if (rangesSeen >= 2) child.kill('SIGKILL');
    });
  },
};

/** Kills a migration mid-run, resumes it, and checks the target holds the source exactly, without duplicates. */
async function killAndResume(big: string, targetUrl: string): Promise<void> {
  const inputs = { 'source-url': big, 'target-url': targetUrl, workers: '1' };
  const killed = await runAction('migrate-ticks', inputs, killAfterTwoRanges);
  expect(killed.code).toBeNull();
  const partial = await sql<{ n: number }>(targetUrl, 'SELECT count(*)::int AS n FROM backstop.tick_ledger');
  expect(partial[0]!.n).toBeGreaterThanOrEqual(2);
  expect(partial[0]!.n).toBeLessThan(DAYS);

  const resumed = await runAction('migrate-ticks', { 'source-url': big, 'target-url': targetUrl, workers: '2' });
  expect(resumed.errors).toEqual([]);
  expect(Number(resumed.outputs['chunks-skipped'])).toBe(partial[0]!.n);
  expect(Number(resumed.outputs['chunks-copied']) + partial[0]!.n).toBe(DAYS);
  expect(await sql(targetUrl, PER_DAY)).toEqual(await sql(big, PER_DAY));
  const duplicates = 'SELECT time, symbol, count(*) FROM tick_data GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 1';
  expect(await sql(targetUrl, duplicates)).toEqual(await sql(big, duplicates));
}

beforeAll(async () => {
  [source, plain] = await Promise.all([startTestCluster(), startPlainTestCluster()]);
  sourceUrl = await tickSource(TICKS, '2026-01-05');
});

afterAll(async () => {
  await Promise.all([source?.stop(), plain?.stop()]);
});

describe('migrate-ticks into native partitions (a PostgreSQL without TimescaleDB)', () => {
  it('copies every day exactly, verifies each range, and a rerun copies nothing', async () => {
    const targetUrl = await emptyDatabase(plain);
    const run = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl, workers: '2' });
    expect(run.errors).toEqual([]);
    expect(warnings(run)).toEqual([]);
    expect(run.outputs).toMatchObject({
      'rows-copied': String(TICKS),
      'chunks-copied': String(DAYS),
      'chunks-skipped': '0',
      verified: 'true',
    });
    expect(Number(run.outputs['rows-per-second'])).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/2026-01-05: [\d,]+ rows in [\d.]+ s .* ranges/);
    expect(run.summary).toContain('(partitioned)');
    expect(run.summary).toContain('not installed in the target');
    expect(run.summary).toContain(
      '| Candles | candle_1m, candle_5m, candle_15m, candle_1h: open/high/low/close from last_price, volume from volume |',
    );
    expect(await columns(targetUrl)).toEqual(SEED_COLUMNS);
    expect(await sql(targetUrl, PER_DAY)).toEqual(await sql(sourceUrl, PER_DAY));
    const partitions = await sql<{ n: number }>(
      targetUrl,
      "SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.tick_data'::regclass",
    );
    expect(partitions[0]!.n).toBeGreaterThanOrEqual(DAYS);
    expect(await sql(targetUrl, 'SELECT matviewname AS v FROM pg_matviews ORDER BY 1')).toEqual(
      [...CANDLE_VIEWS].sort().map((v) => ({ v })),
    );
    const ledger = await sql<{ n: number; rows: number }>(
      targetUrl,
      'SELECT count(*)::int AS n, sum(rows)::int AS rows FROM backstop.tick_ledger',
    );
    expect(ledger[0]).toEqual({ n: DAYS, rows: TICKS });
    // verify: stream (the default) records the sha256 of each range's binary stream.
    const checksums = await sql<{ c: string }>(targetUrl, 'SELECT checksum AS c FROM backstop.tick_ledger');
    expect(
      checksums.every((row) => /^sha256:[0-9a-f]{64}$/.test(row.c)),
      JSON.stringify(checksums),
    ).toBe(true);
    expect(run.summary).toContain("counts along the stream: the source's COPY, the tuples crossing the pipe");

    const again = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl });
    expect(again.errors).toEqual([]);
    expect(again.outputs).toMatchObject({ 'rows-copied': '0', 'chunks-copied': '0', 'chunks-skipped': String(DAYS) });
    expect(await sql(targetUrl, 'SELECT count(*)::int AS n FROM tick_data')).toEqual([{ n: TICKS }]);
  });

  it('verify: reread reads every range back on both sides and records its row checksum', async () => {
    const targetUrl = await emptyDatabase(plain);
    const inputs = { 'source-url': sourceUrl, 'target-url': targetUrl, verify: 'reread', from: '2026-01-05' };
    const run = await runAction('migrate-ticks', { ...inputs, to: '2026-01-07' });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'chunks-copied': '2', verified: 'true' });
    expect(run.stdout).toContain('then read back on both sides for its row count and a 64-bit hash_record_extended');
    expect(run.summary).toContain('then every row read back on both sides');
    const checksums = await sql<{ c: string }>(targetUrl, 'SELECT checksum AS c FROM backstop.tick_ledger');
    expect(checksums).toHaveLength(2);
    expect(checksums.some((row) => row.c.startsWith('sha256:'))).toBe(false);
  });

  /** A plain seed-shaped target (setup: none) whose trigger `body` runs before each inserted row. */
  async function targetWithTrigger(body: string, before = ''): Promise<string> {
    const targetUrl = await emptyDatabase(plain);
    await sql(
      targetUrl,
      `${before} CREATE TABLE tick_data (${SEED_COLUMNS.join(', ')});
       CREATE FUNCTION meddle() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} END $$;
       CREATE TRIGGER meddle BEFORE INSERT ON tick_data FOR EACH ROW EXECUTE FUNCTION meddle();`,
    );
    return targetUrl;
  }

  async function expectRefused(targetUrl: string, verify: string, message: RegExp): Promise<void> {
    const run = await runAction('migrate-ticks', {
      'source-url': sourceUrl,
      'target-url': targetUrl,
      setup: 'none',
      verify,
      from: '2026-01-05',
      to: '2026-01-06',
    });
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(message);
    expect(run.errors[0]).toContain('Nothing of this range was kept');
    expect(await sql(targetUrl, 'SELECT count(*)::int AS n FROM tick_data')).toEqual([{ n: 0 }]);
    expect(await sql(targetUrl, 'SELECT count(*)::int AS n FROM backstop.tick_ledger')).toEqual([{ n: 0 }]);
  }

  it.each(['stream', 'reread'])('verify: %s catches a target that silently drops rows on insert', async (verify) => {
    const targetUrl = await targetWithTrigger("IF NEW.symbol = 'NQ' THEN RETURN NULL; END IF; RETURN NEW;");
    await expectRefused(
      targetUrl,
      verify,
      /Range 2026-01-05 did not verify: the source sent 40000 rows, 40000 crossed the pipe, the target stored 30000\./,
    );
  });

  it('verify: reread also catches a target that rewrites values on insert, which counts cannot see', async () => {
    const targetUrl = await targetWithTrigger('NEW.volume := 0; RETURN NEW;');
    await expectRefused(targetUrl, 'reread', /Range 2026-01-05 did not verify: the source has 40000 rows \(checksum/);
  });

  it('a range the server rolls back for a deadlock is copied again; one that keeps failing stops the run', async () => {
    // The first row inserted raises deadlock_detected, as PostgreSQL does to one of two deadlocked COPYs creating
    // TimescaleDB chunks; a sequence is not rolled back, so only the first attempt fails.
    const once = await targetWithTrigger(
      "IF nextval('attempts') = 1 THEN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END IF; RETURN NEW;",
      'CREATE SEQUENCE attempts;',
    );
    const inputs = { 'source-url': sourceUrl, setup: 'none', from: '2026-01-05', to: '2026-01-06' };
    const run = await runAction('migrate-ticks', { ...inputs, 'target-url': once });
    expect(run.errors).toEqual([]);
    expect(run.stdout).toMatch(
      /2026-01-05: deadlock detected \(the server rolled the range back whole\): copying it again/,
    );
    expect(run.outputs).toMatchObject({ 'rows-copied': '40000', verified: 'true' });
    expect(await sql(once, 'SELECT count(*)::int AS n FROM tick_data')).toEqual([{ n: 40_000 }]);

    const always = await targetWithTrigger("RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';");
    const failed = await runAction('migrate-ticks', { ...inputs, 'target-url': always });
    expect(failed.code).toBe(1);
    expect(failed.errors).toEqual([expect.stringMatching(/^::error::deadlock detected \(0 of 1 ranges were copied/)]);
    expect(failed.stdout.match(/copying it again/g)).toHaveLength(3);
  });

  it('resumes exactly after SIGKILL: no duplicates, every day equal to the source', async () => {
    await killAndResume(await tickSource(1_200_000, '2026-01-05'), await emptyDatabase(plain));
  });

  it('shards split the ranges between runs, and from/to bound them', async () => {
    const targetUrl = await emptyDatabase(plain);
    const inputs = { 'source-url': sourceUrl, 'target-url': targetUrl, from: '2026-01-06', to: '2026-01-10' };
    const first = await runAction('migrate-ticks', { ...inputs, shard: '1/2' });
    const second = await runAction('migrate-ticks', { ...inputs, shard: '2/2' });
    expect([first.outputs['chunks-copied'], second.outputs['chunks-copied']]).toEqual(['2', '2']);
    // Explicit UTC bounds: the source database's sessions are in New York time.
    const window = PER_DAY.replace(
      'GROUP BY',
      "WHERE time >= '2026-01-06 00:00+00' AND time < '2026-01-10 00:00+00' GROUP BY",
    );
    expect(await sql(targetUrl, PER_DAY)).toEqual(await sql(sourceUrl, window));
  });

  it('a dry run prints the plan and writes nothing', async () => {
    const targetUrl = await emptyDatabase(plain);
    const dry = await runAction('migrate-ticks', {
      'source-url': sourceUrl,
      'target-url': targetUrl,
      'dry-run': 'true',
    });
    expect(dry.errors).toEqual([]);
    expect(dry.outputs).toMatchObject({ 'rows-copied': '0', verified: 'false' });
    expect(dry.summary).toContain(`${DAYS} range(s), ${TICKS.toLocaleString('en-US')} rows to copy`);
    expect(dry.summary).toContain('| 2026-01-05 | 40,000 | to copy |');
    expect(
      await sql(
        targetUrl,
        'SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname ' +
          "NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
      ),
    ).toEqual([{ n: 0 }]);
  });
});

describe("setup: auto builds the target from the source's own columns", () => {
  async function customSource(ddl: string): Promise<string> {
    const name = `custom_${++databases}`;
    await sql(source.url, `CREATE DATABASE ${name}`);
    const url = source.urlFor(name);
    await sql(url, ddl);
    return url;
  }

  it('keeps every column exactly (types, nullability, extra columns); price falls back to price', async () => {
    const url = await customSource(`
      CREATE TABLE tick_data (time timestamptz NOT NULL, symbol varchar(12) NOT NULL, price double precision,
                              qty integer NOT NULL, flags smallint[], venue text NOT NULL DEFAULT 'x', raw jsonb);
      INSERT INTO tick_data
      SELECT timestamptz '2026-01-05 10:00:00+00' + i * interval '20 seconds', 'ES', 100 + i % 5, 1 + i % 3,
             ARRAY[i % 2, i % 3]::smallint[], 'cme', jsonb_build_object('i', i)
      FROM generate_series(0, 99) AS i;`);
    const targetUrl = await emptyDatabase(plain);
    const run = await runAction('migrate-ticks', {
      'source-url': url,
      'target-url': targetUrl,
      'volume-column': 'qty',
    });
    expect(run.errors).toEqual([]);
    expect(warnings(run)).toEqual([]);
    expect(run.outputs).toMatchObject({ 'rows-copied': '100', verified: 'true' });
    expect(run.summary).toContain('open/high/low/close from price, volume from qty');
    expect(await columns(targetUrl)).toEqual(await columns(url));
    expect(await columns(targetUrl)).toEqual([
      'time timestamp with time zone not null',
      'symbol character varying(12) not null',
      'price double precision',
      'qty integer not null',
      'flags smallint[]',
      'venue text not null',
      'raw jsonb',
    ]);
    await sql(targetUrl, 'SELECT backstop_refresh_candles()');
    expect(await sql(targetUrl, 'SELECT symbol, open, high, low, close, volume::int AS volume FROM candle_1h')).toEqual(
      [{ symbol: 'ES', open: 100, high: 104, low: 100, close: 104, volume: 199 }],
    );
  });

  it('a source without price and volume columns still migrates; the candles are skipped with one warning', async () => {
    const url = await customSource(`
      CREATE TABLE tick_data (time timestamptz NOT NULL, symbol text NOT NULL, bid numeric(20,8));
      INSERT INTO tick_data
      SELECT timestamptz '2026-01-05' + i * interval '1 hour', 'ES', i FROM generate_series(0, 47) AS i;`);
    const targetUrl = await emptyDatabase(plain);
    const run = await runAction('migrate-ticks', { 'source-url': url, 'target-url': targetUrl });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'rows-copied': '48', 'chunks-copied': '2', verified: 'true' });
    expect(warnings(run)).toEqual([
      expect.stringContaining(
        'No candles: public.tick_data has no last_price or price column, no volume column "volume" (input ' +
          '"volume-column"), so the candle aggregates are skipped; the ticks are copied all the same. For candles, ' +
          'set input "price-column" and input "volume-column" to its columns (it has time, symbol, bid).',
      ),
    ]);
    expect(run.summary).toContain('| Candles | none (see the warning) |');
    expect(await sql(targetUrl, 'SELECT count(*)::int AS n FROM pg_matviews')).toEqual([{ n: 0 }]);
    expect(await columns(targetUrl)).toEqual(await columns(url));
  });

  it('a target that exists with other columns fails with one line saying what to do, and writes nothing', async () => {
    const targetUrl = await emptyDatabase(plain);
    await sql(targetUrl, 'CREATE TABLE tick_data (time timestamptz NOT NULL, symbol text, price numeric, bid numeric)');
    const run = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringContaining(
        'Target public.tick_data already exists with column(s) price, bid that source public.tick_data lacks. ' +
          'With input "setup" auto, a missing target is created from the source\'s columns, but an existing table ' +
          'is never changed: drop or rename public.tick_data and run again, or give the source those columns.',
      ),
    ]);
    expect(await sql(targetUrl, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'backstop'")).toEqual([
      { n: 0 },
    ]);
    const none = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl, setup: 'none' });
    expect(none.errors).toEqual([
      expect.stringMatching(/lacks\. Drop those columns from public\.tick_data, give the source those columns, or /),
    ]);
  });
});

describe('bad inputs', () => {
  it.each([
    [
      { 'source-table': 'no_such_table' },
      'Input "source-table": no_such_table does not exist in postgresql://postgres@127.0.0.1',
    ],
    [
      { 'time-column': 'ts' },
      'has no column "ts" (it has time, symbol, bid_price, ask_price, last_price, volume, source, trade_id, ' +
        'account_id): set input "time-column"',
    ],
    [{ 'time-column': 'symbol' }, 'Column "symbol" of public.tick_data in postgresql://'],
    [
      { from: '2026-01-08', to: '2026-01-06' },
      'Input "to" (2026-01-06T00:00:00.000Z) is not after input "from" (2026-01-08T00:00:00.000Z)',
    ],
    [{ shard: '3/2' }, 'Input "shard" is "3/2": use i/n with 1 ≤ i ≤ n'],
    [{ from: 'yesterday' }, 'Input "from" is "yesterday", not a date or timestamp'],
    [{ setup: 'none' }, 'Input "target-table": public.tick_data does not exist in'],
  ])('%o gives one clear line and writes nothing', async (bad, message) => {
    const targetUrl = await emptyDatabase(plain);
    const run = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl, ...bad });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining(message)]);
    expect(await sql(targetUrl, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'backstop'")).toEqual([
      { n: 0 },
    ]);
  });

  it('every bad input at once, an error line each, and nothing written', async () => {
    const targetUrl = await emptyDatabase(plain);
    const run = await runAction('migrate-ticks', {
      'source-url': sourceUrl,
      'target-url': targetUrl,
      from: 'yesterday',
      workers: '0',
      shard: '3/2',
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(/^::error::Input "from" is "yesterday", not a date or timestamp/),
      '::error::Input "workers" is 0, out of range: set it to a whole number from 1 to 32.',
      expect.stringMatching(/^::error::Input "shard" is "3\/2": use i\/n/),
    ]);
    expect(await sql(targetUrl, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'backstop'")).toEqual([
      { n: 0 },
    ]);
  });

  it('the same database as source and target is refused before anything is written, however spelled', async () => {
    const sameUrl = `${sourceUrl}?sslmode=disable&application_name=other`;
    for (const targetUrl of [sourceUrl, sameUrl]) {
      const run = await runAction('migrate-ticks', {
        'source-url': sourceUrl,
        'target-url': targetUrl,
        'target-table': 'ticks_copy',
      });
      expect(run.code).toBe(1);
      expect(run.errors).toEqual([
        expect.stringMatching(
          new RegExp(
            '^::error::Input "source-url" and input "target-url" reach the same database \\(ticks_1 on the server ' +
              'with system identifier \\d+\\): nothing would move\\. Point input "target-url" at the database the ' +
              'ticks go to\\.$',
          ),
        ),
      ]);
    }
    expect(
      await sql(sourceUrl, "SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('ticks_copy', 'ranges')"),
    ).toEqual([{ n: 0 }]);
    expect(await sql(sourceUrl, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'backstop'")).toEqual([
      { n: 0 },
    ]);
  });

  it('an unreachable target gives one line naming target-url', async () => {
    const port = await freePort();
    const run = await runAction('migrate-ticks', {
      'source-url': sourceUrl,
      'target-url': `postgresql://u:secret-pw@127.0.0.1:${port}/ticks`,
    });
    expect(run.errors).toEqual([
      expect.stringMatching(
        /Cannot connect to postgresql:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/ticks \(input "target-url"\): .*ECONNREFUSED/,
      ),
    ]);
    expect(run.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain('secret-pw');
  });
});

describe.runIf(TIMESCALE)(`migrate-ticks into the installed TimescaleDB ${TIMESCALE?.version}`, () => {
  let timescale: ScratchCluster;
  /** Six whole UTC days ending two days ago: younger than the 30-day columnstore and 90-day retention horizons, and
   *  older than every candle refresh window (a day at most), so no background job touches them during the test. */
  let recent: string;
  let recentUrl: string;

  beforeAll(async () => {
    timescale = await startTimescaleCluster();
    recent = new Date(Math.floor(Date.now() / 86_400_000 - 8) * 86_400_000).toISOString().slice(0, 10);
    recentUrl = await tickSource(TICKS, recent);
  });
  afterAll(() => timescale?.stop());

  it('with the defaults: the source columns, a hypertable, columnstore, retention and four candles', async () => {
    const targetUrl = await emptyDatabase(timescale);
    const run = await runAction('migrate-ticks', { 'source-url': recentUrl, 'target-url': targetUrl });
    expect(run.errors).toEqual([]);
    expect(warnings(run)).toEqual([]);
    expect(run.outputs).toMatchObject({
      'rows-copied': String(TICKS),
      'chunks-copied': String(DAYS),
      verified: 'true',
    });
    expect(run.summary).toContain('(timescaledb)');
    expect(run.summary).toContain(`| TimescaleDB | ${TIMESCALE!.version} (direct-compress COPY not used) |`);
    expect(await columns(targetUrl)).toEqual(SEED_COLUMNS);
    expect(await sql(targetUrl, PER_DAY)).toEqual(await sql(recentUrl, PER_DAY));

    expect(
      await sql(
        targetUrl,
        `SELECT d.column_name, d.time_interval::text AS chunk, h.compression_enabled
         FROM timescaledb_information.hypertables h JOIN timescaledb_information.dimensions d USING
           (hypertable_schema, hypertable_name)`,
      ),
    ).toEqual([{ column_name: 'time', chunk: '1 day', compression_enabled: true }]);
    expect(
      await sql(
        targetUrl,
        `SELECT attname, segmentby_column_index AS segment, orderby_column_index AS ordered, orderby_asc AS asc
         FROM timescaledb_information.compression_settings WHERE hypertable_name = 'tick_data' ORDER BY attname`,
      ),
    ).toEqual([
      { attname: 'symbol', segment: 1, ordered: null, asc: null },
      { attname: 'time', segment: null, ordered: 1, asc: false },
    ]);
    expect(
      await sql(
        targetUrl,
        `SELECT proc_name, coalesce(config->>'compress_after', config->>'drop_after') AS after
         FROM timescaledb_information.jobs WHERE hypertable_name = 'tick_data' ORDER BY proc_name`,
      ),
    ).toEqual([
      { proc_name: 'policy_compression', after: '30 days' },
      { proc_name: 'policy_retention', after: '90 days' },
    ]);
    expect(
      await sql(
        targetUrl,
        `SELECT c.view_name, j.config->>'start_offset' AS start, j.config->>'end_offset' AS "end",
                j.schedule_interval::text AS every
         FROM timescaledb_information.continuous_aggregates c
         JOIN timescaledb_information.jobs j ON j.proc_name = 'policy_refresh_continuous_aggregate'
           AND j.hypertable_name IN (c.view_name, c.materialization_hypertable_name)
         ORDER BY j.schedule_interval`,
      ),
    ).toEqual([
      { view_name: 'candle_1m', start: '01:00:00', end: '00:01:00', every: '00:01:00' },
      { view_name: 'candle_5m', start: '02:00:00', end: '00:05:00', every: '00:05:00' },
      { view_name: 'candle_15m', start: '06:00:00', end: '00:15:00', every: '00:15:00' },
      { view_name: 'candle_1h', start: '1 day', end: '01:00:00', every: '01:00:00' },
    ]);

    const again = await runAction('migrate-ticks', { 'source-url': recentUrl, 'target-url': targetUrl });
    expect(again.errors).toEqual([]);
    expect(again.outputs).toMatchObject({ 'rows-copied': '0', 'chunks-skipped': String(DAYS) });
  });

  it('a refresh fills the candles with exactly the OHLCV of the source ticks, at every level', async () => {
    const targetUrl = await emptyDatabase(timescale);
    const run = await runAction('migrate-ticks', { 'source-url': recentUrl, 'target-url': targetUrl });
    expect(run.errors).toEqual([]);
    const end = new Date(Date.parse(`${recent}T00:00:00Z`) + DAYS * 86_400_000).toISOString();
    for (const view of CANDLE_VIEWS) {
      expect(await sql(targetUrl, `SELECT count(*)::int AS n FROM ${view}`)).toEqual([{ n: 0 }]); // WITH NO DATA
      await sql(targetUrl, `CALL refresh_continuous_aggregate('${view}', '${recent}', '${end}')`);
    }
    const seconds: Record<string, number> = { candle_1m: 60, candle_5m: 300, candle_15m: 900, candle_1h: 3600 };
    for (const view of CANDLE_VIEWS) {
      // The same candles computed from the raw source ticks by plain SQL, then both sides reduced to one digest.
      const bucket = `to_timestamp(floor(extract(epoch FROM time) / ${seconds[view]}) * ${seconds[view]})`;
      const expected = `SELECT ${bucket} AS bucket, symbol, (array_agg(last_price ORDER BY time))[1] AS open,
          max(last_price) AS high, min(last_price) AS low, (array_agg(last_price ORDER BY time DESC))[1] AS close,
          sum(volume) AS volume FROM tick_data GROUP BY 1, 2`;
      const digest = (relation: string): string =>
        `SELECT count(*)::int AS n, md5(string_agg(format('%s|%s|%s|%s|%s|%s|%s', extract(epoch FROM bucket), symbol,
           open, high, low, close, volume), ',' ORDER BY symbol, bucket)) AS digest FROM (${relation}) AS c`;
      const [want] = await sql<{ n: number }>(recentUrl, digest(expected));
      expect(want!.n).toBeGreaterThan(DAYS * 4 * 23);
      expect(await sql(targetUrl, digest(`SELECT * FROM ${view}`)), view).toEqual([want]);
    }
  });

  it('warns before copying ticks older than the retention policy, naming the job; none once it is removed', async () => {
    const targetUrl = await emptyDatabase(timescale);
    // sourceUrl's ticks start 2026-01-05, months before the 90-day horizon setup: auto's policy drops at.
    const run = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl });
    expect(run.errors).toEqual([]);
    const job = await sql<{ id: number }>(
      targetUrl,
      "SELECT job_id AS id FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'",
    );
    expect(warnings(run)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^::warning::public\\.tick_data has a retention policy \\(job ${job[0]!.id}, drop_after 90 days\\): ` +
            'the ticks copied from before \\d{4}-\\d{2}-\\d{2} \\(the oldest is 2026-01-05T00:00:00\\.000Z\\) will be ' +
            "dropped at its next run, .* remove_retention_policy\\('public\\.tick_data'\\).*\\(from\\)\\.$",
        ),
      ),
    ]);
    expect(run.outputs['rows-copied']).toBe(String(TICKS));

    const kept = await emptyDatabase(timescale);
    const first = await runAction('migrate-ticks', { 'source-url': recentUrl, 'target-url': kept });
    expect(warnings(first)).toEqual([]);
    await sql(kept, "SELECT remove_retention_policy('public.tick_data')");
    const old = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': kept, setup: 'none' });
    expect(old.errors).toEqual([]);
    expect(warnings(old)).toEqual([]);
  });

  it('resumes exactly after SIGKILL into the hypertable: no duplicates, every day equal to the source', async () => {
    await killAndResume(await tickSource(1_200_000, recent), await emptyDatabase(timescale));
  });

  it('a target that has TimescaleDB installed but not preloaded fails with one line naming the setting', async () => {
    const notPreloaded = await startTestCluster(); // this machine's PostgreSQL with TimescaleDB, started without it
    try {
      const targetUrl = await emptyDatabase(notPreloaded);
      const run = await runAction('migrate-ticks', { 'source-url': recentUrl, 'target-url': targetUrl });
      expect(run.code).toBe(1);
      expect(run.errors).toEqual([
        expect.stringMatching(
          new RegExp(
            '^::error::The server of postgresql://postgres@127\\.0\\.0\\.1:\\d+/\\w+ \\(input "target-url"\\) has ' +
              'TimescaleDB but does not preload it, so the timescaledb extension cannot be created or used there: ' +
              'add timescaledb to shared_preload_libraries .* restart the server .*, then run again\\.$',
          ),
        ),
      ]);
      expect(run.stdout).not.toMatch(/connection error|Connection terminated/i);
      expect(
        await sql(targetUrl, "SELECT to_regclass('public.tick_data') AS t, to_regnamespace('backstop') AS b"),
      ).toEqual([{ t: null, b: null }]);
    } finally {
      await notPreloaded.stop();
    }
  });

  it('a role that may not create the extension fails with one line saying who must create it', async () => {
    // timescaledb is a trusted extension: a role with CREATE on the database may create it; this one may not.
    const targetUrl = await emptyDatabase(timescale);
    const database = new URL(targetUrl).pathname.slice(1);
    await sql(targetUrl, 'CREATE ROLE migrator LOGIN');
    const run = await runAction('migrate-ticks', {
      'source-url': recentUrl,
      'target-url': targetUrl.replace('postgres@', 'migrator@'),
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringContaining(
        `(input "target-url"): permission denied to create extension "timescaledb". Have the database owner or a ` +
          `superuser run CREATE EXTENSION timescaledb in database ${database} (or grant this role CREATE on it; ` +
          'the server must list timescaledb in shared_preload_libraries), then run again.',
      ),
    ]);
    expect(await sql(targetUrl, "SELECT count(*)::int AS n FROM pg_extension WHERE extname = 'timescaledb'")).toEqual([
      { n: 0 },
    ]);
  });
});
