import type pg from 'pg';
import { ConfigurationError } from '../action/errors.ts';
import type { EmbeddingSource } from './config.ts';
import { defaultSources } from './defaults.ts';
import { describeBatch, type BatchLabel, type Embedder } from './embedder.ts';
import { contentHash, pointIdOf } from './point-id.ts';
import { PAYLOAD, type PointStore } from './points.ts';
import { Progress } from './progress.ts';
import { payloadValue, renderText, resolveSource, type ResolvedSource } from './table.ts';

export interface BackfillOptions {
  /** Not inside a transaction: rows are read a page at a time, each its own statement. */
  db: pg.Client;
  /** undefined: the seeds' tables (defaults.ts), each when it exists. */
  sources: EmbeddingSource[] | undefined;
  /** Where the sources come from, for errors: the config's origin and path. */
  sourcesFrom: string;
  embedder: Embedder;
  store: PointStore;
  batchSize: number;
  /** Estimated tokens per request (about 3 characters a token, on the safe side of the provider's limit). */
  maxBatchTokens: number;
  /** Batches in flight at once. */
  concurrency: number;
  prune: boolean;
  log: (line: string) => void;
  notice: (line: string) => void;
  /** Rows read per page (default: enough batches for every concurrent slot, at least 1000). */
  pageSize?: number;
}

export interface SourceResult {
  table: string;
  /** The id column: what validate-integrity's coverage check keys on. */
  key: string;
  collection: string;
  rows: number;
  embedded: number;
  skipped: number;
  deleted: number;
  /** Points of rows no longer in the table, left because prune is off. */
  stale: number;
  tokens: number;
  seconds: number;
  created: boolean;
  dimensions: number | undefined;
}

export interface BackfillResult {
  embedder: string;
  sources: SourceResult[];
  /** Default sources whose table does not exist. */
  absent: string[];
}

interface Row {
  rowId: string;
  pointId: string;
  text: string;
  hash: string;
  payload: Record<string, unknown>;
}

const DELETE_CHUNK = 500;

/**
 * Embeds every row of every source into its collection, idempotently: a point whose stored content hash equals the
 * row's current one is skipped, so a rerun after a failure (or on a schedule) embeds only what is new or changed.
 * Every source is checked against the database before the first request.
 */
export async function backfillEmbeddings(options: BackfillOptions): Promise<BackfillResult> {
  const resolved: ResolvedSource[] = [];
  const absent: string[] = [];
  const sources = options.sources ?? (await defaultSources(options.db));
  const from = options.sources ? options.sourcesFrom : 'the default sources';
  for (const [index, source] of sources.entries()) {
    const found = await resolveSource(options.db, source, `${from}: sources[${index}]`);
    if (found) resolved.push(found);
    else absent.push(source.table);
  }
  for (const table of absent) options.notice(`Table ${table} does not exist: its default source is skipped.`);
  options.log(`Embedding with the ${options.embedder.label}, into ${options.store.label}.`);
  const results: SourceResult[] = [];
  for (const source of resolved) results.push(await backfillSource(source, options));
  return { embedder: options.embedder.label, sources: results, absent };
}

async function backfillSource(resolved: ResolvedSource, options: BackfillOptions): Promise<SourceResult> {
  const started = performance.now();
  const collection = resolved.source.collection;
  const dimensions = await options.store.vectorSize(collection);
  const stored =
    dimensions === undefined ? new Map<string, string>() : await storedHashes(options.store, collection, resolved.name);
  const total = Number((await options.db.query<{ n: string }>(resolved.count)).rows[0]!.n);
  options.log(
    `${resolved.name} → ${collection}: ${total} rows; ` +
      (dimensions === undefined ? 'a new collection.' : `${stored.size} points of this table stored.`),
  );
  const run = new SourceRun(resolved, options, dimensions);
  const progress = new Progress(resolved.name, total, options.log);
  const seen = new Set<string>();
  // A page holds enough batches to keep every slot busy; the slots drain only at its end.
  const pageSize = options.pageSize ?? Math.max(1000, options.batchSize * options.concurrency * 4);
  for await (const page of rowPages(options.db, resolved, options.embedder.model, pageSize)) {
    const pending: Row[] = [];
    for (const row of page) {
      seen.add(row.pointId);
      if (stored.get(row.pointId) === row.hash) run.result.skipped++;
      else pending.push(row);
    }
    await inParallel(batchesOf(pending, options.batchSize, options.maxBatchTokens), options.concurrency, (rows) =>
      run.write(rows),
    );
    run.result.rows += page.length;
    progress.update(run.result.rows, run.result.embedded, run.result.skipped);
  }
  progress.update(run.result.rows, run.result.embedded, run.result.skipped, true);
  await run.removeGone([...stored.keys()].filter((id) => !seen.has(id)));
  run.result.seconds = (performance.now() - started) / 1000;
  return run.result;
}

/** One source's writes into its collection: the collection made or checked once, batches, pruning. */
class SourceRun {
  readonly result: SourceResult;
  private readonly resolved: ResolvedSource;
  private readonly options: BackfillOptions;
  private dimensions: number | undefined;
  private batches = 0;
  /** Settles once the collection exists with the first answer's size; every batch waits for it before writing. */
  private ready: Promise<number> | undefined;

  constructor(resolved: ResolvedSource, options: BackfillOptions, dimensions: number | undefined) {
    this.resolved = resolved;
    this.options = options;
    this.dimensions = dimensions;
    this.result = {
      table: resolved.name,
      key: resolved.source.id,
      collection: resolved.source.collection,
      rows: 0,
      embedded: 0,
      skipped: 0,
      deleted: 0,
      stale: 0,
      tokens: 0,
      seconds: 0,
      created: false,
      dimensions,
    };
  }

