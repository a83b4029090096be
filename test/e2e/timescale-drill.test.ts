import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';
import { sayWhenTimescaleIsMissing, startTimescaleCluster, TIMESCALE } from '../harness/timescale.ts';

/**
 * dump-postgres → restore-drill of a real TimescaleDB database in the seeds' shape (story 1.6): the tick hypertable
 * with 1-day chunks, columnstore segmented by symbol, a compressed chunk, two continuous aggregates and their
 * policies. The bundles run as the runner runs them.
 */
sayWhenTimescaleIsMissing();

const DAYS = 40;
const SYMBOLS = ['ES', 'NQ'];

/**
 * The seeds' tick_data, hypertable and candles, with ticks every 5 minutes over the last 40 days: chunks older
 * than 30 days stay uncompressed but one, so a policy that ran during the drill would change what it verifies.
 * The policies are created in one transaction that also moves their first run to tomorrow, so the source's own
 * scheduler leaves it as built while the tests run.
 */
async function seedShapedDatabase(cluster: ScratchCluster, name: string): Promise<string> {
  await sql(cluster.url, `CREATE DATABASE ${name}`);
  const url = cluster.urlFor(name);
  await sql(
    url,
    `CREATE EXTENSION timescaledb;
    CREATE TABLE tick_data (
      time timestamptz NOT NULL, symbol text NOT NULL, bid_price numeric(20,8), ask_price numeric(20,8),
      last_price numeric(20,8), volume bigint, source text, trade_id uuid, account_id uuid);
    SELECT create_hypertable('tick_data', 'time', chunk_time_interval => INTERVAL '1 day');
    ALTER TABLE tick_data SET (timescaledb.compress, timescaledb.compress_segmentby = 'symbol',
      timescaledb.compress_orderby = 'time DESC');
    INSERT INTO tick_data
    SELECT t, s, p - 0.25, p + 0.25, p, (extract(epoch FROM t)::bigint % 97) + 1, 'replay', gen_random_uuid(),
           '00000000-0000-4000-8000-000000000001'
    FROM generate_series(now() - INTERVAL '${DAYS} days', now(), INTERVAL '5 minutes') t,
         unnest(ARRAY[${SYMBOLS.map((symbol) => `'${symbol}'`).join(',')}]) s,
         LATERAL (SELECT round((4500 + 50 * sin(extract(epoch FROM t) / 3600))::numeric, 8) AS p) price;`,
  );
  for (const [view, bucket] of [
    ['candle_1m', '1 minute'],
    ['candle_1h', '1 hour'],
  ]) {
    // A continuous aggregate cannot be created inside a transaction: one statement per call.
    await sql(
      url,
      `CREATE MATERIALIZED VIEW ${view} WITH (timescaledb.continuous) AS
       SELECT time_bucket('${bucket}', time) AS bucket, symbol, first(last_price, time) AS open,
              max(last_price) AS high, min(last_price) AS low, last(last_price, time) AS close, sum(volume) AS volume
       FROM tick_data GROUP BY bucket, symbol WITH NO DATA`,
    );
    await sql(url, `CALL refresh_continuous_aggregate('${view}', NULL, NULL)`);
  }
  await sql(url, `SELECT compress_chunk(min(c)) FROM show_chunks('tick_data', older_than => INTERVAL '35 days') c`);
  await sql(
    url,
    `BEGIN;
    SELECT add_compression_policy('tick_data', INTERVAL '30 days');
    SELECT add_retention_policy('tick_data', INTERVAL '90 days');
    SELECT add_continuous_aggregate_policy('candle_1m', start_offset => INTERVAL '1 hour',
      end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '1 minute');
    SELECT add_continuous_aggregate_policy('candle_1h', start_offset => INTERVAL '3 hours',
      end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');
    SELECT alter_job(job_id, next_start => now() + INTERVAL '1 day') FROM timescaledb_information.jobs
    WHERE job_id >= 1000;
    COMMIT;`,
  );
  return url;
}

