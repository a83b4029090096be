/**
 * checkEmbeddings against a real PostgreSQL cluster and the Qdrant stand-in (test/harness/qdrant/standin.ts), whose
 * every response is checked against Qdrant's OpenAPI document: each test ends with no schema violation.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../actions/lib/action/errors.ts';
import type { CheckResult } from '../../actions/lib/integrity/check.ts';
import {
  checkEmbeddings,
  compareKeys,
  PAGE_SIZE,
  type EmbeddingMapping,
} from '../../actions/lib/integrity/embeddings/index.ts';
import { request, result, type QdrantNode } from '../../actions/lib/qdrant/client.ts';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { startQdrantStandin, type QdrantStandin } from '../harness/qdrant/standin.ts';

const VECTOR_SIZE = 4;

let cluster: ScratchCluster;
let url: string;
let db: pg.Client;
let tables = 0;
const standins: QdrantStandin[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  url = await emptyDatabase(cluster);
  db = new pg.Client({ connectionString: url });
  await db.connect();
});

afterEach(async () => {
  for (const standin of standins.splice(0)) {
    // Whatever a test did, the stand-in never answered in a shape Qdrant would not use.
    expect(standin.violations).toEqual([]);
    await standin.stop();
  }
});

afterAll(async () => {
  await db?.end().catch(() => {});
  await cluster?.stop();
});

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, index) => from + index);
const without = (values: number[], removed: number[]): number[] => values.filter((value) => !removed.includes(value));

/** A fresh table `<name>_<n>` with the given keys in column id (and a second copy of some, when the key repeats). */
async function table(keys: (number | string | null)[], type = 'bigint', name = 'trades'): Promise<string> {
  const table = `${name}_${++tables}`;
  await sql(url, `CREATE TABLE ${table} (id ${type}, note text)`);
  await sql(url, `INSERT INTO ${table} (id) SELECT unnest($1::${type}[])`, [keys]);
  return table;
}

interface Point {
  id: number | string;
  payload?: Record<string, unknown>;
}

/** A stand-in holding one collection, filled through the upsert endpoint in batches (as a loader would). */
async function qdrantWith(collection: string, points: Point[]): Promise<{ standin: QdrantStandin; node: QdrantNode }> {
  const standin = await startQdrantStandin({
    collections: [{ name: collection, points: 0, vectors: { size: VECTOR_SIZE, distance: 'Cosine' } }],
  });
  standins.push(standin);
  const node = { url: standin.url };
  for (let start = 0; start < points.length; start += 2_000) {
    const batch = points.slice(start, start + 2_000).map((point) => ({ ...point, vector: [0.1, 0.2, 0.3, 0.4] }));
    await request(node, 'PUT', `/collections/${collection}/points`, {
      query: { wait: 'true' },
      body: { points: batch },
    });
  }
  return { standin, node };
}

const byId = (ids: number[]): Point[] => ids.map((id) => ({ id }));
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function scrolls(standin: QdrantStandin): number {
  return standin.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/points/scroll'))
    .length;
}

interface FetchCounter {
  fetches: number;
  /** For each FETCH, how many scroll requests had gone out before it: shows which side was read first. */
  scrollsAtFetch: number[];
  restore(): void;
}

