import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair } from '../harness/age.ts';
import { seedDatabase } from '../harness/integrity-seed.ts';
import { startQdrantStandin } from '../harness/qdrant/standin.ts';
import { sampleDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';
import { sayWhenTimescaleIsMissing, startTimescaleCluster, TIMESCALE } from '../harness/timescale.ts';

/**
 * validate-integrity run as the bundle on real PostgreSQL pairs: a sample trading database and an exact copy
 * (CREATE DATABASE … TEMPLATE), then one difference at a time, each of which must be caught and named.
 */
let cluster: ScratchCluster;
let original: string;
let work: string;
let copies = 0;

beforeAll(async () => {
  cluster = await startTestCluster();
  original = await sampleDatabase(cluster, 200_000, 'integrity_source');
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-integrity-'));
});

afterAll(async () => {
  await cluster?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

/** A fresh exact copy of the source database. */
async function copy(): Promise<string> {
  const name = `integrity_copy_${++copies}`;
  await sql(cluster.url, `CREATE DATABASE ${name} TEMPLATE integrity_source`);
  return cluster.urlFor(name);
}

async function validate(
  inputs: Record<string, string>,
): Promise<
  Awaited<ReturnType<typeof runAction>> & { report: { checks: { name: string; status: string; finding: string }[] } }
> {
  const reportPath = path.join(work, `report-${Date.now()}-${Math.random()}.json`);
  const run = await runAction('validate-integrity', { 'report-path': reportPath, ...inputs });
  const report = JSON.parse(await fs.readFile(reportPath, 'utf8').catch(() => '{"checks":[]}'));
  return { ...run, report };
}

function failing(report: { checks: { name: string; status: string; finding: string }[] }): string[] {
  return report.checks.filter((check) => check.status === 'fail').map((check) => `${check.name}: ${check.finding}`);
}

describe('content parity and row counts', () => {
  it('identical copies pass every check (numeric(20,8), microseconds, NULLs and empty strings included)', async () => {
    const run = await validate({ 'database-url': await copy(), 'compare-url': original });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ passed: 'true', failures: '0' });
    expect(failing(run.report)).toEqual([]);
    const names = run.report.checks.map((check) => check.name);
    expect(names).toContain('row counts');
    expect(names).toContain('content parity: public.tick_data');
    expect(names).toContain('foreign keys: public.trades(user_id) → public.users(id)');
    expect(run.summary).toContain('✅ | content parity: public.tick_data |');
  });

  it('a deleted tick is named by its narrowest range and side', async () => {
    const target = await copy();
    await sql(
      target,
      "DELETE FROM tick_data WHERE time = (SELECT min(time) FROM tick_data WHERE time >= '2026-01-05 13:00:30+00')",
    );
    const run = await validate({ 'database-url': target, 'compare-url': original });
    expect(run.code).toBe(1);
    expect(run.outputs.passed).toBe('false');
    expect(failing(run.report)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^row counts: 1 table\(s\) differ — public.tick_data: 199,999 in database-url, 200,000 in compare-url$/,
        ),
        // A minute holds 240 ticks here, more than a leaf (64): the search goes on down to the second.
        'content parity: public.tick_data: tick_data 2026-01-05 13:00:30–13:00:31 UTC: 1 row missing in database-url',
      ]),
    );
  });

  it('a changed value, an extra row and a NULL turned empty string are caught; keyed tables name their keys', async () => {
    const target = await copy();
    await sql(
      target,
      `
      UPDATE trades SET entry_price = entry_price + 0.00000001 WHERE id = 42;
      INSERT INTO tags VALUES (99, 'extra');
      UPDATE journal_entries SET mood = '' WHERE id = 7;`,
    );
    const run = await validate({ 'database-url': target, 'compare-url': original });
    const failures = failing(run.report);
    expect(failures).toContainEqual(
      expect.stringMatching(
        /^content parity: public.trades: trades keys \d+–\d+: 1 row missing in database-url, 1 row missing in compare-url \(keys 42\)$/,
      ),
    );
    expect(failures).toContainEqual(
      expect.stringMatching(
        /^content parity: public.tags: tags keys \d+–\d+: 1 row missing in compare-url \(keys 99\)$/,
      ),
    );
    expect(failures).toContainEqual(expect.stringMatching(/^content parity: public.journal_entries: .*\(keys 7\)$/));
    expect(failures.filter((f) => f.startsWith('content parity: public.tick_data'))).toEqual([]);
  });

  it('compares a table without a single key or time column by a whole-table checksum', async () => {
    const target = await copy();
    expect(failing((await validate({ 'database-url': target, 'compare-url': original })).report)).toEqual([]);
    await sql(
      target,
      'DELETE FROM trade_tags WHERE trade_id = 10 AND tag_id = (SELECT min(tag_id) FROM trade_tags WHERE ' +
        'trade_id = 10)',
    );
    await sql(
      target,
      'INSERT INTO trade_tags SELECT 10, id FROM tags WHERE id NOT IN (SELECT tag_id FROM trade_tags WHERE trade_id ' +
        '= 10) LIMIT 1',
    );
    const run = await validate({ 'database-url': target, 'compare-url': original });
    expect(failing(run.report)).toEqual([
      'content parity: public.trade_tags: trade_tags: the rows differ (1,581 in database-url, 1,581 in ' +
        'compare-url); set tables[].key or time-column to narrow it down',
    ]);
  });
});

