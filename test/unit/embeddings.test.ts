import { describe, expect, it } from 'vitest';
import { Origin } from '../../actions/lib/action/origin.ts';
import { batchesOf } from '../../actions/lib/embeddings/backfill.ts';
import { parseSources } from '../../actions/lib/embeddings/config.ts';
import { LOCAL_DIMENSIONS, LocalEmbedder } from '../../actions/lib/embeddings/embedder.ts';
import { embeddingsEndpoint, retryAfterMs } from '../../actions/lib/embeddings/openai.ts';
import { contentHash } from '../../actions/lib/embeddings/point-id.ts';
import { placeholdersOf, renderText } from '../../actions/lib/embeddings/table.ts';

const origin = Origin.input('embeddings-url');

describe('the embeddings engine', () => {
  it('reads Retry-After in seconds or as an HTTP date, and retry-after-ms first', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ 'retry-after': '9', 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });

  it('adds /embeddings to a base URL and keeps a full endpoint (Azure’s query included)', () => {
    expect(embeddingsEndpoint('https://api.openai.com/v1', origin).href).toBe('https://api.openai.com/v1/embeddings');
    expect(embeddingsEndpoint('http://localhost:11434/v1/', origin).href).toBe('http://localhost:11434/v1/embeddings');
    const azure = 'https://acme.openai.azure.com/openai/deployments/small/embeddings?api-version=2024-10-21';
    expect(embeddingsEndpoint(azure, origin).href).toBe(azure);
    expect(() => embeddingsEndpoint('api.openai.com', origin)).toThrow(/^Input "embeddings-url" has "api.openai.com"/);
    expect(() => embeddingsEndpoint('https://u:p@x.example/v1', origin)).toThrow(/carries credentials/);
  });

  it('renders templates: NULL is empty, whitespace collapses, dates are ISO', () => {
    const template = '{symbol} {side}  {notes} at {opened_at}';
    expect(placeholdersOf(template)).toEqual(['symbol', 'side', 'notes', 'opened_at']);
    expect(
      renderText(template, { symbol: 'ES', side: 'buy', notes: null, opened_at: new Date('2026-01-05T13:30:00Z') }),
    ).toBe('ES buy at 2026-01-05T13:30:00.000Z');
  });

  it('closes a batch at the size or the token estimate, and sends a long text alone', () => {
    const row = (text: string) => ({ rowId: text, pointId: text, text, hash: '', payload: {} });
    const rows = Array.from({ length: 10 }, (_, index) => row(`${index}`.padEnd(29, 'x')));
    expect(batchesOf(rows, 4, 1000).map((b) => b.length)).toEqual([4, 4, 2]);
    // 29 characters: 10 + 1 estimated tokens each; 35 tokens hold 3.
    expect(batchesOf(rows, 96, 35).map((b) => b.length)).toEqual([3, 3, 3, 1]);
    expect(batchesOf([row('y'.repeat(3000)), ...rows.slice(0, 2)], 96, 100).map((b) => b.length)).toEqual([1, 2]);
  });

  it('checks the config: unknown keys, distances, and two sources in one collection', () => {
    const where = 'input "config" (e.yml)';
    expect(parseSources({ sources: [{ table: 'trades', text: '{symbol}' }] }, where)).toEqual([
      {
        table: 'trades',
        id: 'id',
        text: '{symbol}',
        columns: {},
        payload: [],
        collection: 'trades',
        distance: 'Cosine',
        optional: false,
      },
    ]);
    expect(() => parseSources({ source: [] }, where)).toThrow('input "config" (e.yml): unknown key "source"');
    expect(() => parseSources({ sources: [{ table: 't', text: 'x', distance: 'L2' }] }, where)).toThrow(
      'sources[0]: distance is "L2": use one of Cosine, Dot, Euclid, Manhattan.',
    );
    expect(() => parseSources({ sources: [{ table: 't' }] }, where)).toThrow(
      'sources[0]: text must be a non-empty text (missing)',
    );
    expect(() =>
      parseSources(
        {
          sources: [
            { table: 'a', text: 'x', collection: 'c' },
            { table: 'b', text: 'x', collection: 'c' },
          ],
        },
        where,
      ),
    ).toThrow('a and b both write collection "c"');
  });

  it('has a local embedder that is deterministic, unit-length and says it is not semantic', async () => {
    const embedder = new LocalEmbedder();
    expect(embedder.label).toContain('deterministic local embedder, not semantic');
    const [a, b, empty] = (await embedder.embed(['ES buy breakout', 'ES buy breakout', ''])).vectors;
    expect(a).toEqual(b);
    expect(a).toHaveLength(LOCAL_DIMENSIONS);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 10);
    expect(Math.hypot(...empty!)).toBeCloseTo(1, 10);
    expect((await embedder.embed(['NQ sell'])).vectors[0]).not.toEqual(a);
    expect(contentHash(embedder.model, 'x')).not.toBe(contentHash('text-embedding-3-small', 'x'));
  });
});
