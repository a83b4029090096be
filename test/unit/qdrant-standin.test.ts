import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { constants, zstdCompressSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { loadQdrantOpenApi, QDRANT_OPENAPI_PATH } from '../harness/qdrant/openapi.ts';
import {
  SNAPSHOT_MAGIC,
  startQdrantStandin,
  type QdrantStandin,
  type StandinOptions,
} from '../harness/qdrant/standin.ts';

const MiB = 1024 * 1024;

const trades = {
  name: 'trades',
  points: 1200,
  vectors: { size: 384, distance: 'Cosine' as const },
  payloadSchema: { symbol: { data_type: 'keyword', points: 1200 } },
  snapshotBytes: 200_000,
};
const docs = {
  name: 'docs',
  points: 15_001,
  vectors: { title: { size: 768, distance: 'Dot' as const }, body: { size: 1024, distance: 'Euclid' as const } },
  shardNumber: 3,
};

const running: QdrantStandin[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((standin) => standin.stop()));
});

async function start(options: Partial<StandinOptions> = {}): Promise<QdrantStandin> {
  const standin = await startQdrantStandin({
    collections: [trades, docs],
    aliases: [{ alias_name: 'trades-live', collection_name: 'trades' }],
    ...options,
  });
  running.push(standin);
  return standin;
}

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: replies are checked against the OpenAPI schema, then read loosely.
  body: any;
}

async function call(standin: QdrantStandin, method: string, path: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(standin.url + path, { method, ...init });
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('application/json');
  return { status: response.status, body: json ? JSON.parse(text) : text };
}

async function createSnapshot(standin: QdrantStandin, collection: string) {
  const reply = await call(standin, 'POST', `/collections/${collection}/snapshots?wait=true`);
  expect(reply.status).toBe(200);
  return reply.body.result as { name: string; size: number; creation_time: string; checksum?: string | null };
}