describe('relations, custom SQL, config, backups', () => {
  it('finds orphans of declared foreign keys and of relations from the config', async () => {
    const target = await copy();
    await sql(
      target,
      `
      SET session_replication_role = replica;  -- as a migration that skipped triggers would
      DELETE FROM trades WHERE id = 5;
      ALTER TABLE trade_tags DROP CONSTRAINT trade_tags_tag_id_fkey;
      DELETE FROM tags WHERE id = 3;`,
    );
    const config = path.join(work, 'relations.yml');
    await fs.writeFile(config, 'relations:\n  - from: public.trade_tags.tag_id\n    to: public.tags.id\n');
    const run = await validate({ 'database-url': target, config });
    const failures = failing(run.report);
    expect(failures).toContainEqual(
      'foreign keys: public.journal_entries(trade_id) → public.trades(id): 1 row(s) of journal_entries point at no ' +
        'trades (e.g. 5)',
    );
    expect(failures).toContainEqual(
      expect.stringMatching(
        /^foreign keys: public.trade_tags\(tag_id\) → public.tags\(id\) \(config\): \d+ row\(s\) of trade_tags point at no tags \(e.g. 3\)$/,
      ),
    );
  });

  it('runs custom SQL checks with their severity, and fail-on decides the exit', async () => {
    const config = path.join(work, 'custom.yml');
    await fs.writeFile(
      config,
      [
        'custom:',
        '  - name: no negative prices',
        '    sql: SELECT * FROM tick_data WHERE last_price < 0',
        '  - name: every trade journaled',
        '    sql: SELECT id FROM trades WHERE id NOT IN (SELECT trade_id FROM journal_entries WHERE trade_id IS NOT ' +
          'NULL) OR id = 1',
        '    severity: warn',
      ].join('\n'),
    );
    const lenient = await validate({ 'database-url': original, config });
    expect(lenient.code).toBe(0);
    expect(lenient.report.checks.find((c) => c.name === 'custom: every trade journaled')).toMatchObject({
      status: 'warn',
      finding: '1 row(s), e.g. {"id":"1"}',
    });
    expect(lenient.report.checks.find((c) => c.name === 'custom: no negative prices')).toMatchObject({
      status: 'pass',
    });
    const strict = await validate({ 'database-url': original, config, 'fail-on': 'warning' });
    expect(strict.code).toBe(1);
    expect(strict.outputs).toMatchObject({ passed: 'false', failures: '1' });
    const never = await validate({
      'database-url': await copy(),
      'compare-url': original,
      config: path.join(work, 'custom.yml'),
      'fail-on': 'never',
    });
    expect(never.code).toBe(0);
  });

  it('a config typo gives one line naming the key', async () => {
    const config = path.join(work, 'typo.yml');
    await fs.writeFile(config, 'tabels:\n  - table: trades\n');
    const run = await validate({ 'database-url': original, config });
    expect(run.errors).toEqual([
      expect.stringContaining('unknown key "tabels" at the top level; known keys: tables, exclude, relations'),
    ]);
  });

  it('every bad input at once, an error line each, before any check runs or the report is written', async () => {
    const reportPath = path.join(work, 'never-written.json');
    const bad = await runAction('validate-integrity', {
      'database-url': original,
      'report-path': reportPath,
      'qdrant-url': 'ftp://qdrant:6333',
      'max-disk-percent': '101',
      'fail-on': 'often',
    });
    expect(bad.code).toBe(1);
    expect(bad.errors).toEqual([
      expect.stringMatching(/^::error::Input "qdrant-url" /),
      '::error::Input "max-disk-percent" is 101, out of range: set it to a number from 1 to 100.',
      '::error::Input "fail-on" is "often": use one of error, warning, never.',
    ]);
    // What the config needs of the other inputs: both missing ones named together.
    const config = path.join(work, 'needs.yml');
    await fs.writeFile(
      config,
      'embeddings:\n  - { table: trades, key: id, collection: trades }\nbackups:\n  - { name: prod, max-age-hours: 26 }\n',
    );
    const needs = await runAction('validate-integrity', {
      'database-url': original,
      'report-path': reportPath,
      config,
    });
    expect(needs.code).toBe(1);
    expect(needs.errors).toEqual([
      expect.stringMatching(/^::error::The config has embeddings checks: set input "qdrant-url"/),
      expect.stringMatching(/^::error::The config has backups or files checks: set input "storage-url"/),
    ]);
    expect(existsSync(reportPath)).toBe(false);
  });

  it('flags a stale backup, and one whose latest drill did not verify', async () => {
    const keys = await newKeyPair();
    const storage = path.join(work, 'backups');
    const dump = await runAction('dump-postgres', {
      'database-url': original,
      name: 'prod',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
    });
    expect(dump.code, dump.stdout).toBe(0);
    const config = path.join(work, 'backups.yml');
    await fs.writeFile(config, 'backups:\n  - name: prod\n    max-age-hours: 24\n');
    const fresh = await validate({ 'database-url': original, config, 'storage-url': storage });
    expect(fresh.report.checks.find((c) => c.name === 'backup freshness: prod')).toMatchObject({
      status: 'warn',
      finding: expect.stringContaining('never drilled'),
    });
    await fs.writeFile(config, 'backups:\n  - name: prod\n    max-age-hours: 0.0001\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stale = await validate({ 'database-url': original, config, 'storage-url': storage });
    expect(failing(stale.report)).toContainEqual(
      expect.stringMatching(
        /^backup freshness: prod: the newest backup, \S+, is [\d.]+ h old \(max-age-hours 0.0001\)$/,
      ),
    );

    // A drill that misses its RTO budget records verified: false; the backup is fresh but not proven.
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'prod',
      'encryption-identity': keys.identity,
      'dry-run': 'true',
      'max-restore-seconds': '0.001',
    });
    expect(drill.outputs.verified).toBe('false');
    await fs.writeFile(config, 'backups:\n  - name: prod\n    max-age-hours: 24\n');
    const unproven = await validate({ 'database-url': original, config, 'storage-url': storage });
    expect(failing(unproven.report)).toContainEqual(
      expect.stringMatching(/^backup freshness: prod: \S+, [\d.]+ h old; its latest drill \(.+\) did NOT verify$/),
    );
    const proven = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'prod',
      'encryption-identity': keys.identity,
      'dry-run': 'true',
    });
    expect(proven.outputs.verified).toBe('true');
    const ok = await validate({ 'database-url': original, config, 'storage-url': storage });
    expect(ok.report.checks.find((c) => c.name === 'backup freshness: prod')).toMatchObject({
      status: 'pass',
      finding: expect.stringContaining('verified'),
    });
  });
});