/** Counts the cursor FETCHes the check sends (the table side's pages) and notes when the first one went out. */
function countFetches(client: pg.Client, standin: QdrantStandin): FetchCounter {
  const original = client.query;
  const scrollsAtStart = scrolls(standin);
  const counter: FetchCounter = {
    fetches: 0,
    scrollsAtFetch: [],
    restore: () => {
      client.query = original;
    },
  };
  client.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
    if (text?.startsWith('FETCH')) {
      counter.scrollsAtFetch.push(scrolls(standin) - scrollsAtStart);
      counter.fetches++;
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof client.query;
  return counter;
}

/** Runs the check with the FETCH counter in place. */
async function checkCounting(
  standin: QdrantStandin,
  node: QdrantNode,
  mapping: EmbeddingMapping,
): Promise<{ checked: CheckResult; counter: FetchCounter }> {
  const counter = countFetches(db, standin);
  try {
    return { checked: await check(node, mapping), counter };
  } finally {
    counter.restore();
  }
}

async function check(node: QdrantNode, mapping: EmbeddingMapping, sample?: number): Promise<CheckResult> {
  const checked = await checkEmbeddings(db, node, mapping, sample === undefined ? {} : { sample });
  // The check leaves no transaction open behind it.
  expect((await db.query(`SELECT now() = statement_timestamp() AS idle`)).rows[0].idle).toBe(true);
  return checked;
}

describe('checkEmbeddings: every row has a point and every point a row', () => {
  it('passes when both sides match exactly', async () => {
    const trades = await table(range(1, 843));
    const { node } = await qdrantWith('trades', byId(range(1, 843)));
    expect(await check(node, { table: `public.${trades}`, key: 'id', collection: 'trades', match: 'id' })).toEqual({
      name: `embeddings: public.${trades} → trades`,
      status: 'pass',
      finding: `public.${trades} → trades: all 843 rows have a point and all 843 points have a row`,
      details: { rows: 843, points: 843, missingPoints: [], orphanPoints: [], missingCount: 0, orphanCount: 0 },
    });
  });

  it('fails rows without a point, naming their ids', async () => {
    const trades = await table(range(1, 843));
    const { node } = await qdrantWith('trades', byId(without(range(1, 843), [17, 42, 99])));
    expect(await check(node, { table: trades, key: 'id', collection: 'trades', match: 'id' })).toMatchObject({
      status: 'fail',
      finding: `${trades} → trades: 3 of 843 rows have no point (e.g. 17, 42, 99)`,
      details: {
        rows: 843,
        points: 840,
        missingPoints: ['17', '42', '99'],
        orphanPoints: [],
        missingCount: 3,
        orphanCount: 0,
      },
    });
  });

  it('fails a point without a row, naming it; both kinds in one finding', async () => {
    const trades = await table(range(1, 843));
    const orphan = await qdrantWith('trades', byId([...range(1, 843), 901]));
    expect(await check(orphan.node, { table: trades, key: 'id', collection: 'trades', match: 'id' })).toMatchObject({
      status: 'fail',
      finding: `${trades} → trades: 1 point has no row (e.g. 901)`,
      details: { rows: 843, points: 844, missingPoints: [], orphanPoints: ['901'], missingCount: 0, orphanCount: 1 },
    });
    const both = await qdrantWith('trades', byId([...without(range(1, 843), [17, 42, 99]), 901]));
    expect((await check(both.node, { table: trades, key: 'id', collection: 'trades', match: 'id' })).finding).toBe(
      `${trades} → trades: 3 of 843 rows have no point (e.g. 17, 42, 99); 1 point has no row (e.g. 901)`,
    );
  });

  it('keeps `sample` keys in the details and shows at most 5 in the finding; NULL keys count as rows without a point', async () => {
    const trades = await table([...range(1, 30), null, null]);
    const { node } = await qdrantWith('trades', byId(range(11, 30)));
    const checked = await check(node, { table: trades, key: 'id', collection: 'trades', match: 'id' }, 7);
    expect(checked.finding).toBe(`${trades} → trades: 12 of 32 rows have no point (e.g. 1, 2, 3, 4, 5)`);
    expect(checked.details).toMatchObject({ missingCount: 12, missingPoints: ['1', '2', '3', '4', '5', '6', '7'] });
    // The NULLs come last in key order: a sample large enough shows them.
    const all = await check(node, { table: trades, key: 'id', collection: 'trades', match: 'id' }, 20);
    expect((all.details as { missingPoints: string[] }).missingPoints.slice(-2)).toEqual(['NULL', 'NULL']);
  });

  it('matches UUID keys to UUID point ids, and integer point ids in a uuid table are orphans', async () => {
    const keys = range(1, 50).map(uuid);
    const trades = await table(keys, 'uuid');
    // Upserted in upper case: Qdrant answers ids in canonical lowercase.
    const points: Point[] = [...without(range(1, 50), [7]).map((n) => ({ id: uuid(n).toUpperCase() })), { id: 5 }];
    const { node } = await qdrantWith('trades', points);
    expect(await check(node, { table: trades, key: 'id', collection: 'trades', match: 'id' })).toMatchObject({
      status: 'fail',
      finding: `${trades} → trades: 1 of 50 rows has no point (e.g. ${uuid(7)}); 1 point has no row (e.g. 5)`,
    });
  });

  it('matches by payload key, holding the smaller side: rows when the collection is larger', async () => {
    const trades = await table(range(1, 20));
    const points: Point[] = [
      ...without(range(1, 20), [5]).map((n) => ({ id: uuid(n), payload: { trade_id: n, symbol: 'EURUSD' } })),
      { id: uuid(77), payload: { trade_id: 77 } },
      { id: uuid(78), payload: { symbol: 'no trade id' } },
    ];
    const { standin, node } = await qdrantWith('trade_notes', points);
    const { checked, counter } = await checkCounting(standin, node, {
      table: trades,
      key: 'id',
      collection: 'trade_notes',
      match: { payload: 'trade_id' },
    });
    expect(counter.scrollsAtFetch).toEqual([0, 0]); // the rows were read (and held) first
    expect(checked).toMatchObject({
      status: 'fail',
      finding:
        `${trades} → trade_notes: 1 of 20 rows has no point (e.g. 5); 2 points have no row (e.g. 77, point ` +
        `${uuid(78)} (no key in payload))`,
      details: { rows: 20, points: 21, missingPoints: ['5'], orphanCount: 2 },
    });
  });

  it('matches by payload key, holding the smaller side: points when the table is larger (text keys, nested field)', async () => {
    const orders = await table(
      range(1, 30).map((n) => `ORD-${n}`),
      'text',
      'orders',
    );
    const points: Point[] = [...range(1, 25), 99].map((n) => ({
      id: n * 10,
      payload: { meta: { order_ref: `ORD-${n}` }, title: 'x' },
    }));
    points.push({ id: 1000, payload: { meta: { order_ref: 'ORD-3' } } }); // a second point for one order is not an orphan
    const { standin, node } = await qdrantWith('order_docs', points);
    const { checked, counter } = await checkCounting(standin, node, {
      table: orders,
      key: 'id',
      collection: 'order_docs',
      match: { payload: 'meta.order_ref' },
    });
    expect(counter.scrollsAtFetch).toEqual([1, 1]); // the points were read (and held) first
    expect(checked).toMatchObject({
      status: 'fail',
      finding:
        `${orders} → order_docs: 5 of 30 rows have no point (e.g. ORD-26, ORD-27, ORD-28, ORD-29, ORD-30); 1 ` +
        `point has no row (e.g. ORD-99)`,
      details: { rows: 30, points: 27, missingCount: 5, orphanPoints: ['ORD-99'], orphanCount: 1 },
    });
  });

  it('pages through more than 10,000 rows and points on both sides, by id (merged) and by payload (held)', async () => {
    const rows = without(range(1, 12_345), [3, 10_001, 12_345]);
    const ids = [...without(range(1, 12_345), [500, 10_002]), 20_000];
    const trades = await table(rows);
    const { standin, node } = await qdrantWith(
      'trades',
      ids.map((id) => ({ id, payload: { trade_id: id } })),
    );
    const expected = {
      status: 'fail',
      finding:
        `${trades} → trades: 2 of 12342 rows have no point (e.g. 500, 10002); 4 points have no row (e.g. 3, ` +
        `10001, 12345, 20000)`,
      details: { rows: 12_342, points: 12_344, missingCount: 2, orphanCount: 4 },
    };

    for (const match of ['id', { payload: 'trade_id' }] as const) {
      const before = scrolls(standin);
      const { checked, counter } = await checkCounting(standin, node, {
        table: trades,
        key: 'id',
        collection: 'trades',
        match,
      });
      expect(checked).toMatchObject(expected);
      // 12,344 points in pages of 10,000; 12,342 rows in FETCHes of 10,000, then the empty one that ends the cursor.
      expect(scrolls(standin) - before).toBe(Math.ceil(12_344 / PAGE_SIZE));
      expect(counter.fetches).toBe(Math.ceil(12_342 / PAGE_SIZE) + 1);
      // By id the two streams are merged: the pages interleave. By payload the rows are read (and held) first.
      if (match === 'id') expect(counter.scrollsAtFetch).toEqual([0, expect.any(Number), 2]);
      else expect(counter.scrollsAtFetch).toEqual([0, 0, 0]);
    }
  });

  it('says what to fix when the table, the column or the collection does not exist', async () => {
    const trades = await table(range(1, 3));
    const { node } = await qdrantWith('trades', byId(range(1, 3)));
    await expect(check(node, { table: 'public.nope', key: 'id', collection: 'trades', match: 'id' })).rejects.toThrow(
      /table "public.nope" does not exist/,
    );
    await expect(check(node, { table: trades, key: 'trade_id', collection: 'trades', match: 'id' })).rejects.toThrow(
      `has no column "trade_id"`,
    );
    await expect(check(node, { table: trades, key: 'id', collection: 'nope', match: 'id' })).rejects.toThrow(
      ConfigurationError,
    );
    await expect(check(node, { table: trades, key: 'id', collection: 'nope', match: 'id' })).rejects.toThrow(
      /has no collection "nope"/,
    );
  });
});

describe('compareKeys: Qdrant scroll order on text keys', () => {
  it('puts integers first by value (beyond 2^53 too), then UUIDs by text, then NULL', () => {
    const keys = [
      uuid(2),
      '18446744073709551615',
      '10',
      null,
      '9',
      uuid(1),
      '9007199254740993',
      '9007199254740992',
      '-1',
    ];
    expect([...keys].sort(compareKeys)).toEqual([
      '-1',
      '9',
      '10',
      '9007199254740992',
      '9007199254740993',
      '18446744073709551615',
      uuid(1),
      uuid(2),
      null,
    ]);
  });
});

describe('Qdrant stand-in: the points endpoints the check uses', () => {
  it('upserts (PointsList or PointsBatch) and scrolls in id order, integers before UUIDs, with next_page_offset', async () => {
    const { standin, node } = await qdrantWith('docs', [
      { id: uuid(3) },
      { id: 20, payload: { a: { b: 1, c: 2 }, d: 3 } },
      { id: 3 },
    ]);
    const acknowledged = await result<{ status: string; operation_id: number }>(
      node,
      'PUT',
      '/collections/docs/points',
      {
        query: { wait: 'false' },
        body: {
          batch: {
            ids: [uuid(1), 7],
            vectors: [
              [1, 1, 1, 1],
              [2, 2, 2, 2],
            ],
            payloads: [{ k: 'v' }, null],
          },
        },
      },
    );
    expect(acknowledged).toMatchObject({ status: 'acknowledged', operation_id: expect.any(Number) });
    expect(standin.collection('docs')!.points).toBe(5);

    const page = (body: object) =>
      result<{ points: { id: number | string; payload?: unknown; vector?: unknown }[]; next_page_offset: unknown }>(
        node,
        'POST',
        '/collections/docs/points/scroll',
        { body },
      );
    const first = await page({ limit: 2, with_payload: false });
    expect(first).toEqual({ points: [{ id: 3 }, { id: 7 }], next_page_offset: 20 });
    const second = await page({ limit: 2, offset: 20, with_payload: { include: ['a.b'] }, with_vector: true });
    expect(second).toEqual({
      points: [
        { id: 20, payload: { a: { b: 1 } }, vector: [0.1, 0.2, 0.3, 0.4] },
        { id: uuid(1), payload: {}, vector: [1, 1, 1, 1] },
      ],
      next_page_offset: uuid(3),
    });
    const last = await page({ offset: uuid(3), with_payload: ['d'] });
    expect(last).toEqual({ points: [{ id: uuid(3), payload: {} }], next_page_offset: null });
    expect((await page({ limit: 1, offset: 21, with_payload: { exclude: ['a'] } })).points).toEqual([
      { id: uuid(1), payload: { k: 'v' } },
    ]);
  });

  it('refuses what Qdrant refuses, with its error shape', async () => {
    const { node } = await qdrantWith('docs', []);
    const put = (body: unknown) => request(node, 'PUT', '/collections/docs/points', { body });
    await expect(put({ points: [{ id: 1, vector: [1, 2, 3] }] })).rejects.toThrow(
      /HTTP 400: Wrong input: Vector dimension error: expected dim: 4, got 3/,
    );
    await expect(put({ points: [{ id: 'trade-1', vector: [1, 2, 3, 4] }] })).rejects.toThrow(/not a valid point ID/);
    await expect(put({ points: [{ id: -1, vector: [1, 2, 3, 4] }] })).rejects.toThrow(/not a valid point ID/);
    await expect(request(node, 'POST', '/collections/docs/points/scroll', { body: { limit: 0 } })).rejects.toThrow(
      /HTTP 422/,
    );
    await expect(request(node, 'POST', '/collections/nope/points/scroll', { body: {} })).rejects.toThrow(/HTTP 404/);
    await expect(
      request(node, 'POST', '/collections/docs/points/scroll', { body: { filter: { must: [] } } }),
    ).rejects.toThrow(/does not serve scroll with `filter`/);
  });
});