  private get collection(): string {
    return this.resolved.source.collection;
  }

  async write(rows: Row[]): Promise<void> {
    const batch: BatchLabel = {
      source: this.resolved.name,
      number: ++this.batches,
      firstRow: rows[0]!.rowId,
      lastRow: rows.at(-1)!.rowId,
    };
    const { embedder, store } = this.options;
    const { vectors, tokens } = await embedder.embed(
      rows.map((row) => row.text),
      batch,
    );
    this.ready ??= this.collectionFor(vectors[0]!.length, batch);
    const size = await this.ready;
    const wrong = vectors.find((vector) => vector.length !== size);
    if (wrong) {
      throw new Error(
        `The ${embedder.label} returned a ${wrong.length}-dimension vector in ${describeBatch(batch)}, not ${size}: ` +
          'every vector of a collection has one size.',
      );
    }
    await store.upsert(
      this.collection,
      rows.map((row, index) => ({ id: row.pointId, vector: vectors[index]!, payload: row.payload })),
    );
    this.result.embedded += rows.length;
    this.result.tokens += tokens;
  }

  /** Creates the collection at the size of the first answer, or checks that size against the existing one. */
  private async collectionFor(size: number, batch: BatchLabel): Promise<number> {
    const { store, embedder } = this.options;
    const distance = this.resolved.source.distance;
    if (this.dimensions === undefined) {
      await store.createCollection(this.collection, { size, distance }, indexesOf(this.resolved));
      this.options.log(`Created collection ${this.collection} (${size} dimensions, ${distance}).`);
      this.result.created = true;
      this.dimensions = size;
    } else if (this.dimensions !== size) {
      throw new ConfigurationError(
        `${store.label}: collection "${this.collection}" holds ${this.dimensions}-dimension vectors, but the ` +
          `${embedder.label} returned ${size} for ${describeBatch(batch)}. Nothing was written to it: use a model ` +
          'of that size, or another collection.',
      );
    }
    this.result.dimensions = this.dimensions;
    return this.dimensions;
  }

  /** The points of rows that are gone: deleted with prune, counted (and said) without. */
  async removeGone(gone: string[]): Promise<void> {
    if (gone.length === 0) return;
    if (!this.options.prune) {
      this.result.stale = gone.length;
      this.options.notice(
        `${this.collection}: ${gone.length} points of ${this.resolved.name} have no row any more (deleted, or ` +
          'outside its where); prune deletes them.',
      );
      return;
    }
    for (let start = 0; start < gone.length; start += DELETE_CHUNK) {
      const chunk = gone.slice(start, start + DELETE_CHUNK);
      await this.options.store.delete(this.collection, chunk);
      this.result.deleted += chunk.length;
    }
    this.options.log(`${this.resolved.name}: deleted ${gone.length} points whose rows are gone.`);
  }
}

/** Point id → stored content hash, for this table's points (other writers' points in the collection are left). */
async function storedHashes(store: PointStore, collection: string, table: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for await (const page of store.scroll(collection, [PAYLOAD.table, PAYLOAD.hash])) {
    for (const point of page) {
      if (point.payload[PAYLOAD.table] !== table) continue;
      const hash = point.payload[PAYLOAD.hash];
      hashes.set(point.id, typeof hash === 'string' ? hash : '');
    }
  }
  return hashes;
}

function indexesOf(resolved: ResolvedSource): { field: string; type: ResolvedSource['payload'][number]['index'] }[] {
  return [
    { field: PAYLOAD.rowId, type: 'keyword' },
    { field: PAYLOAD.table, type: 'keyword' },
    ...resolved.payload.map(({ column, index }) => ({ field: column, type: index })),
  ];
}

async function* rowPages(db: pg.Client, resolved: ResolvedSource, model: string, size: number): AsyncGenerator<Row[]> {
  let last: string | undefined;
  for (;;) {
    const { rows } = await db.query<Record<string, unknown>>(
      last === undefined ? resolved.first : resolved.after,
      last === undefined ? [size] : [size, last],
    );
    if (rows.length === 0) return;
    yield rows.map((row) => rowOf(resolved, model, row));
    last = rows.at(-1)!.row_id as string;
    if (rows.length < size) return;
  }
}

function rowOf(resolved: ResolvedSource, model: string, row: Record<string, unknown>): Row {
  const rowId = row.row_id as string;
  const values = Object.fromEntries(resolved.placeholders.map((name, index) => [name, row[`c${index}`]]));
  const text = renderText(resolved.source.text, values);
  const hash = contentHash(model, text);
  const payload: Record<string, unknown> = {};
  resolved.payload.forEach(({ column, index }, offset) => {
    payload[column] = payloadValue(row[`c${resolved.placeholders.length + offset}`], index);
  });
  Object.assign(payload, {
    [PAYLOAD.rowId]: rowId,
    [PAYLOAD.table]: resolved.name,
    [PAYLOAD.hash]: hash,
    [PAYLOAD.model]: model,
  });
  return { rowId, pointId: pointIdOf(resolved.name, rowId), text, hash, payload };
}

/** Up to `size` rows per batch, fewer when their estimated tokens would pass `maxTokens` (a long text goes alone). */
export function batchesOf(rows: Row[], size: number, maxTokens: number): Row[][] {
  const batches: Row[][] = [];
  let current: Row[] = [];
  let tokens = 0;
  for (const row of rows) {
    const estimate = Math.ceil(row.text.length / 3) + 1;
    if (current.length > 0 && (current.length >= size || tokens + estimate > maxTokens)) {
      batches.push(current);
      [current, tokens] = [[], 0];
    }
    current.push(row);
    tokens += estimate;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Runs `work` over the items, at most `limit` at once; the first failure stops new work and is thrown. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
