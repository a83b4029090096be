import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkEmbeddings } from '../../actions/lib/integrity/embeddings/index.ts';
import { pointIdOf, uuidV5 } from '../../actions/lib/embeddings/point-id.ts';
import { startOpenAiStandin, type OpenAiStandin, type OpenAiStandinOptions } from '../harness/openai-standin.ts';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { startQdrantStandin, type QdrantStandin, type StandinOptions } from '../harness/qdrant/standin.ts';
import { runAction, type ActionRun } from '../harness/runner.ts';

/**
 * backfill-embeddings, run as its bundle against a real PostgreSQL, the Qdrant stand-in (every answer checked
 * against Qdrant's OpenAPI document) and a local OpenAI-compatible endpoint that records its requests.
 */
const TRADES = 843;
const JOURNAL = 300;
const QDRANT_KEY = 'qdrant-key-9f8e7d6c5b4a';
const OPENAI_KEY = 'sk-test-0123456789abcdefSECRET';

let cluster: ScratchCluster;
let work: string;
const qdrants: QdrantStandin[] = [];
const endpoints: OpenAiStandin[] = [];
const runs: ActionRun[] = [];

/** The seeds' trading journal: trades (with notes) and journal entries joined to them; no playbooks table. */
async function journalDatabase(): Promise<string> {
  const url = await emptyDatabase(cluster);
  await sql(
    url,
    `CREATE TABLE trades (id bigint PRIMARY KEY, user_id bigint NOT NULL, symbol text NOT NULL, side text NOT NULL,
                          quantity numeric(20,8) NOT NULL, entry_price numeric(20,8) NOT NULL, notes text,
                          opened_at timestamptz NOT NULL);
     CREATE TABLE journal_entries (id bigint PRIMARY KEY, trade_id bigint, user_id bigint NOT NULL, body text NOT NULL,
                                   mood text, created_at timestamptz NOT NULL);
     INSERT INTO trades SELECT i, 1 + i % 11, (ARRAY['ES', 'NQ', 'BTCUSD', 'EURUSD'])[1 + i % 4],
                               CASE WHEN i % 3 = 0 THEN 'sell' ELSE 'buy' END, (1 + i % 5) / 4.0, 100 + i % 17,
                               CASE WHEN i % 5 = 0 THEN NULL ELSE 'setup ' || i % 7 END,
                               timestamptz '2026-01-05 13:30:00+00' + i * interval '17 minutes'
                        FROM generate_series(1, ${TRADES}) AS i;
     INSERT INTO journal_entries SELECT i, i * 2, 1 + i % 11, 'Trade ' || i * 2 || ': followed the plan',
                                        CASE WHEN i % 2 = 0 THEN 'calm' END,
                                        timestamptz '2026-01-05 15:00:00+00' + i * interval '17 minutes'
                                 FROM generate_series(1, ${JOURNAL}) AS i;`,
  );
  return url;
}

async function qdrant(options: Partial<StandinOptions> = {}): Promise<QdrantStandin> {
  const started = await startQdrantStandin({ collections: [], apiKey: QDRANT_KEY, ...options });
  qdrants.push(started);
  return started;
}

async function endpoint(options: OpenAiStandinOptions = {}): Promise<OpenAiStandin> {
  const started = await startOpenAiStandin({ apiKey: OPENAI_KEY, ...options });
  endpoints.push(started);
  return started;
}

async function backfill(database: string, qdrantUrl: string, inputs: Record<string, string> = {}): Promise<ActionRun> {
  const run = await runAction('backfill-embeddings', {
    'database-url': database,
    'qdrant-url': qdrantUrl,
    'qdrant-api-key': QDRANT_KEY,
    ...inputs,
  });
  runs.push(run);
  return run;
}

async function coverage(database: string, standin: QdrantStandin, table: string, collection: string) {
  const db = new pg.Client({ connectionString: database });
  await db.connect();
  try {
    return await checkEmbeddings(
      db,
      { url: standin.url, apiKey: QDRANT_KEY },
      { table, key: 'id', collection, match: { payload: 'row_id' } },
    );
  } finally {
    await db.end();
  }
}

const upserts = (standin: QdrantStandin) =>
  standin.requests.filter((request) => request.method === 'PUT' && request.path.endsWith('/points'));