async function download(standin: QdrantStandin, collection: string, name: string): Promise<Buffer> {
  const response = await fetch(`${standin.url}/collections/${collection}/snapshots/${encodeURIComponent(name)}`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

function upload(standin: QdrantStandin, collection: string, bytes: Uint8Array, query: string): Promise<Reply> {
  const form = new FormData();
  form.append('snapshot', new Blob([Buffer.from(bytes)]), 'upload.snapshot');
  return call(standin, 'POST', `/collections/${collection}/snapshots/upload?${query}`, { body: form });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('Qdrant stand-in', () => {
  it('answers every endpoint with responses that match the OpenAPI document', async () => {
    const standin = await start();
    expect(standin.schemaChecked).toBe(true);

    const root = await call(standin, 'GET', '/');
    expect(root.body).toMatchObject({ title: 'qdrant - vector search engine', version: '1.19.0' });
    expect(root.body.commit).toMatch(/^[0-9a-f]{40}$/);

    expect((await call(standin, 'GET', '/collections')).body.result).toEqual({
      collections: [{ name: 'trades' }, { name: 'docs' }],
    });

    const info = (await call(standin, 'GET', '/collections/docs')).body;
    expect(info).toMatchObject({
      status: 'ok',
      result: { status: 'green', points_count: 15_001, config: { params: { vectors: docs.vectors, shard_number: 3 } } },
    });
    expect(typeof info.time).toBe('number');
    expect((await call(standin, 'GET', '/collections/trades')).body.result.payload_schema).toEqual(
      trades.payloadSchema,
    );

    const cluster = (await call(standin, 'GET', '/collections/docs/cluster')).body.result;
    expect(cluster.local_shards.map((shard: { points_count: number }) => shard.points_count)).toEqual([
      5001, 5000, 5000,
    ]);
    expect(cluster).toMatchObject({ shard_count: 3, remote_shards: [], shard_transfers: [] });

    const aliases = [{ alias_name: 'trades-live', collection_name: 'trades' }];
    expect((await call(standin, 'GET', '/aliases')).body.result).toEqual({ aliases });
    expect((await call(standin, 'GET', '/collections/trades/aliases')).body.result).toEqual({ aliases });
    expect((await call(standin, 'GET', '/collections/docs/aliases')).body.result).toEqual({ aliases: [] });
    const changes = {
      actions: [
        { delete_alias: { alias_name: 'trades-live' } },
        { create_alias: { collection_name: 'docs', alias_name: 'docs-live' } },
      ],
    };
    const changed = await call(standin, 'POST', '/collections/aliases', {
      body: JSON.stringify(changes),
      headers: { 'content-type': 'application/json' },
    });
    expect(changed.body.result).toBe(true);
    expect((await call(standin, 'GET', '/aliases')).body.result.aliases).toEqual([
      { alias_name: 'docs-live', collection_name: 'docs' },
    ]);

    const snapshot = await createSnapshot(standin, 'trades');
    expect(snapshot.name).toMatch(/^trades-\d+-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$/);
    expect(snapshot).toMatchObject({
      size: 200_000,
      creation_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
    });
    expect((await call(standin, 'GET', '/collections/trades/snapshots')).body.result).toEqual([snapshot]);
    expect(standin.snapshots('trades')).toEqual([snapshot.name]);

    expect(
      (await call(standin, 'DELETE', `/collections/trades/snapshots/${snapshot.name}?wait=true`)).body.result,
    ).toBe(true);
    expect((await call(standin, 'GET', '/collections/trades/snapshots')).body.result).toEqual([]);
    expect((await call(standin, 'GET', `/collections/trades/snapshots/${snapshot.name}`)).status).toBe(404);
    expect((await call(standin, 'DELETE', `/collections/trades/snapshots/${snapshot.name}`)).status).toBe(404);

    // wait=false: Qdrant answers 202 and finishes in the background.
    const accepted = await call(standin, 'POST', '/collections/docs/snapshots?wait=false');
    expect(accepted).toMatchObject({ status: 202, body: { status: 'accepted' } });
    expect(standin.snapshots('docs')).toHaveLength(1);

    const missing = await call(standin, 'GET', '/collections/nope');
    expect(missing).toEqual({
      status: 404,
      body: { status: { error: "Not found: Collection `nope` doesn't exist!" }, time: expect.any(Number) },
    });
    expect((await call(standin, 'POST', '/collections/nope/snapshots?wait=true')).status).toBe(404);
    expect((await call(standin, 'GET', '/collections/nope/cluster')).status).toBe(404);
    expect((await call(standin, 'POST', '/collections/trades/snapshots?wait=maybe')).status).toBe(400);

    // Deleting: true and the aliases go with it; a collection that does not exist is 200 with `false`, as in Qdrant.
    expect((await call(standin, 'DELETE', '/collections/docs')).body).toMatchObject({ status: 'ok', result: true });
    expect((await call(standin, 'GET', '/aliases')).body.result.aliases).toEqual([]);
    expect((await call(standin, 'DELETE', '/collections/docs')).body).toMatchObject({ status: 'ok', result: false });
    expect(standin.collectionNames()).toEqual(['trades']);

    // An endpoint Qdrant has but the stand-in does not serve is an ordinary, well-formed 404.
    expect((await call(standin, 'PUT', '/collections/trades/snapshots/recover')).status).toBe(404);

    expect(standin.violations).toEqual([]);
    expect(standin.requests[0]).toEqual({ method: 'GET', path: '/', query: {} });
  });

  it('creates a collection with payload indexes, and deletes points by id, as the OpenAPI document says', async () => {
    const standin = await start();
    const json = (method: string, path: string, body: unknown) =>
      call(standin, method, path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const created = await json('PUT', '/collections/notes', { vectors: { size: 3, distance: 'Dot' } });
    expect(created.body).toMatchObject({ status: 'ok', result: true });
    expect((await json('PUT', '/collections/notes', { vectors: { size: 3, distance: 'Dot' } })).status).toBe(409);
    expect((await json('PUT', '/collections/bad', { vectors: { size: 0, distance: 'Dot' } })).status).toBe(400);
    expect((await json('PUT', '/collections/bad', { vectors: { size: 3, distance: 'Near' } })).status).toBe(400);
    const index = await json('PUT', '/collections/notes/index?wait=true', {
      field_name: 'row_id',
      field_schema: 'keyword',
    });
    expect(index.body.result).toMatchObject({ status: 'completed' });
    expect((await json('PUT', '/collections/notes/index', { field_name: 'x', field_schema: 'vector' })).status).toBe(
      400,
    );
    expect((await call(standin, 'GET', '/collections/notes')).body.result).toMatchObject({
      config: { params: { vectors: { size: 3, distance: 'Dot' } } },
      payload_schema: { row_id: { data_type: 'keyword' } },
    });

    const ids = ['00000000-0000-5000-8000-000000000001', '00000000-0000-5000-8000-000000000002'];
    const points = ids.map((id) => ({ id, vector: [1, 0, 0], payload: { row_id: id } }));
    expect((await json('PUT', '/collections/notes/points?wait=true', { points })).status).toBe(200);
    expect((await json('PUT', '/collections/notes/points', { points: [{ id: 7, vector: [1, 0] }] })).status).toBe(400);
    const deleted = await json('POST', '/collections/notes/points/delete?wait=true', { points: [ids[0], 99] });
    expect(deleted.body.result).toMatchObject({ status: 'completed' });
    const left = await json('POST', '/collections/notes/points/scroll', { limit: 10 });
    expect(left.body.result.points.map((point: { id: string }) => point.id)).toEqual([ids[1]]);
    expect((await call(standin, 'GET', '/collections/notes')).body.result.points_count).toBe(1);
    expect((await json('POST', '/collections/notes/points/delete', { filter: {} })).status).toBe(400);
    expect(standin.violations).toEqual([]);
  });

  it('flags a request to an endpoint the Qdrant API does not have', async () => {
    const standin = await start();
    expect((await call(standin, 'GET', '/collections/trades/backup')).status).toBe(404);
    expect(standin.violations).toEqual([
      expect.stringContaining(
        'GET /collections/trades/backup -> 404: GET /collections/trades/backup is not an operation',
      ),
    ]);
  });

  it('requires the API key when one is set, as a header or a bearer token', async () => {
    const standin = await start({ apiKey: 'sesame' });
    const without = await call(standin, 'GET', '/collections');
    expect(without.status).toBe(401);
    expect(without.body).toMatch(/API key/);
    expect((await call(standin, 'GET', '/collections', { headers: { 'api-key': 'wrong' } })).status).toBe(401);
    expect(
      (await call(standin, 'POST', '/collections/trades/snapshots', { headers: { authorization: 'Bearer wrong' } }))
        .status,
    ).toBe(401);
    expect(standin.snapshots('trades')).toEqual([]);

    expect((await call(standin, 'GET', '/collections', { headers: { 'api-key': 'sesame' } })).status).toBe(200);
    expect((await call(standin, 'GET', '/collections', { headers: { authorization: 'Bearer sesame' } })).status).toBe(
      200,
    );
    // Qdrant leaves its version endpoint open.
    expect((await call(standin, 'GET', '/')).status).toBe(200);

    expect(standin.requests.map((request) => request.apiKey)).toEqual([
      undefined,
      'wrong',
      'wrong',
      'sesame',
      'sesame',
      undefined,
    ]);
    expect(standin.violations).toEqual([]);
  });

  it('serves snapshot files whose bytes hash to the returned checksum', async () => {
    const standin = await start();
    const snapshot = await createSnapshot(standin, 'trades');
    const bytes = await download(standin, 'trades', snapshot.name);
    expect(bytes.length).toBe(200_000);
    expect(sha256(bytes)).toBe(snapshot.checksum);

    const headerLine = bytes.subarray(0, bytes.indexOf(0x0a)).toString();
    expect(headerLine.startsWith(SNAPSHOT_MAGIC)).toBe(true);
    expect(JSON.parse(headerLine.slice(SNAPSHOT_MAGIC.length))).toEqual({
      collection: 'trades',
      points: 1200,
      vectors: trades.vectors,
      shardNumber: 1,
      payloadSchema: trades.payloadSchema,
    });
    // The filler is not one repeated block.
    const blockOf = (index: number) =>
      bytes.subarray(bytes.length - 2 * 65_536 + index * 65_536, bytes.length - 65_536 + index * 65_536);
    expect(Buffer.compare(blockOf(0), blockOf(1))).not.toBe(0);
    expect(standin.violations).toEqual([]);
  });

  it('returns a wrong checksum, or none, when asked to', async () => {
    const wrong = await start({ checksum: 'wrong' });
    const snapshot = await createSnapshot(wrong, 'trades');
    expect(snapshot.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256(await download(wrong, 'trades', snapshot.name))).not.toBe(snapshot.checksum);

    const absent = await start({ checksum: 'absent' });
    const described = await createSnapshot(absent, 'trades');
    expect(described.checksum ?? null).toBeNull();
    const [listed] = (await call(absent, 'GET', '/collections/trades/snapshots')).body.result;
    expect(listed.checksum ?? null).toBeNull();
    expect([...wrong.violations, ...absent.violations]).toEqual([]);
  });

  it('rejects an upload whose checksum does not match, and creates nothing', async () => {
    const standin = await start();
    const snapshot = await createSnapshot(standin, 'trades');
    const bytes = await download(standin, 'trades', snapshot.name);
    const claimed = 'ab'.repeat(32);
    const reply = await upload(standin, 'restored', bytes, `wait=true&priority=snapshot&checksum=${claimed}`);
    expect(reply.status).toBe(400);
    expect(reply.body.status.error).toBe(`Checksum mismatch: expected ${claimed}, got ${snapshot.checksum}`);
    expect(standin.collection('restored')).toBeUndefined();
    expect(standin.uploads).toEqual([]);
    expect(standin.violations).toEqual([]);
  });

  it('rejects an upload that is not a snapshot', async () => {
    const standin = await start();
    const reply = await upload(
      standin,
      'restored',
      Buffer.from('PK\u0003\u0004 not a snapshot'),
      'wait=true&priority=snapshot',
    );
    expect(reply.status).toBe(400);
    expect(reply.body.status.error).toMatch(/not a valid snapshot/);
    expect(standin.collection('restored')).toBeUndefined();
    expect((await call(standin, 'POST', '/collections/restored/snapshots/upload', { body: 'plain' })).status).toBe(400);
    expect(standin.violations).toEqual([]);
  });

  it('recovers an uploaded snapshot into a new collection with the same points and vectors', async () => {
    const standin = await start();
    const snapshot = await createSnapshot(standin, 'docs');
    const bytes = await download(standin, 'docs', snapshot.name);
    const query = `wait=true&priority=snapshot&checksum=${snapshot.checksum}`;
    const reply = await upload(standin, 'docs-restored', bytes, query);
    expect(reply.body).toMatchObject({ status: 'ok', result: true });

    expect(standin.collection('docs-restored')).toEqual({
      name: 'docs-restored',
      points: docs.points,
      vectors: docs.vectors,
      shardNumber: 3,
      payloadSchema: {},
      snapshotBytes: 64 * 1024,
    });
    expect(standin.uploads).toEqual([
      {
        collection: 'docs-restored',
        bytes: 64 * 1024,
        sha256: snapshot.checksum,
        query: { wait: 'true', priority: 'snapshot', checksum: snapshot.checksum },
      },
    ]);
    const restored = (await call(standin, 'GET', '/collections/docs-restored')).body.result;
    expect(restored).toMatchObject({ points_count: docs.points, config: { params: { vectors: docs.vectors } } });
    expect(standin.violations).toEqual([]);
  });

  it('on a node without shards, reports no local shards and makes tiny empty snapshots', async () => {
    const standin = await start({ emptyNode: true });
    const cluster = (await call(standin, 'GET', '/collections/docs/cluster')).body.result;
    expect(cluster.local_shards).toEqual([]);
    const snapshot = await createSnapshot(standin, 'docs');
    expect(snapshot.size).toBeLessThan(1024);
    const bytes = await download(standin, 'docs', snapshot.name);
    expect(sha256(bytes)).toBe(snapshot.checksum);
    const header = JSON.parse(bytes.subarray(SNAPSHOT_MAGIC.length, bytes.indexOf(0x0a)).toString());
    expect(header).toMatchObject({ collection: 'docs', points: 0, vectors: docs.vectors });
    expect(standin.violations).toEqual([]);
  });

  it('drops the connection part-way through a download when told to', async () => {
    const standin = await start({ breakDownloadAfterBytes: 100_000 });
    const snapshot = await createSnapshot(standin, 'trades');
    const response = await fetch(`${standin.url}/collections/trades/snapshots/${snapshot.name}`);
    expect(response.headers.get('content-length')).toBe('200000');
    let received = 0;
    const reading = (async () => {
      for await (const chunk of response.body!) received += chunk.length;
    })();
    await expect(reading).rejects.toThrow();
    expect(received).toBe(100_000);
  });

  it("fills snapshots with unit-length float32 vectors when asked, which zstd compresses a little, unlike 'random'", async () => {
    const ratios: Record<string, number> = {};
    for (const content of ['random', 'vectors'] as const) {
      const standin = await start({ snapshotContent: content, collections: [{ ...trades, snapshotBytes: 4 * MiB }] });
      const snapshot = await createSnapshot(standin, 'trades');
      const bytes = await download(standin, 'trades', snapshot.name);
      expect(sha256(bytes)).toBe(snapshot.checksum);
      ratios[content] =
        zstdCompressSync(bytes, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }).length / bytes.length;
      if (content === 'vectors') {
        // The first block's filler, after the header line and the 16-byte block prefix: vectors of length 1.
        const start = bytes.indexOf(0x0a) + 1 + 16;
        const floats = new Float32Array(
          bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 384 * 4),
        );
        expect(Math.hypot(...floats)).toBeCloseTo(1, 5);
      }
    }
    expect(ratios.random).toBeGreaterThan(0.999);
    expect(ratios.vectors).toBeGreaterThan(0.8);
    expect(ratios.vectors).toBeLessThan(0.97);
  });

  it('serves downloads no faster than downloadBytesPerSecond', async () => {
    const standin = await start({
      downloadBytesPerSecond: 16 * MiB,
      collections: [{ ...trades, snapshotBytes: 4 * MiB }],
    });
    const snapshot = await createSnapshot(standin, 'trades');
    const started = performance.now();
    const bytes = await download(standin, 'trades', snapshot.name);
    expect(bytes.length).toBe(4 * MiB);
    // 4 MiB at 16 MiB/s: a quarter of a second at least (less a millisecond of timer slack).
    expect(performance.now() - started).toBeGreaterThan(249);
  });

  it('streams a 256 MiB snapshot without holding it in memory', async () => {
    const standin = await start({ collections: [{ ...trades, snapshotBytes: 256 * MiB }] });
    const snapshot = await createSnapshot(standin, 'trades');
    // The client runs in a child process: reading 256 MiB in this process would leave as much garbage in socket
    // buffers (freed only when V8 gets round to it) and hide what is measured here, the stand-in's own memory.
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    try {
      const { bytes, sha256: digest } = await hashInChildProcess(
        `${standin.url}/collections/trades/snapshots/${snapshot.name}`,
      );
      expect(bytes).toBe(256 * MiB);
      expect(digest).toBe(snapshot.checksum);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(64 * MiB);
  });
});

/** Downloads `url` with fetch in a separate Node process, hashing as it reads. */
async function hashInChildProcess(url: string): Promise<{ bytes: number; sha256: string }> {
  const script = `
    const hash = (await import('node:crypto')).createHash('sha256');
    let bytes = 0;
    const response = await fetch(process.argv[1]);
    for await (const chunk of response.body) { hash.update(chunk); bytes += chunk.length; }
    console.log(JSON.stringify({ status: response.status, bytes, sha256: hash.digest('hex') }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  const [code] = (await once(child, 'close')) as [number | null];
  expect(code).toBe(0);
  const result = JSON.parse(output) as { status: number; bytes: number; sha256: string };
  expect(result.status).toBe(200);
  return result;
}

describe('Qdrant OpenAPI checker', () => {
  const api = loadQdrantOpenApi()!;
  const ok = (result: unknown) => ({ result, status: 'ok', time: 0.001 });

  it('loads the document from the shared directory, and reports a missing one as undefined', () => {
    expect(QDRANT_OPENAPI_PATH.endsWith('/shared/qdrant/openapi.json')).toBe(true);
    expect(api).toBeDefined();
    expect(loadQdrantOpenApi('/nonexistent/openapi.json')).toBeUndefined();
  });

  it('reports a body that does not match the schema', () => {
    const violations = api.validateResponse(
      'GET',
      '/collections/{collection_name}',
      200,
      ok({ status: 'purple', segments_count: -1 }),
    );
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringContaining("must have required property 'config'"),
        expect.stringContaining("must have required property 'payload_schema'"),
        expect.stringMatching(/\/result\/status must be equal to one of the allowed values/),
        expect.stringMatching(/\/result\/segments_count must be >= 0/),
      ]),
    );
    expect(
      api.validateResponse(
        'POST',
        '/collections/{collection_name}/snapshots',
        200,
        ok({ name: 'x.snapshot', size: '12' }),
      ),
    ).toEqual([expect.stringMatching(/\/result\/size must be integer/)]);
  });

  it('accepts null where the document says nullable, and still checks the non-null branch', () => {
    const snapshot = (checksum: unknown) =>
      api.validateResponse(
        'GET',
        '/collections/{collection_name}/snapshots',
        200,
        ok([{ name: 'a', size: 1, checksum, creation_time: null }]),
      );
    expect(snapshot(null)).toEqual([]);
    expect(snapshot('abc')).toEqual([]);
    expect(snapshot(7)).not.toEqual([]);

    // `anyOf: [{ $ref: WalConfig }, { nullable: true }]`
    const config = (wal_config: unknown) => ({
      params: {},
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10_000 },
      optimizer_config: { default_segment_number: 0, flush_interval_sec: 5 },
      wal_config,
    });
    const info = (wal_config: unknown) =>
      api.validateResponse(
        'GET',
        '/collections/{collection_name}',
        200,
        ok({
          status: 'green',
          optimizer_status: 'ok',
          segments_count: 1,
          payload_schema: {},
          config: config(wal_config),
        }),
      );
    expect(info(null)).toEqual([]);
    expect(info({ wal_capacity_mb: 32, wal_segments_ahead: 0 })).toEqual([]);
    expect(info({ wal_capacity_mb: 32 }).join('\n')).toContain("must have required property 'wal_segments_ahead'");
    expect(info(5)).not.toEqual([]);
  });

  it('falls back to the 4XX and default responses, and reports what the document does not declare', () => {
    const error = { status: { error: 'Not found' }, time: 0.001 };
    expect(api.validateResponse('GET', '/collections/{collection_name}', 404, error)).toEqual([]);
    expect(api.validateResponse('GET', '/collections/{collection_name}', 500, error)).toEqual([]);
    expect(api.validateResponse('GET', '/collections/{collection_name}', 404, { status: { error: 5 } })).not.toEqual(
      [],
    );
    expect(api.validateResponse('GET', '/collections/{collection_name}/backup', 200, {})).toEqual([
      'GET /collections/{collection_name}/backup is not an operation of the Qdrant API',
    ]);
    expect(api.validateResponse('PATCH', '/aliases', 200, {})).toEqual([
      'PATCH /aliases is not an operation of the Qdrant API',
    ]);
    expect(api.validateResponse('GET', '/', 401, error)).toEqual([
      'GET / declares no JSON body for status 401 (response "4XX")',
    ]);
    expect(api.validateResponse('GET', '/collections/{collection_name}/snapshots/{snapshot_name}', 200, {})[0]).toMatch(
      /declares no JSON body for status 200/,
    );
  });

  it('maps concrete paths to the document path templates, literal segments first', () => {
    expect(api.pathTemplateOf('/')).toBe('/');
    expect(api.pathTemplateOf('/collections')).toBe('/collections');
    expect(api.pathTemplateOf('/collections/trades')).toBe('/collections/{collection_name}');
    expect(api.pathTemplateOf('/collections/aliases')).toBe('/collections/aliases');
    expect(api.pathTemplateOf('/collections/trades/snapshots/x.snapshot')).toBe(
      '/collections/{collection_name}/snapshots/{snapshot_name}',
    );
    expect(api.pathTemplateOf('/collections/trades/snapshots/upload?wait=true')).toBe(
      '/collections/{collection_name}/snapshots/upload',
    );
    expect(api.pathTemplateOf('/collections/trades/snapshots/recover')).toBe(
      '/collections/{collection_name}/snapshots/recover',
    );
    expect(api.pathTemplateOf('/collections/my%20trades/snapshots')).toBe('/collections/{collection_name}/snapshots');
    expect(api.pathTemplateOf('/collections/trades/shards/2/snapshots')).toBe(
      '/collections/{collection_name}/shards/{shard_id}/snapshots',
    );
    expect(api.pathTemplateOf('/collections/trades/')).toBe('/collections/{collection_name}');
    expect(api.pathTemplateOf('/collections/trades/backup')).toBeUndefined();
    expect(api.pathTemplateOf('/nothing')).toBeUndefined();
  });
});