describe('embeddings', () => {
  it('names rows without a point and points without a row, through the action', async () => {
    const qdrant = await startQdrantStandin({
      collections: [{ name: 'trades', points: 0, vectors: { size: 3, distance: 'Cosine' } }],
    });
    try {
      // Every trade but 42 has its point, and point 901 belongs to no trade.
      const ids = [...Array.from({ length: 843 }, (_, i) => i + 1).filter((id) => id !== 42), 901];
      const upsert = await fetch(`${qdrant.url}/collections/trades/points?wait=true`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ points: ids.map((id) => ({ id, vector: [0.1, 0.2, 0.3], payload: { trade_id: id } })) }),
      });
      expect(upsert.status).toBe(200);
      const config = path.join(work, 'embeddings.yml');
      await fs.writeFile(
        config,
        'embeddings:\n  - table: public.trades\n    key: id\n    collection: trades\n    match: payload:trade_id\n',
      );
      const run = await validate({ 'database-url': original, config, 'qdrant-url': qdrant.url });
      expect(run.code).toBe(1);
      expect(failing(run.report)).toEqual([
        'embeddings: public.trades → trades: public.trades → trades: 1 of 843 rows has no point (e.g. 42); 1 point ' +
          'has no row (e.g. 901)',
      ]);
      expect(qdrant.violations).toEqual([]);
      const noQdrant = await validate({ 'database-url': original, config });
      expect(noQdrant.errors).toEqual([
        expect.stringContaining('The config has embeddings checks: set input "qdrant-url"'),
      ]);
    } finally {
      await qdrant.stop();
    }
  });
});