beforeAll(async () => {
  cluster = await startTestCluster();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-backfill-'));
});

afterEach(async () => {
  for (const standin of qdrants.splice(0)) {
    expect(standin.violations).toEqual([]);
    await standin.stop();
  }
  for (const standin of endpoints.splice(0)) await standin.stop();
});

afterAll(async () => {
  // No run, passing or failing, ever showed either API key: not in the log, the outputs or the summary. The
  // runner's own ::add-mask:: lines, before any other line, are the one place a secret may be (that is how it masks).
  expect(runs.length).toBeGreaterThan(5);
  for (const run of runs) {
    const lines = run.stdout.split('\n');
    const masks = lines.findIndex((line) => !line.startsWith('::add-mask::'));
    expect(lines.slice(masks).some((line) => line.startsWith('::add-mask::'))).toBe(false);
    const log = lines.slice(masks).join('\n');
    const everything = [log, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n');
    expect(everything).not.toContain(OPENAI_KEY);
    expect(everything).not.toContain(QDRANT_KEY);
  }
  await cluster?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

describe('backfill-embeddings with the local embedder (the default)', () => {
  it('embeds 843 trades and their journal, covered 100%; a rerun embeds nothing; 5 changed re-embed 5', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    const first = await backfill(database, standin.url);
    expect(first.errors).toEqual([]);
    expect(first.code).toBe(0);
    expect(first.outputs).toEqual({
      embedded: String(TRADES + JOURNAL),
      skipped: '0',
      deleted: '0',
      tokens: expect.stringMatching(/^[1-9]\d*$/),
    });
    expect(first.stdout).toContain('deterministic local embedder, not semantic');
    expect(first.summary).toContain('deterministic local embedder, not semantic');
    expect(first.summary).toMatch(/public\.trades → trades \(created\) \| 843 \| 843 \| 0 \|/);
    expect(first.summary).toContain("{ table: public.trades, key: id, collection: trades, match: 'payload:row_id' }");
    expect(first.stdout).toMatch(
      /public\.trades: 843 of 843 rows \(100%\): 843 embedded, 0 skipped · \d+ rows\/s · ETA done/,
    );
    expect(first.stdout).toContain('::notice::Table playbooks does not exist: its default source is skipped.');
    expect(standin.collectionNames().sort()).toEqual(['journal_entries', 'trades']);
    const trades = standin.collection('trades')!;
    expect(trades).toMatchObject({ points: TRADES, vectors: { size: 384, distance: 'Cosine' } });
    expect(Object.keys(trades.payloadSchema ?? {}).sort()).toEqual(
      ['opened_at', 'row_id', 'side', 'source_table', 'symbol', 'user_id'].sort(),
    );
    expect(trades.payloadSchema?.user_id?.data_type).toBe('integer');
    expect(trades.payloadSchema?.opened_at?.data_type).toBe('datetime');
    // 843 rows in batches of at most 96: 9 upserts for trades, 4 for the 300 journal entries.
    expect(upserts(standin).filter((request) => request.path === '/collections/trades/points')).toHaveLength(9);
    expect(upserts(standin).every((request) => request.query.wait === 'true')).toBe(true);
    for (const [table, collection] of [
      ['public.trades', 'trades'],
      ['public.journal_entries', 'journal_entries'],
    ] as const) {
      const check = await coverage(database, standin, table, collection);
      expect(check.status, check.finding).toBe('pass');
    }

    const before = upserts(standin).length;
    const again = await backfill(database, standin.url);
    expect(again.code).toBe(0);
    expect(again.outputs).toMatchObject({ embedded: '0', skipped: String(TRADES + JOURNAL), deleted: '0' });
    expect(upserts(standin)).toHaveLength(before);

    await sql(database, `UPDATE trades SET notes = 'revised ' || id WHERE id IN (10, 200, 201, 555, 843)`);
    const changed = await backfill(database, standin.url);
    expect(changed.outputs).toMatchObject({ embedded: '5', skipped: String(TRADES + JOURNAL - 5) });
    expect(upserts(standin)).toHaveLength(before + 1);
    expect(standin.collection('trades')!.points).toBe(TRADES);

    // A journal entry joined to a trade is part of the trade's text: editing it re-embeds that trade too.
    await sql(database, `UPDATE journal_entries SET body = body || ' (edited)' WHERE id = 1`);
    const journal = await backfill(database, standin.url);
    expect(journal.outputs).toMatchObject({ embedded: '2' });
  });

  it('deletes the points of deleted rows with prune, and only counts them without', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    expect((await backfill(database, standin.url)).code).toBe(0);
    await sql(database, 'DELETE FROM trades WHERE id IN (1, 2, 3)');
    const counted = await backfill(database, standin.url);
    expect(counted.outputs).toMatchObject({ embedded: '0', deleted: '0' });
    expect(counted.stdout).toContain('trades: 3 points of public.trades have no row any more');
    expect((await coverage(database, standin, 'public.trades', 'trades')).status).toBe('fail');

    const pruned = await backfill(database, standin.url, { prune: 'true' });
    expect(pruned.outputs).toMatchObject({ embedded: '0', deleted: '3', skipped: String(TRADES - 3 + JOURNAL) });
    expect(standin.collection('trades')!.points).toBe(TRADES - 3);
    expect((await coverage(database, standin, 'public.trades', 'trades')).status).toBe('pass');
  });

  it('gives points UUID v5 ids of table and row id', async () => {
    // RFC 9562's example: the DNS namespace and "www.example.com".
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    expect(pointIdOf('public.trades', '1')).toBe(pointIdOf('public.trades', '1'));
    expect(pointIdOf('public.trades', '1')).not.toBe(pointIdOf('public.journal_entries', '1'));
  });
});

describe('backfill-embeddings with an OpenAI-compatible endpoint', () => {
  const config = async (text: string): Promise<string> => {
    const file = path.join(work, `config-${Math.random().toString(36).slice(2)}.yml`);
    await fs.writeFile(file, text);
    return file;
  };
  const tradesOnly = () =>
    config(
      [
        'sources:',
        '  - table: public.trades',
        "    text: '{symbol} {side} {quantity} @ {entry_price}. {notes} {journal}'",
        '    columns:',
        '      journal: "(SELECT string_agg(j.body, \' \') FROM journal_entries j WHERE j.trade_id = t.id)"',
        '    payload: [symbol, side]',
        '    collection: trades',
      ].join('\n'),
    );
  const openai = (url: string, extra: Record<string, string> = {}) => ({
    'embeddings-url': url,
    'embeddings-model': 'text-embedding-3-small',
    'embeddings-api-key': OPENAI_KEY,
    ...extra,
  });

  it('embeds through the endpoint in batches of 96, and waits as a 429 Retry-After asks', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    const api = await endpoint({ failures: [{ status: 429, retryAfter: 1, message: 'Rate limit reached' }] });
    const run = await backfill(database, standin.url, { config: await tradesOnly(), ...openai(api.url) });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toEqual({ embedded: String(TRADES), skipped: '0', deleted: '0', tokens: String(TRADES * 3) });
    // 9 batches, one of them twice; the retry came after the second the endpoint asked for.
    expect(api.requests).toHaveLength(10);
    const [refused, retried] = [
      api.requests[0]!,
      api.requests.find((r, i) => i > 0 && r.inputs[0] === api.requests[0]!.inputs[0])!,
    ];
    expect(refused.status).toBe(429);
    expect(retried.at - refused.at).toBeGreaterThanOrEqual(1000);
    expect(api.requests.every((request) => request.inputs.length <= 96)).toBe(true);
    expect(api.requests.every((request) => request.model === 'text-embedding-3-small')).toBe(true);
    expect(run.stdout).toMatch(/HTTP 429: "Rate limit reached"; try 2 of 3 in 1\.0 s \(as the endpoint asks\)/);
    expect(api.requests[0]!.inputs).toContain('NQ buy 0.50000000 @ 101.00000000. setup 1');
    expect(standin.collection('trades')!.vectors).toEqual({ size: 16, distance: 'Cosine' });
    expect(run.summary).toContain(`text-embedding-3-small at ${api.url}/embeddings`);
    expect((await coverage(database, standin, 'public.trades', 'trades')).status).toBe('pass');
  });

  it('keeps at most `concurrency` requests in flight, and batches under max-batch-tokens', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    const api = await endpoint({ delayMs: 100 });
    const run = await backfill(database, standin.url, {
      config: await tradesOnly(),
      ...openai(api.url, { concurrency: '2', 'max-batch-tokens': '1000' }),
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs.embedded).toBe(String(TRADES));
    expect(api.maxInFlight()).toBe(2);
    // Texts of ~40-60 characters are ~15-21 estimated tokens: about 50 of them fit under 1000, not 96.
    const sizes = api.requests.map((request) => request.inputs.length);
    expect(Math.max(...sizes)).toBeLessThan(96);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(TRADES);
    for (const request of api.requests) {
      expect(request.inputs.reduce((sum, text) => sum + Math.ceil(text.length / 3) + 1, 0)).toBeLessThanOrEqual(1000);
    }
  });

  it('stops at once when Retry-After asks for more than 10 minutes (a quota, not a pause)', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    const api = await endpoint({ failures: [{ status: 429, retryAfter: 3600, message: 'quota exceeded' }] });
    const run = await backfill(database, standin.url, {
      config: await tradesOnly(),
      ...openai(api.url, { concurrency: '1' }),
    });
    expect(run.code).toBe(1);
    expect(api.requests).toHaveLength(1);
    expect(run.errors).toEqual([
      '::error::Embedding batch 1 of public.trades (rows 1–96): HTTP 429: "quota exceeded", and the endpoint asks to ' +
        'wait 3600 s (Retry-After), more than 600 s: run again later (rows embedded before it are stored and will ' +
        'be skipped).',
    ]);
  });

  it('fails with one line naming the batch after 500 three times, and writes nothing of it', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    const api = await endpoint({ alwaysFail: { status: 500, message: 'The server had an error' } });
    const run = await backfill(database, standin.url, {
      config: await tradesOnly(),
      ...openai(api.url, { concurrency: '1' }),
    });
    expect(run.code).toBe(1);
    expect(api.requests).toHaveLength(3);
    expect(run.errors).toEqual([
      '::error::Embedding batch 1 of public.trades (rows 1–96) failed 3 times, last with HTTP 500: "The server had ' +
        'an error". Rows embedded before it are stored: run again later to continue from there.',
    ]);
    expect(upserts(standin)).toEqual([]);
  });

  it('says in one line that the API key is wrong, naming the input', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    const api = await endpoint({ apiKey: 'sk-the-right-one-000000' });
    const run = await backfill(database, standin.url, { config: await tradesOnly(), ...openai(api.url) });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^::error::The embeddings endpoint http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings refused the request \(HTTP 401: .*\): the API key is wrong or lacks access to model "text-embedding-3-small"; check input "embeddings-api-key"\.$/,
    );
    expect(upserts(standin)).toEqual([]);
    // The key was masked before the first line, and sent as a bearer token to the endpoint only.
    expect(new Set(run.stdout.split('\n').slice(0, 2))).toEqual(
      new Set([`::add-mask::${OPENAI_KEY}`, `::add-mask::${QDRANT_KEY}`]),
    );
    expect(api.requests[0]!.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('refuses vectors of another size than an existing collection before writing anything', async () => {
    const database = await journalDatabase();
    const standin = await qdrant({
      collections: [{ name: 'trades', points: 0, vectors: { size: 384, distance: 'Cosine' } }],
    });
    const api = await endpoint({ dimensions: 1536 });
    const run = await backfill(database, standin.url, { config: await tradesOnly(), ...openai(api.url) });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain(
      `collection "trades" holds 384-dimension vectors, but the text-embedding-3-small at ${api.url}/embeddings ` +
        'returned 1536 for batch',
    );
    expect(run.errors[0]).toContain('Nothing was written to it');
    expect(upserts(standin)).toEqual([]);
  });

  it('names a config key or column that does not fit before any request', async () => {
    const database = await journalDatabase();
    const standin = await qdrant();
    const api = await endpoint();
    const typo = await config('sources:\n  - table: public.trades\n    text: "{symbol} {sid}"\n');
    const run = await backfill(database, standin.url, { config: typo, ...openai(api.url) });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('sources[0]: the text uses {sid}, which is neither a column of public.trades');
    const key = await config('sources:\n  - table: public.trades\n    txt: "{symbol}"\n');
    const second = await backfill(database, standin.url, { config: key, ...openai(api.url) });
    expect(second.errors[0]).toContain('sources[0]: unknown key "txt"');
    expect(api.requests).toEqual([]);
  });
});
