/**
 * validate-integrity between two databases of the seeds' shape on the real TimescaleDB (test/harness/timescale.ts):
 * the TimescaleDB comparison (hypertables, columnstore, continuous aggregates' definitions and rows, jobs), and the
 * table checks kept out of TimescaleDB's internals. Every database is built by the same statements
 * (test/harness/integrity-seed.ts), then one difference at a time is made, which must be caught and named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Origin } from '../../actions/lib/action/origin.ts';
import type { CheckResult } from '../../actions/lib/integrity/check.ts';
import { emptyConfig, parseConfig, type IntegrityConfig } from '../../actions/lib/integrity/config.ts';
import { runIntegrity } from '../../actions/lib/integrity/run.ts';
import { parseDatabaseUrl } from '../../actions/lib/pg/connection.ts';
import { SEED_AGGREGATES, SEED_DAY, seedDatabase, type SeedOptions } from '../harness/integrity-seed.ts';
import { emptyDatabase, sql, type ScratchCluster } from '../harness/postgres.ts';
import { sayWhenTimescaleIsMissing, startTimescaleCluster, TIMESCALE } from '../harness/timescale.ts';

sayWhenTimescaleIsMissing();

/** The second day of the seed's ticks, where the differences are made. */
const DAY = new Date(Date.parse(`${SEED_DAY}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

const PARITY_CHECKS = [
  'timescaledb parity: extension',
  'timescaledb parity: hypertables',
  'timescaledb parity: compression',
  'timescaledb parity: continuous aggregates',
  ...SEED_AGGREGATES.map((view) => `timescaledb parity: continuous aggregate public.${view}`),
  'timescaledb parity: jobs',
];
const FOREIGN_KEYS = [
  'foreign keys: public.accounts(user_id) → public.users(id)',
  'foreign keys: public.tick_data(account_id) → public.accounts(id)',
  'foreign keys: public.trades(account_id) → public.accounts(id)',
];

describe.runIf(TIMESCALE)('validate-integrity on the real TimescaleDB, seed-shaped databases', () => {
  let cluster: ScratchCluster;
  let original: string;
  let copies = 0;

  beforeAll(async () => {
    cluster = await startTimescaleCluster();
    original = await seedDatabase(cluster, 'seed_original');
  }, 120_000);

  afterAll(async () => cluster?.stop());

  const copy = (options?: SeedOptions): Promise<string> => seedDatabase(cluster, `seed_copy_${++copies}`, options);

  async function integrity(
    database: string,
    compare?: string,
    config: IntegrityConfig = emptyConfig(),
  ): Promise<{ results: CheckResult[]; log: string[] }> {
    const log: string[] = [];
    const results = await runIntegrity({
      database: parseDatabaseUrl(database, Origin.input('database-url')),
      compare: compare ? parseDatabaseUrl(compare, Origin.input('compare-url')) : undefined,
      config,
      stores: [],
      repository: { s3: { region: 'us-east-1', forcePathStyle: true }, s3Credentials: {} },
      log: (line) => log.push(line),
    });
    return { results, log };
  }

  const failing = (results: CheckResult[]) =>
    results.filter((result) => result.status !== 'pass').map((result) => `${result.name}: ${result.finding}`);
  const finding = (results: CheckResult[], name: string) => results.find((result) => result.name === name)?.finding;

  it('two identical databases pass every check, none of which reads a chunk or a TimescaleDB catalog', async () => {
    const { results } = await integrity(original, await copy());
    expect(failing(results)).toEqual([]);
    expect(results.map((result) => result.name)).toEqual([
      'row counts',
      'content parity: public.accounts',
      'content parity: public.tick_data',
      'content parity: public.trades',
      'content parity: public.users',
      ...PARITY_CHECKS,
      'schema',
      'schema: grants',
      'RLS validation',
      ...FOREIGN_KEYS,
    ]);
    expect(finding(results, 'row counts')).toBe('4 tables, 26,777 rows, equal on both sides');
    expect(finding(results, 'timescaledb parity: extension')).toBe(`timescaledb ${TIMESCALE!.version} on both sides`);
    expect(finding(results, 'timescaledb parity: hypertables')).toBe(
      '1 hypertable alike on both sides: public.tick_data (time, 1 day chunks)',
    );
    expect(finding(results, 'timescaledb parity: compression')).toBe(
      'the same columnstore settings on both sides: public.tick_data segmentby symbol, orderby time DESC',
    );
    expect(finding(results, 'timescaledb parity: continuous aggregates')).toBe(
      '4 continuous aggregates defined alike: public.candle_1m, public.candle_5m, public.candle_15m, public.candle_1h',
    );
    expect(finding(results, 'timescaledb parity: continuous aggregate public.candle_5m')).toBe(
      '1,728 rows in 3 days identical on both sides',
    );
    // The columnstore and retention policies and the four refresh policies.
    expect(finding(results, 'timescaledb parity: jobs')).toBe(
      '6 jobs alike on both sides (procedure, schedule, config)',
    );
  });

  it('a tick changed inside aggregated buckets, then refreshed, is named by its range and by each bucket', async () => {
    const target = await copy();
    await sql(target, `UPDATE tick_data SET last_price = last_price + 1 WHERE time = '${DAY} 10:02:30+00'`);
    for (const view of SEED_AGGREGATES) {
      await sql(target, `CALL refresh_continuous_aggregate('${view}', '${DAY} 10:00+00', '${DAY} 11:00+00')`);
    }
    const { results } = await integrity(original, target);
    expect(failing(results)).toEqual([
      `content parity: public.tick_data: tick_data ${DAY} 10:02–10:03 UTC: 1 row missing in database-url, 1 row ` +
        'missing in compare-url',
      `timescaledb parity: continuous aggregate public.candle_1m: bucket ${DAY} 10:02 UTC differs (the values differ)`,
      `timescaledb parity: continuous aggregate public.candle_5m: bucket ${DAY} 10:00 UTC differs (the values differ)`,
      `timescaledb parity: continuous aggregate public.candle_15m: bucket ${DAY} 10:00 UTC differs (the values differ)`,
      `timescaledb parity: continuous aggregate public.candle_1h: bucket ${DAY} 10:00 UTC differs (the values differ)`,
    ]);
    const candles = results.find((result) => result.name.endsWith('public.candle_1m'))!;
    expect(candles.details).toMatchObject({ buckets: [`${DAY}T10:02:00.000Z`], differingDays: 1 });
  });

  it('aggregates refreshed less far on one side: buckets counted by hour, the side without rows named', async () => {
    const { results } = await integrity(original, await copy({ refreshUntil: `${DAY} 10:00` }));
    const aggregates = failing(results).filter((line) => line.includes('continuous aggregate public.'));
    expect(aggregates).toEqual([
      `timescaledb parity: continuous aggregate public.candle_1m: 60 buckets differ in ${DAY} 10:00–11:00 UTC ` +
        '(compare-url has 0 rows there); more ranges differ, in 2 days in all',
      `timescaledb parity: continuous aggregate public.candle_5m: 12 buckets differ in ${DAY} 10:00–11:00 UTC ` +
        '(compare-url has 0 rows there); more ranges differ, in 2 days in all',
      `timescaledb parity: continuous aggregate public.candle_15m: 4 buckets differ in ${DAY} 10:00–11:00 UTC ` +
        '(10:00, 10:15, 10:30, 10:45; compare-url has 0 rows there); more ranges differ, in 2 days in all',
      // Buckets of an hour are counted by the day: 10:00 to 23:00 of the second day, then all of the third.
      `timescaledb parity: continuous aggregate public.candle_1h: 14 buckets differ in ${DAY} (compare-url has 0 ` +
        'rows there); 1 more range differs',
    ]);
    // The ticks themselves are all there.
    expect(failing(results).filter((line) => !line.includes('continuous aggregate public.'))).toEqual([]);
  });

  it('another chunk interval, a missing aggregate, a dropped policy, another schedule: each named', async () => {
    const target = await copy();
    await sql(target, `SELECT set_chunk_time_interval('tick_data', INTERVAL '7 days')`);
    await sql(target, `DROP MATERIALIZED VIEW candle_1h`);
    await sql(target, `SELECT remove_retention_policy('tick_data')`);
    await sql(
      target,
      `SELECT alter_job(job_id, schedule_interval => INTERVAL '10 minutes') FROM timescaledb_information.jobs
       WHERE hypertable_name = 'candle_5m'`,
    );
    const { results } = await integrity(original, target);
    expect(failing(results)).toEqual([
      'timescaledb parity: hypertables: public.tick_data: chunk interval 1 day in database-url, 7 days in compare-url',
      'timescaledb parity: continuous aggregates: public.candle_1h is missing in compare-url',
      'timescaledb parity: jobs: policy_retention on public.tick_data is missing in compare-url (every 1 day, ' +
        'drop_after 90 days); policy_refresh_continuous_aggregate on public.candle_5m: schedule 00:05:00 in ' +
        'database-url, 00:10:00 in compare-url; policy_refresh_continuous_aggregate on public.candle_1h is missing ' +
        'in compare-url (every 01:00:00, end_offset 01:00:00, start_offset 1 day)',
      // The schema check sees the aggregate's view (and its owner's grant on it) gone too.
      'schema: view public.candle_1h: missing in compare-url',
      'schema: grants: grants on view public.candle_1h to postgres: missing in compare-url',
    ]);
    // The aggregates both sides have are still compared row by row.
    expect(results.map((result) => result.name)).toContain(
      'timescaledb parity: continuous aggregate public.candle_15m',
    );
  });

  it('other columnstore settings fail; more compressed chunks do not, and their rows still compare', async () => {
    const compressed = await copy();
    await sql(
      compressed,
      `SELECT compress_chunk(c) FROM (SELECT c FROM show_chunks('tick_data') c ORDER BY 1 LIMIT 1) AS first_chunk`,
    );
    const counted = await integrity(original, compressed);
    expect(failing(counted.results)).toEqual([]);
    expect(finding(counted.results, 'timescaledb parity: compression')).toBe(
      'the same columnstore settings on both sides: public.tick_data segmentby symbol, orderby time DESC; ' +
        'compressed chunks differ (public.tick_data 0 of 3 in database-url, 1 of 3 in compare-url): not a ' +
        "difference in the data, each server's columnstore policy compresses on its own schedule",
    );
    expect(finding(counted.results, 'content parity: public.tick_data')).toBe(
      '25,920 rows in 3 day(s) identical on both sides',
    );

    const resegmented = await copy();
    await sql(resegmented, `ALTER TABLE tick_data SET (timescaledb.segmentby = '', timescaledb.orderby = 'time')`);
    expect(failing((await integrity(original, resegmented)).results)).toEqual([
      'timescaledb parity: compression: public.tick_data: segmentby symbol in database-url, (none) in compare-url, ' +
        'orderby time DESC in database-url, time in compare-url',
    ]);
  });

  it('an aggregate defined otherwise is named with the line that differs', async () => {
    const target = await copy();
    await sql(target, 'DROP MATERIALIZED VIEW candle_1h');
    await sql(
      target,
      `CREATE MATERIALIZED VIEW candle_1h WITH (timescaledb.continuous) AS
       SELECT time_bucket(INTERVAL '1 hour', bucket) AS bucket, symbol, first(open, bucket) AS open, max(high) AS high,
              min(low) AS low, last(close, bucket) AS close, max(volume) AS volume
       FROM candle_15m GROUP BY time_bucket(INTERVAL '1 hour', bucket), symbol`,
    );
    const { results } = await integrity(original, target, parseConfig({ 'timescaledb-parity': {} }, 'test'));
    expect(finding(results, 'timescaledb parity: continuous aggregates')).toBe(
      'public.candle_1h: the definitions differ ("sum(volume) AS volume" in database-url, ' +
        '"max(volume) AS volume" in compare-url)',
    );
  });

  it('the config turns the comparison off, or names the aggregates whose rows are compared', async () => {
    const target = await copy();
    const off = await integrity(original, target, parseConfig({ 'timescaledb-parity': { enabled: false } }, 'test'));
    expect(off.results.filter((result) => result.name.startsWith('timescaledb parity'))).toEqual([]);
    expect(off.results.map((result) => result.name)).toContain('content parity: public.tick_data');

    const some = await integrity(
      original,
      target,
      parseConfig({ 'timescaledb-parity': { aggregates: ['candle_5m', 'public.candle_1h', 'candle_2m'] } }, 'test'),
    );
    const aggregates = some.results.filter((result) => result.name.includes('continuous aggregate '));
    expect(aggregates.map((result) => [result.name, result.status, result.finding])).toEqual([
      [
        'timescaledb parity: continuous aggregate public.candle_2m',
        'fail',
        'no continuous aggregate public.candle_2m in database-url nor compare-url: check ' +
          'timescaledb-parity.aggregates in the config',
      ],
      ['timescaledb parity: continuous aggregate public.candle_5m', 'pass', expect.any(String)],
      ['timescaledb parity: continuous aggregate public.candle_1h', 'pass', expect.any(String)],
    ]);
  });

  it('compares TimescaleDB only when both sides have it, unless the config asks', async () => {
    const plain = await emptyDatabase(cluster);
    const { results, log } = await integrity(original, plain);
    expect(results.filter((result) => result.name.startsWith('timescaledb parity'))).toEqual([]);
    expect(log).toContain('timescaledb parity: not compared, compare-url has no timescaledb extension');

    const asked = await integrity(original, plain, parseConfig({ 'timescaledb-parity': { enabled: true } }, 'test'));
    expect(failing(asked.results)).toContainEqual(
      'timescaledb parity: compare-url has no timescaledb extension, and the config asks for the comparison ' +
        '(timescaledb-parity)',
    );
  });

  it('foreign keys of and to hypertables are checked on them, never on chunks or TimescaleDB catalogs', async () => {
    const target = await copy();
    // Chunks in a schema of the user's (associated_schema_name), and a key to a hypertable, which TimescaleDB 2.16+
    // copies onto every chunk: a row matches one chunk only, so a check against one chunk would find false orphans.
    await sql(
      target,
      `CREATE SCHEMA fill_chunks;
       CREATE TABLE fills (time timestamptz NOT NULL, id bigint NOT NULL, PRIMARY KEY (time, id));
       SELECT create_hypertable('fills', 'time', chunk_time_interval => INTERVAL '1 day',
                                associated_schema_name => 'fill_chunks');
       INSERT INTO fills SELECT timestamptz '${SEED_DAY} 12:00+00' + i * INTERVAL '1 day', i
                         FROM generate_series(0, 2) AS i;
       CREATE TABLE fill_notes (time timestamptz NOT NULL, fill_id bigint NOT NULL, note text,
                                FOREIGN KEY (time, fill_id) REFERENCES fills (time, id));
       INSERT INTO fill_notes SELECT time, id, 'note ' || id FROM fills;`,
    );
    const [copied] = await sql<{ on_chunks: string; to_chunks: string; internal: string }>(
      target,
      `SELECT count(*) FILTER (WHERE conrelid::regclass::text ~ '_hyper_') AS on_chunks,
              count(*) FILTER (WHERE confrelid::regclass::text ~ '_hyper_') AS to_chunks,
              count(*) FILTER (WHERE connamespace::regnamespace::text LIKE '\\_timescaledb%') AS internal
       FROM pg_constraint WHERE contype = 'f'`,
    );
    // What the check must leave alone is there: copies on the chunks of tick_data, to the chunks of fills, and
    // TimescaleDB's own catalog keys.
    expect(Number(copied!.on_chunks)).toBeGreaterThan(0);
    expect(Number(copied!.to_chunks)).toBe(3);
    expect(Number(copied!.internal)).toBeGreaterThan(10);

    const { results } = await integrity(target);
    expect(results.map((result) => result.name)).toEqual([
      'foreign keys: public.accounts(user_id) → public.users(id)',
      'foreign keys: public.fill_notes(time, fill_id) → public.fills(time, id)',
      ...FOREIGN_KEYS.slice(1),
    ]);
    expect(failing(results)).toEqual([]);

    await sql(target, `SET session_replication_role = replica; DELETE FROM fills WHERE id = 1`);
    expect(failing((await integrity(target)).results)).toEqual([
      'foreign keys: public.fill_notes(time, fill_id) → public.fills(time, id): 1 row(s) of fill_notes point at no ' +
        `fills (e.g. ${DAY} 12:00:00+00,1)`,
    ]);
    // Compared with the original, the new hypertable is named and its chunks are not tables of their own.
    const compared = await integrity(target, original);
    expect(compared.results.map((result) => result.name).filter((name) => name.includes('fill'))).toEqual([
      'content parity: public.fill_notes',
      'content parity: public.fills',
      'foreign keys: public.fill_notes(time, fill_id) → public.fills(time, id)',
    ]);
    expect(finding(compared.results, 'timescaledb parity: hypertables')).toBe(
      'public.fills is not a hypertable in compare-url',
    );
  });
});
