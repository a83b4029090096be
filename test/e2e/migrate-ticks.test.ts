import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';

/**
 * migrate-ticks run as the bundle, between two real PostgreSQL clusters (source and target), into the partitioned
 * shape (TimescaleDB cannot be installed here: its DDL is checked against the WASM build in test/integration).
 */
let source: ScratchCluster;
let target: ScratchCluster;
let sourceUrl: string;
const DAYS = 6;
const TICKS = 240_000;

/**
 * Ticks over six days, with NULLs, numeric(20,8) precision and microseconds, in a source whose sessions are not UTC.
 */
async function tickSource(cluster: ScratchCluster, name: string, ticks: number): Promise<string> {
  await sql(cluster.url, `CREATE DATABASE ${name}`);
  await sql(cluster.url, `ALTER DATABASE ${name} SET TimeZone = 'America/New_York'`);
  const url = cluster.urlFor(name);
  await sql(
    url,
    `
    CREATE TABLE tick_data (time timestamptz NOT NULL, symbol text NOT NULL, price numeric(20,8) NOT NULL,
                            volume numeric(20,8) NOT NULL, bid numeric(20,8), ask numeric(20,8));
    INSERT INTO tick_data
    SELECT timestamptz '2026-01-05 00:00:00+00' + i * (interval '1 day' * ${DAYS} / ${ticks}) + (i % 997) * interval
      '1 microsecond',
           (ARRAY['ES', 'NQ', 'BTCUSD', 'EURUSD'])[1 + i % 4],
           round((100 + 10 * sin(i / 5000.0))::numeric, 8) + 0.00000001 * (i % 7),
           round(((i % 13) + 1)::numeric / 3, 8),
           CASE WHEN i % 101 = 0 THEN NULL ELSE round((99.99 + sin(i / 50.0))::numeric, 8) END,
           CASE WHEN i % 103 = 0 THEN NULL ELSE 123456789012.12345678 END
    FROM generate_series(0, ${ticks} - 1) AS i;`,
  );
  return url;
}

/** Per UTC day: rows, exact sums and the newest microsecond — what must survive the copy exactly. */
const PER_DAY = `SELECT (time AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS n, sum(price)::text AS price,
  sum(volume)::text AS volume, count(bid)::int AS bids, count(ask)::int AS asks, sum(ask)::text AS ask_sum,
  max(to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'))::text AS last
  FROM tick_data GROUP BY 1 ORDER BY 1`;

beforeAll(async () => {
  [source, target] = await Promise.all([startTestCluster(), startTestCluster()]);
  sourceUrl = await tickSource(source, 'ticks', TICKS);
});

afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
});

describe('migrate-ticks into native partitions (no TimescaleDB)', () => {
  it('copies every day exactly, verifies each range, and a rerun copies nothing', async () => {
    const targetUrl = await emptyDatabase(target);
    const run = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl, workers: '2' });
    expect(run.errors).toEqual([]);
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
    expect(await sql(targetUrl, PER_DAY)).toEqual(await sql(sourceUrl, PER_DAY));
    const partitions = await sql<{ n: number }>(
      targetUrl,
      "SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'public.tick_data'::regclass",
    );
    expect(partitions[0]!.n).toBeGreaterThanOrEqual(DAYS);
    const ledger = await sql<{ n: number; rows: number }>(
      targetUrl,
      'SELECT count(*)::int AS n, sum(rows)::int AS rows FROM backstop.tick_ledger',
    );
    expect(ledger[0]).toEqual({ n: DAYS, rows: TICKS });

    const again = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl });
    expect(again.errors).toEqual([]);
    expect(again.outputs).toMatchObject({ 'rows-copied': '0', 'chunks-copied': '0', 'chunks-skipped': String(DAYS) });
    expect(await sql(targetUrl, 'SELECT count(*)::int AS n FROM tick_data')).toEqual([{ n: TICKS }]);
  });

  it('resumes exactly after SIGKILL: no duplicates, every day equal to the source', async () => {
    const big = await tickSource(source, 'ticks_big', 1_200_000);
    const targetUrl = await emptyDatabase(target);
    let rangesSeen = 0;
    const killed = await runAction(
      'migrate-ticks',
      { 'source-url': big, 'target-url': targetUrl, workers: '1' },
      {
        onStart: (child) =>
          child.stdout!.on('data', (text: Buffer) => {
            rangesSeen += (String(text).match(/ rows in /g) ?? []).length;
            if (rangesSeen >= 2) child.kill('SIGKILL'); // mid-run: with one range committed or more, another under way
          }),
      },
    );
    expect(killed.code).toBeNull();
    const partial = await sql<{ n: number }>(targetUrl, 'SELECT count(*)::int AS n FROM backstop.tick_ledger');
    expect(partial[0]!.n).toBeGreaterThanOrEqual(2);
    expect(partial[0]!.n).toBeLessThan(DAYS);

    const resumed = await runAction('migrate-ticks', { 'source-url': big, 'target-url': targetUrl, workers: '2' });
    expect(resumed.errors).toEqual([]);
    expect(Number(resumed.outputs['chunks-skipped'])).toBe(partial[0]!.n);
    expect(Number(resumed.outputs['chunks-copied']) + partial[0]!.n).toBe(DAYS);
    expect(await sql(targetUrl, PER_DAY)).toEqual(await sql(big, PER_DAY));
    const duplicates = await sql(
      targetUrl,
      'SELECT time, symbol, count(*) FROM tick_data GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 1',
    );
    const sourceDuplicates = await sql(
      big,
      'SELECT time, symbol, count(*) FROM tick_data GROUP BY 1, 2 HAVING count(*) > 1 LIMIT 1',
    );
    expect(duplicates).toEqual(sourceDuplicates);
  });

  it('shards split the ranges between runs, and from/to bound them', async () => {
    const targetUrl = await emptyDatabase(target);
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
    const targetUrl = await emptyDatabase(target);
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

describe('bad inputs', () => {
  it.each([
    [
      { 'source-table': 'no_such_table' },
      'Input "source-table": no_such_table does not exist in postgresql://postgres@127.0.0.1',
    ],
    [
      { 'time-column': 'ts' },
      'has no column "ts" (it has time, symbol, price, volume, bid, ask): set input "time-column"',
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
    const targetUrl = await emptyDatabase(target);
    const run = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl, ...bad });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringContaining(message)]);
    expect(await sql(targetUrl, "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'backstop'")).toEqual([
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
