import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';
import { TICK_TABLE_SQL } from '../../actions/cli/src/sample-data.ts';

/**
 * The same round trips against the real servers that cannot be installed on our development machines: a
 * TimescaleDB and a Qdrant, as service containers in the GitHub CI workflow (.github/workflows/ci.yml), which sets
 * BACKSTOP_TEST_TIMESCALE_URL and BACKSTOP_TEST_QDRANT_URL. Without them these tests are reported as skipped,
 * never as passed.
 */
const TIMESCALE_URL = process.env.BACKSTOP_TEST_TIMESCALE_URL;
const QDRANT_URL = process.env.BACKSTOP_TEST_QDRANT_URL;

let keys: KeyPair;
let work: string;
beforeAll(async () => {
  keys = await newKeyPair();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-real-'));
});
afterAll(() => fs.rm(work, { recursive: true, force: true }));

function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.href;
}

describe.runIf(TIMESCALE_URL)('against a real TimescaleDB', () => {
  let source: ScratchCluster;
  beforeAll(async () => {
    source = await startTestCluster();
  });
  afterAll(() => source?.stop());

  it('migrate-ticks builds the hypertable shape and copies every day exactly; dump and drill keep it', async () => {
    const suffix = Date.now().toString(36);
    await sql(source.url, `CREATE DATABASE ticks_${suffix}`);
    const sourceUrl = source.urlFor(`ticks_${suffix}`);
    await sql(
      sourceUrl,
      `
      ${TICK_TABLE_SQL}
      INSERT INTO tick_data (time, symbol, last_price, volume, bid_price, ask_price)
      SELECT now() - interval '5 days' + i * interval '3 seconds' + (i % 997) * interval '1 microsecond',
        (ARRAY['ES', 'NQ'])[1 + i % 2], round((100 + sin(i))::numeric, 8), 1, NULLIF(i % 50, 0), 2
      FROM generate_series(0, 100000) AS i;`,
    );
    await sql(TIMESCALE_URL!, `CREATE DATABASE tsdb_${suffix}`);
    const targetUrl = databaseUrl(TIMESCALE_URL!, `tsdb_${suffix}`);

    const migrate = await runAction('migrate-ticks', { 'source-url': sourceUrl, 'target-url': targetUrl });
    expect(migrate.errors).toEqual([]);
    expect(migrate.outputs.verified).toBe('true');
    expect(migrate.summary).toContain('(timescaledb)');
    const perDay =
      `SELECT (time AT TIME ZONE 'UTC')::date::text AS day, count(*)::int AS n, sum(last_price)::text AS p, ` +
      `count(bid_price)::int AS b FROM tick_data GROUP BY 1 ORDER BY 1`;
    expect(await sql(targetUrl, perDay)).toEqual(await sql(sourceUrl, perDay));
    expect(
      await sql(
        targetUrl,
        "SELECT count(*)::int AS n FROM timescaledb_information.hypertables WHERE hypertable_name = 'tick_data'",
      ),
    ).toEqual([{ n: 1 }]);
    expect(
      await sql(
        targetUrl,
        'SELECT count(*)::int AS n FROM timescaledb_information.continuous_aggregates WHERE view_name LIKE ' +
          "'candle\\_%'",
      ),
    ).toEqual([{ n: 4 }]);

    const storage = path.join(work, 'tsdb');
    const dump = await runAction('dump-postgres', {
      'database-url': targetUrl,
      name: 'tsdb',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
    });
    expect(dump.errors).toEqual([]);
    expect(dump.summary).toMatch(/TimescaleDB \d+\.\d+/);
    await sql(TIMESCALE_URL!, `CREATE DATABASE drill_${suffix}`);
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'tsdb',
      'encryption-identity': keys.identity,
      'target-url': databaseUrl(TIMESCALE_URL!, `drill_${suffix}`),
    });
    expect(drill.errors).toEqual([]);
    expect(drill.outputs.verified).toBe('true');
  });
});

describe.runIf(QDRANT_URL)('against a real Qdrant', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the tests read manifests and Qdrant replies field by field.
  const call = async (method: string, route: string, body?: unknown): Promise<any> => {
    const response = await fetch(`${QDRANT_URL}${route}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(response.status, `${method} ${route}`).toBeLessThan(300);
    return response.json();
  };

  it('snapshot-qdrant, a drill that leaves nothing behind, and a restore that recreates the alias', async () => {
    const name = `trades_${Date.now().toString(36)}`;
    await call('PUT', `/collections/${name}`, { vectors: { size: 4, distance: 'Cosine' } });
    await call('PUT', `/collections/${name}/points?wait=true`, {
      points: Array.from({ length: 50 }, (_, i) => ({
        id: i + 1,
        vector: [i, 1, 2, 3].map((v) => v / 10 + 0.01),
        payload: { user_id: i % 5 },
      })),
    });
    await call('POST', '/collections/aliases', {
      actions: [{ create_alias: { collection_name: name, alias_name: `${name}_live` } }],
    });
    const storage = path.join(work, 'qdrant');
    const snapshot = await runAction('snapshot-qdrant', {
      'qdrant-url': QDRANT_URL!,
      collections: name,
      name: 'qdrant',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
    });
    expect(snapshot.errors).toEqual([]);
    expect(snapshot.outputs.points).toBe('50');
    expect((await call('GET', `/collections/${name}/snapshots`)).result).toEqual([]);

    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant',
      'encryption-identity': keys.identity,
      'target-url': QDRANT_URL!,
    });
    expect(drill.errors).toEqual([]);
    expect(drill.outputs.verified).toBe('true');
    const names = (await call('GET', '/collections')).result.collections.map((c: { name: string }) => c.name);
    expect(names.filter((n: string) => n.includes('-drill-'))).toEqual([]);

    const restore = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant',
      'encryption-identity': keys.identity,
      'target-url': QDRANT_URL!,
      'restore-as': `${name}=${name}_restored`,
    });
    expect(restore.errors).toEqual([]);
    expect((await call('GET', `/collections/${name}_restored`)).result.points_count).toBe(50);
    const aliases = (await call('GET', '/aliases')).result.aliases;
    expect(aliases).toContainEqual({ alias_name: `${name}_live`, collection_name: `${name}_restored` });
  });
});