sayWhenTimescaleIsMissing();

/**
 * The same server started again without shared_preload_libraries, as a server whose configuration lost the line would
 * be: the databases still have the timescaledb extension, the library is not loaded.
 */
function restartWithoutPreload(server: ScratchCluster): void {
  const root = path.dirname(server.dataDir);
  const settings = `-c port=${server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${root}`;
  const args = ['-D', server.dataDir, '-m', 'fast', '-w', '-l', path.join(root, 'server.log'), '-o', settings];
  const pgCtl = path.join(server.binDir, 'pg_ctl');
  const restart =
    process.getuid?.() === 0
      ? spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, ...args, 'restart'], { encoding: 'utf8' })
      : spawnSync(pgCtl, [...args, 'restart'], { encoding: 'utf8' });
  expect(restart.status, restart.stderr).toBe(0);
}

describe.runIf(TIMESCALE)('TimescaleDB databases (the real TimescaleDB, seed-shaped)', () => {
  let timescale: ScratchCluster;
  let source: string;
  let target: string;
  beforeAll(async () => {
    timescale = await startTimescaleCluster();
    source = await seedDatabase(timescale, 'seed_source');
    target = await seedDatabase(timescale, 'seed_target');
  });
  afterAll(async () => timescale?.stop());

  it('identical databases pass, with the TimescaleDB comparison and no check of a chunk or a catalog', async () => {
    const run = await validate({ 'database-url': target, 'compare-url': source });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ passed: 'true', failures: '0' });
    const names = run.report.checks.map((check) => check.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'content parity: public.tick_data',
        'timescaledb parity: hypertables',
        'timescaledb parity: continuous aggregate public.candle_5m',
        'timescaledb parity: jobs',
        'foreign keys: public.tick_data(account_id) → public.accounts(id)',
      ]),
    );
    expect(names.filter((name) => /_timescaledb|_hyper_|_materialized_/.test(name))).toEqual([]);
    expect(run.summary).toContain('✅ | timescaledb parity: continuous aggregate public.candle_1h |');
  });

  it('a server that does not preload timescaledb: one line naming shared_preload_libraries, either side', async () => {
    // Last in this group: the server keeps running without the library.
    restartWithoutPreload(timescale);
    const alone = await validate({ 'database-url': target });
    expect(alone.code).toBe(1);
    expect(alone.errors).toEqual([
      `::error::postgresql://postgres@127.0.0.1:${timescale.port}/seed_target (input "database-url") has ` +
        'TimescaleDB but does not preload it, so its hypertables cannot be read: add timescaledb to ' +
        "shared_preload_libraries (postgresql.conf: shared_preload_libraries = 'timescaledb', keeping any libraries " +
        'already listed) and restart the server (the timescale/timescaledb images preload it), then run again.',
    ]);
    const compared = await validate({ 'database-url': original, 'compare-url': source });
    expect(compared.errors).toEqual([
      expect.stringContaining('/seed_source (input "compare-url") has TimescaleDB but does not preload it'),
    ]);
  });
});