describe.runIf(TIMESCALE)('dump-postgres → restore-drill of a real TimescaleDB', () => {
  let cluster: ScratchCluster;
  let keys: KeyPair;
  let sourceUrl: string;
  let work: string;
  let databases = 0;

  beforeAll(async () => {
    [cluster, keys] = await Promise.all([startTimescaleCluster(), newKeyPair()]);
    sourceUrl = await seedShapedDatabase(cluster, 'tsdb');
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-timescale-'));
  });

  afterAll(async () => {
    await Promise.all([cluster?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
  });

  /** A backup of the seed-shaped database in a folder of its own; returns the folder and the manifest's path. */
  async function dumpOnce(label: string) {
    const storage = path.join(work, label);
    const dump = await runAction('dump-postgres', {
      'database-url': sourceUrl,
      name: 'tsdb',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
    });
    expect(dump.code, dump.stdout).toBe(0);
    const id = dump.outputs['backup-id']!;
    return { storage, id, manifestPath: path.join(storage, 'tsdb', id, 'manifest.json'), dump };
  }

  function drill(storage: string, extra: Record<string, string> = {}) {
    return runAction('restore-drill', {
      'storage-url': storage,
      name: 'tsdb',
      'encryption-identity': keys.identity,
      ...extra,
    });
  }

  async function editManifest(manifestPath: string, edit: (manifest: Manifest) => void): Promise<void> {
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as Manifest;
    edit(manifest);
    await fs.writeFile(manifestPath, JSON.stringify(manifest));
  }

  async function drillRecords(storage: string, id: string): Promise<string[]> {
    return fs.readdir(path.join(storage, 'tsdb', id, 'drills')).catch(() => []);
  }

  /** An empty database like the timescale/timescaledb images make: the extension already created. */
  async function timescaleTarget(): Promise<string> {
    const target = await emptyDatabase(cluster, `target_${++databases}`);
    await sql(target, 'CREATE EXTENSION timescaledb');
    return target;
  }

  it('records the hypertables, continuous aggregates and jobs, and a throwaway cluster drills them green', async () => {
    const { storage, id, manifestPath, dump } = await dumpOnce('green');
    expect(dump.stdout).toContain(
      `TimescaleDB ${TIMESCALE!.version}: 1 hypertable, 2 continuous aggregates, 4 policy jobs recorded`,
    );

    // The manifest holds what the source holds, read in the dump's snapshot.
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
    const [chunks] = await sql<{ all: string; compressed: string }>(
      sourceUrl,
      `SELECT count(*) AS all, count(*) FILTER (WHERE is_compressed) AS compressed
       FROM timescaledb_information.chunks WHERE hypertable_name = 'tick_data'`,
    );
    expect(Number(chunks!.all)).toBeGreaterThanOrEqual(DAYS);
    expect(Number(chunks!.compressed)).toBe(1);
    expect(manifest.timescaledb.version).toBe(TIMESCALE!.version);
    expect(manifest.timescaledb.hypertables).toEqual([
      {
        schema: 'public',
        name: 'tick_data',
        timeColumn: 'time',
        chunkInterval: '1 day',
        compression: { enabled: true, segmentBy: ['symbol'], orderBy: ['"time" DESC'] },
        chunks: Number(chunks!.all),
        compressedChunks: 1,
      },
    ]);
    const candles = async (view: string): Promise<number> =>
      Number((await sql<{ n: string }>(sourceUrl, `SELECT count(*) AS n FROM ${view}`))[0]!.n);
    const aggregates = manifest.timescaledb.continuousAggregates;
    expect(aggregates.map((a: { name: string; rows: number }) => [a.name, a.rows])).toEqual([
      ['candle_1h', await candles('candle_1h')],
      ['candle_1m', await candles('candle_1m')],
    ]);
    expect(aggregates[1].rows).toBeGreaterThan(DAYS * 24 * 12);
    expect(aggregates[0]).toMatchObject({ source: 'public.tick_data', materializedOnly: true });
    expect(aggregates[0].definitionSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(aggregates[0].definitionSha256).not.toBe(aggregates[1].definitionSha256);
    expect(
      manifest.timescaledb.jobs.map((job: { proc: string; hypertable: string; scheduleInterval: string }) => [
        job.proc,
        job.hypertable,
        job.scheduleInterval,
      ]),
    ).toEqual([
      ['policy_compression', 'public.tick_data', '12:00:00'],
      ['policy_retention', 'public.tick_data', '1 day'],
      ['policy_refresh_continuous_aggregate', 'public.candle_1m', '00:01:00'],
      ['policy_refresh_continuous_aggregate', 'public.candle_1h', '01:00:00'],
    ]);
    expect(manifest.timescaledb.jobs[0].config).toMatchObject({ compress_after: '30 days' });
    expect(dump.summary).toContain(
      `| TimescaleDB objects | 1 hypertable (${chunks!.all} chunks, 1 compressed), 2 continuous aggregates, ` +
        '4 policy jobs |',
    );

    // No target-url: a throwaway cluster that preloads the TimescaleDB the backup needs.
    const drilled = await drill(storage);
    expect(drilled.code, drilled.stdout).toBe(0);
    expect(drilled.outputs.verified).toBe('true');
    expect(drilled.stdout).toContain(`into a throwaway PostgreSQL ${cluster.major} that preloads TimescaleDB`);
    expect(drilled.stdout).toContain(`TimescaleDB ${TIMESCALE!.version}: pre-restore mode on`);
    expect(drilled.summary).toContain(
      `| TimescaleDB ${TIMESCALE!.version} | ✅ 1 of 1 hypertables, ✅ 2 of 2 continuous aggregates, ✅ 4 of 4 ` +
        'policy jobs match the manifest |',
    );
    const [recordFile] = await drillRecords(storage, id);
    const record = JSON.parse(await fs.readFile(path.join(storage, 'tsdb', id, 'drills', recordFile!), 'utf8'));
    expect(record).toMatchObject({
      verified: true,
      problems: [],
      timescaledb: {
        version: TIMESCALE!.version,
        hypertables: { expected: 1, matching: 1 },
        continuousAggregates: { expected: 2, matching: 2 },
        jobs: { expected: 4, matching: 4 },
        definitionsCompared: true,
      },
    });
    // TimescaleDB's catalog tables get the extension's own rows at CREATE EXTENSION, then the dumped ones: at least.
    const catalog = record.tables.filter((table: { atLeast?: boolean }) => table.atLeast);
    expect(catalog.map((table: { schema: string; name: string }) => `${table.schema}.${table.name}`)).toContain(
      '_timescaledb_config.bgw_job',
    );
    expect(drilled.summary).toContain(
      `| Row counts | ${record.tables.length} of ${record.tables.length} tables match the manifest |`,
    );
  });

  it('drills into a TimescaleDB target of its own and leaves it out of restore mode, working', async () => {
    const { storage } = await dumpOnce('own-target');
    const target = await timescaleTarget();
    const drilled = await drill(storage, { 'target-url': target });
    expect(drilled.code, drilled.stdout).toBe(0);
    expect(drilled.outputs.verified).toBe('true');
    const [state] = await sql<{ restoring: string; ticks: string }>(
      target,
      "SELECT current_setting('timescaledb.restoring') AS restoring, (SELECT count(*) FROM tick_data) AS ticks",
    );
    const [source] = await sql<{ ticks: string }>(sourceUrl, 'SELECT count(*) AS ticks FROM tick_data');
    expect(state).toEqual({ restoring: 'off', ticks: source!.ticks });
  });

  it('a restore that fails midway still takes a target of its own out of restore mode', async () => {
    const { storage, id } = await dumpOnce('damaged');
    const file = path.join(storage, 'tsdb', id, 'postgres.dump.zst.age');
    const bytes = await fs.readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await fs.writeFile(file, bytes);
    const target = await timescaleTarget();
    const drilled = await drill(storage, { 'target-url': target });
    expect(drilled.code).toBe(1);
    expect(drilled.outputs.verified).toBe('false');
    expect(drilled.errors.join('\n')).toContain('Checksum mismatch');
    expect(drilled.stdout).toContain('pre-restore mode on');
    const [state] = await sql<{ restoring: string }>(
      target,
      "SELECT current_setting('timescaledb.restoring') AS restoring",
    );
    expect(state!.restoring).toBe('off');
  });

  it('refuses a backup of another TimescaleDB version before restoring anything, naming both versions', async () => {
    const { storage, id, manifestPath } = await dumpOnce('other-version');
    await editManifest(manifestPath, (manifest) => {
      manifest.timescaledb!.version = '2.23.0';
      for (const extension of manifest.source.extensions ?? [])
        if (extension.name === 'timescaledb') extension.version = '2.23.0';
    });

    const throwaway = await drill(storage);
    expect(throwaway.code).toBe(1);
    expect(throwaway.errors).toEqual([
      expect.stringContaining(
        `The backup needs TimescaleDB 2.23.0 and the local PostgreSQL ${cluster.major} has TimescaleDB ` +
          `${TIMESCALE!.version}: install timescaledb-2-postgresql-${cluster.major} 2.23.0 from Timescale's package ` +
          `repository, or run timescale/timescaledb:2.23.0-pg${cluster.major} and give its empty database through ` +
          'input "target-url"',
      ),
    ]);

    const target = await timescaleTarget();
    const own = await drill(storage, { 'target-url': target });
    expect(own.code).toBe(1);
    expect(own.errors).toHaveLength(1);
    expect(own.errors[0]).toMatch(
      new RegExp(
        `The backup needs TimescaleDB 2\\.23\\.0 and the target postgresql://.*/target_\\d+ \\(input "target-url"\\) ` +
          `has TimescaleDB ${TIMESCALE!.version.replace(/\./g, '\\.')} in the database: restore into a server ` +
          `running TimescaleDB 2\\.23\\.0 \\(e\\.g\\. timescale/timescaledb:2\\.23\\.0-pg${cluster.major}\\)`,
      ),
    );
    // Refused before restoring: nothing restored, no pre-restore mode, no drill record.
    for (const run of [throwaway, own]) expect(run.stdout).not.toContain('pre-restore mode on');
    const [tables] = await sql<{ n: string }>(
      target,
      "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables!.n).toBe('0');
    expect(await drillRecords(storage, id)).toEqual([]);
  });

  it('a target that has TimescaleDB but does not preload it gets one line naming shared_preload_libraries', async () => {
    const { storage } = await dumpOnce('not-preloaded');
    const plain = await startTestCluster();
    try {
      const target = await emptyDatabase(plain, 'not_preloaded');
      const drilled = await drill(storage, { 'target-url': target });
      expect(drilled.code).toBe(1);
      expect(drilled.errors).toHaveLength(1);
      expect(drilled.errors[0]).toMatch(
        /The target postgresql:\/\/.*\/not_preloaded \(input "target-url"\) has TimescaleDB but does not preload it/,
      );
      expect(drilled.errors[0]).toContain("shared_preload_libraries = 'timescaledb'");
      expect(drilled.stdout).not.toMatch(/connection error|terminated/i);
      // The server is not left in a state that needs fixing: the extension was never created there.
      expect(await sql(target, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).toEqual([]);
    } finally {
      await plain.stop();
    }
  });

  it('names every restored object that differs from the manifest, and the drill is not verified', async () => {
    const { storage, id, manifestPath } = await dumpOnce('differs');
    let candles1h = 0;
    await editManifest(manifestPath, (manifest) => {
      const objects = manifest.timescaledb!;
      objects.hypertables[0]!.compressedChunks = 2;
      const hourly = objects.continuousAggregates.find((aggregate) => aggregate.name === 'candle_1h')!;
      candles1h = hourly.rows;
      hourly.rows += 1;
      objects.jobs.find((job) => job.proc === 'policy_compression')!.scheduleInterval = '1 day';
      // As if the retention policy had been dropped after the dump: the restored one is not in the record.
      objects.jobs = objects.jobs.filter((job) => job.proc !== 'policy_retention');
    });
    const drilled = await drill(storage);
    expect(drilled.code).toBe(1);
    expect(drilled.outputs.verified).toBe('false');
    const [recordFile] = await drillRecords(storage, id);
    const record = JSON.parse(await fs.readFile(path.join(storage, 'tsdb', id, 'drills', recordFile!), 'utf8'));
    expect(record.problems).toEqual([
      'TimescaleDB hypertable public.tick_data: compressed chunks 1, the manifest says 2',
      `TimescaleDB continuous aggregate public.candle_1h: materialized rows ${candles1h}, the manifest says ` +
        `${candles1h + 1}`,
      'TimescaleDB job policy_compression on public.tick_data: schedule 12:00:00, the manifest says 1 day',
      'TimescaleDB job policy_retention on public.tick_data: restored, but not in the manifest (schedule 1 day, ' +
        'config {"drop_after":"90 days","hypertable_id":1})',
    ]);
    expect(record.timescaledb).toMatchObject({
      hypertables: { expected: 1, matching: 0 },
      continuousAggregates: { expected: 2, matching: 1 },
      jobs: { expected: 3, matching: 2 },
    });
    expect(drilled.summary).toContain(
      '❌ 0 of 1 hypertables, ❌ 1 of 2 continuous aggregates, ❌ 2 of 3 policy jobs match the manifest',
    );
    expect(drilled.summary).toContain('- TimescaleDB job policy_compression on public.tick_data: schedule 12:00:00');
    expect(drilled.errors.join('\n')).toContain('TimescaleDB hypertable public.tick_data: compressed chunks 1');
  });
});
