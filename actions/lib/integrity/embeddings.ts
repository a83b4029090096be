import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import { qualified, quoteIdent } from '../pg/connection.ts';
import { QdrantError, result, type QdrantNode } from '../qdrant/client.ts';
import { fail, pass, type CheckResult } from './check.ts';

/**
 * Embedding coverage: every row of a table has a point in a Qdrant collection, and every point has its row.
 *
 * Both sides are read in pages of 10,000: the table through a server-side cursor (one read-only transaction, one
 * snapshot; the key need not be unique or indexed, though an index on it spares the server a sort), the collection
 * through Qdrant's scroll API (ids only, or ids and the one payload field matched on; never vectors).
 *
 * How the two are compared depends on what order they arrive in:
 * - Point id = key, and the key column is an integer or uuid: Qdrant scrolls in id order (every integer id before
 *   every UUID, integers by value, UUIDs by bytes), which is exactly ORDER BY of such a column. The two sorted
 *   streams are merged and nothing is held but the current page of each side. Both orders are verified as they
 *   arrive: a side out of order stops the check with an error instead of reporting wrong differences.
 * - Otherwise (payload matching, text keys): scroll order says nothing about payload values, so the keys of the
 *   smaller side (by the table's statistics and the collection's point count) are held in a Map while the other side
 *   streams past. That costs about 55 bytes per held integer key and 95 per UUID (a string plus a Map entry, measured
 *   on Node 24), so 0.5–1 GB per 10 million keys.
 *
 * Keys are compared as text: the column's ::text against the point id (a decimal integer or a UUID in its canonical
 * lowercase form) or the payload value (a string, or a number written as JavaScript writes it). Point ids and
 * payload integers beyond 2^53 cannot be read exactly from Qdrant's JSON here, so they stop the check with an error
 * rather than produce false differences.
 *
 * The table and the collection are read one after the other (or interleaved), not at one instant: rows and points
 * written while the check runs can show up as differences.
 *
 * `db` must not be inside a transaction: the check opens and ends its own.
 */
export interface EmbeddingMapping {
  /** Schema-qualified or bare (resolved through the search_path), e.g. "public.trades". */
  table: string;
  /** The row key column, e.g. "id". */
  key: string;
  /** Qdrant collection. */
  collection: string;
  /** Point id equals the key, or payload field <name> (a path such as "meta.trade_id" reaches into objects) equals the key. */
  match: 'id' | { payload: string };
}

export interface EmbeddingOptions {
  /** How many missing and orphan keys to keep in the details (default 10; the finding shows up to 5). */
  sample?: number;
}

/** Rows fetched per cursor FETCH and points per scroll page. */
export const PAGE_SIZE = 10_000;
const DEFAULT_SAMPLE = 10;
const FINDING_SAMPLE = 5;
/** Key column types whose ORDER BY is Qdrant's scroll order for point ids. */
const ID_ORDERED_TYPES = new Set(['smallint', 'integer', 'bigint', 'uuid']);

export async function checkEmbeddings(db: pg.Client, qdrant: QdrantNode, mapping: EmbeddingMapping, options: EmbeddingOptions = {}): Promise<CheckResult> {
  const sample = options.sample ?? DEFAULT_SAMPLE;
  if (!Number.isInteger(sample) || sample < 0) throw new ConfigurationError(`Embedding check sample must be a whole number ≥ 0, not ${sample}.`);
  const column = await resolveKeyColumn(db, mapping);
  const pointsCount = await collectionPointCount(qdrant, mapping.collection);
  const tally = new Tally(sample);
  const rows = () => rowKeys(db, column);
  const points = () => pointKeys(qdrant, mapping);

  if (mapping.match === 'id' && ID_ORDERED_TYPES.has(column.type)) {
    await compareSorted(flatten(rows()), flatten(points()), tally);
  } else if ((await estimatedRows(db, column)) <= pointsCount) {
    await compareHoldingRows(rows(), points(), tally);
  } else {
    await compareHoldingPoints(rows(), points(), tally);
  }
  return verdict(mapping, tally);
}

// ---------------------------------------------------------------------------------------------------------------
// The table

interface KeyColumn {
  /** schema-qualified, quoted, for SQL text */
  table: string;
  /** quoted column name */
  column: string;
  /** format_type of the column, e.g. "bigint", "uuid", "text" */
  type: string;
}

/** Resolves the table as the database sees it (search_path included), so a wrong name fails before any reading. */
async function resolveKeyColumn(db: pg.Client, mapping: EmbeddingMapping): Promise<KeyColumn> {
  let found: { schema: string; name: string; type: string | null } | undefined;
  try {
    found = (await db.query<{ schema: string; name: string; type: string | null }>(`
      SELECT n.nspname AS schema, c.relname AS name, format_type(a.atttypid, NULL) AS type
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.oid = to_regclass($1)`, [mapping.table, mapping.key])).rows[0];
  } catch (error) {
    // to_regclass raises on a malformed name (e.g. too many dots) instead of answering NULL.
    throw new ConfigurationError(`Embedding check: "${mapping.table}" is not a table name: ${errorMessage(error)}.`);
  }
  if (!found) throw new ConfigurationError(`Embedding check: table "${mapping.table}" does not exist or is not visible to this user; write it as schema.table.`);
  if (found.type === null) throw new ConfigurationError(`Embedding check: table ${found.schema}.${found.name} has no column "${mapping.key}".`);
  return { table: qualified(found.schema, found.name), column: quoteIdent(mapping.key), type: found.type };
}

/** The planner's row estimate, or an exact count when the table was never analyzed; only picks the side to hold. */
async function estimatedRows(db: pg.Client, column: KeyColumn): Promise<number> {
  const { rows } = await db.query<{ estimate: number }>(`SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = $1::regclass`, [column.table]);
  const estimate = rows[0]?.estimate ?? -1;
  if (estimate >= 0) return estimate;
  return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${column.table}`)).rows[0]!.n);
}

/**
 * The key of every row, as text (null for a NULL key), in key order, a page at a time from a server-side cursor.
 * The transaction ends when the stream is exhausted or abandoned (return() runs the finally block).
 */
async function* rowKeys(db: pg.Client, column: KeyColumn): AsyncGenerator<(string | null)[]> {
  await db.query('BEGIN READ ONLY');
  let committed = false;
  try {
    // ORDER BY the table-qualified column: a bare name would sort by the output column of the same name, the text.
    await db.query(`DECLARE backstop_embedding_keys NO SCROLL CURSOR FOR
                    SELECT ${column.column}::text FROM ${column.table} ORDER BY ${column.table}.${column.column}`);
    for (;;) {
      const { rows } = await db.query<[string | null]>({ text: `FETCH ${PAGE_SIZE} FROM backstop_embedding_keys`, rowMode: 'array' });
      if (rows.length === 0) break;
      yield rows.map((row) => row[0]);
    }
    await db.query('COMMIT');
    committed = true;
  } finally {
    if (!committed) await db.query('ROLLBACK').catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The collection

/** A point as compared: its id, and its key (the id, or the payload value; undefined when the payload has none). */
interface PointKey {
  id: string;
  key: string | undefined;
}

interface ScrollPage {
  points: { id: number | string; payload?: Record<string, unknown> | null }[];
  next_page_offset?: number | string | null;
}

/** Qdrant's point count (approximate, but enough to choose which side to hold); a missing collection is a configuration error. */
async function collectionPointCount(qdrant: QdrantNode, collection: string): Promise<number> {
  try {
    const info = await result<{ points_count?: number | null }>(qdrant, 'GET', `/collections/${encodeURIComponent(collection)}`);
    return info.points_count ?? 0;
  } catch (error) {
    if (error instanceof QdrantError && error.status === 404) {
      throw new ConfigurationError(`Embedding check: Qdrant at ${qdrant.url} has no collection "${collection}".`);
    }
    throw error;
  }
}

/** Every point, a page at a time, in Qdrant's scroll order (by id). Vectors are never fetched. */
async function* pointKeys(qdrant: QdrantNode, mapping: EmbeddingMapping): AsyncGenerator<PointKey[]> {
  const field = mapping.match === 'id' ? undefined : mapping.match.payload;
  const path = `/collections/${encodeURIComponent(mapping.collection)}/points/scroll`;
  let offset: number | string | undefined;
  do {
    const body = { limit: PAGE_SIZE, with_payload: field === undefined ? false : { include: [field] }, with_vector: false, ...(offset !== undefined && { offset }) };
    const page = await result<ScrollPage>(qdrant, 'POST', path, { body });
    yield page.points.map((point) => {
      const id = exactText(point.id, 'point id');
      return { id, key: field === undefined ? id : payloadKey(point.payload, field) };
    });
    offset = page.next_page_offset ?? undefined;
    // The offset goes back to Qdrant: it must survive JSON.parse unchanged too.
    if (offset !== undefined) exactText(offset, 'next_page_offset');
  } while (offset !== undefined);
}

/** A point id or payload number as text; integers past 2^53 were already rounded by JSON.parse, so they stop the check. */
function exactText(value: number | string, what: string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw new Error(`Qdrant returned ${what} ${value}, beyond 2^53: JSON numbers that large lose precision in JavaScript, so keys cannot be compared exactly.`);
  }
  return String(value);
}

/** The payload value at a dotted path, as text; anything but a string or a number is no key. */
function payloadKey(payload: Record<string, unknown> | null | undefined, field: string): string | undefined {
  let value: unknown = payload;
  for (const part of field.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  if (typeof value === 'string' || typeof value === 'number') return exactText(value, `payload "${field}"`);
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing

/** Counts and the first `sample` keys of each kind of difference. */
class Tally {
  rows = 0;
  points = 0;
  missingCount = 0;
  orphanCount = 0;
  readonly missingPoints: string[] = [];
  readonly orphanPoints: string[] = [];
  private readonly sample: number;

  constructor(sample: number) {
    this.sample = sample;
  }

  /** A row (key text, or null for a NULL key) with no point. */
  missing(key: string | null): void {
    this.missingCount++;
    if (this.missingPoints.length < this.sample) this.missingPoints.push(key ?? 'NULL');
  }

  /** A point with no row, shown by its key (or by its id when its payload has no key). */
  orphan(label: string): void {
    this.orphanCount++;
    if (this.orphanPoints.length < this.sample) this.orphanPoints.push(label);
  }
}

async function* flatten<T>(pages: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}

/** An iterator with its current item in view; close() ends the underlying stream (the row cursor's transaction). */
class Peek<T> {
  current: T | undefined;
  done = false;
  private readonly iterator: AsyncIterator<T>;

  constructor(source: AsyncIterable<T>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  async advance(): Promise<void> {
    const next = await this.iterator.next();
    this.done = next.done === true;
    this.current = next.done ? undefined : next.value;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

const DECIMAL = /^-?\d+$/;

/**
 * Qdrant's id order on text keys: integers (by value) before UUIDs and other text (by code unit, which for
 * canonical lowercase UUIDs is byte order). A NULL key sorts last, as in ORDER BY ... ASC.
 */
export function compareKeys(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const [aNumber, bNumber] = [DECIMAL.test(a), DECIMAL.test(b)];
  if (aNumber !== bNumber) return aNumber ? -1 : 1;
  if (aNumber) {
    // Up to 15 digits a double is exact; beyond that BigInt.
    if (a.length <= 15 && b.length <= 15) return Number(a) - Number(b);
    const [x, y] = [BigInt(a), BigInt(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Passes keys through, failing loudly if one arrives before its predecessor (the merge would be wrong). */
async function* inOrder<T>(source: AsyncIterable<T>, keyOf: (item: T) => string | null, side: string): AsyncGenerator<T> {
  let previous: string | null | undefined;
  let first = true;
  for await (const item of source) {
    const key = keyOf(item);
    if (!first && compareKeys(previous!, key) > 0) {
      throw new Error(`Embedding check: ${side} arrived out of order (${key ?? 'NULL'} after ${previous ?? 'NULL'}), so the sorted comparison cannot be trusted.`);
    }
    [previous, first] = [key, false];
    yield item;
  }
}

/** Merges the rows (in key order) with the points (in id order); holds nothing but the two current pages. */
async function compareSorted(rowStream: AsyncIterable<string | null>, pointStream: AsyncIterable<PointKey>, tally: Tally): Promise<void> {
  const rows = new Peek(inOrder(rowStream, (key) => key, 'the table keys'));
  const points = new Peek(inOrder(pointStream, (point) => point.id, "Qdrant's scroll"));
  try {
    await rows.advance();
    await points.advance();
    while (!rows.done || !points.done) {
      // A NULL key (they come last) has no point whatever the points side holds.
      const order = rows.done ? 1 : points.done || rows.current === null ? -1 : compareKeys(rows.current!, points.current!.id);
      if (order < 0) {
        tally.rows++;
        tally.missing(rows.current!);
        await rows.advance();
      } else if (order > 0) {
        tally.points++;
        tally.orphan(points.current!.id);
        await points.advance();
      } else {
        // One point covers every row with its key (the key column need not be unique).
        const key = points.current!.id;
        tally.points++;
        await points.advance();
        while (!rows.done && rows.current === key) {
          tally.rows++;
          await rows.advance();
        }
      }
    }
  } finally {
    await rows.close();
    await points.close();
  }
}

/** Holds the row keys (with how many rows each has; 0 once a point matched), then streams the points past them. */
async function compareHoldingRows(rowPages: AsyncIterable<(string | null)[]>, pointPages: AsyncIterable<PointKey[]>, tally: Tally): Promise<void> {
  const unmatched = new Map<string | null, number>();
  for await (const page of rowPages) {
    for (const key of page) {
      tally.rows++;
      unmatched.set(key, (unmatched.get(key) ?? 0) + 1);
    }
  }
  for await (const page of pointPages) {
    for (const point of page) {
      tally.points++;
      const rows = point.key === undefined ? undefined : unmatched.get(point.key);
      if (rows === undefined) tally.orphan(orphanLabel(point));
      else if (rows > 0) unmatched.set(point.key!, 0);
    }
  }
  // Insertion order is key order: the sample is the lowest missing keys.
  for (const [key, rows] of unmatched) for (let row = 0; row < rows; row++) tally.missing(key);
}

/** Holds the point keys (with how many points each has; 0 once a row matched), then streams the rows past them. */
async function compareHoldingPoints(rowPages: AsyncIterable<(string | null)[]>, pointPages: AsyncIterable<PointKey[]>, tally: Tally): Promise<void> {
  const unmatched = new Map<string, number>();
  for await (const page of pointPages) {
    for (const point of page) {
      tally.points++;
      if (point.key === undefined) tally.orphan(orphanLabel(point));
      else unmatched.set(point.key, (unmatched.get(point.key) ?? 0) + 1);
    }
  }
  for await (const page of rowPages) {
    for (const key of page) {
      tally.rows++;
      const points = key === null ? undefined : unmatched.get(key);
      if (points === undefined) tally.missing(key);
      else if (points > 0) unmatched.set(key!, 0);
    }
  }
  for (const [key, points] of unmatched) for (let point = 0; point < points; point++) tally.orphan(key);
}

/** A point without a usable payload key can only be named by its id. */
function orphanLabel(point: PointKey): string {
  return point.key ?? `point ${point.id} (no key in payload)`;
}

// ---------------------------------------------------------------------------------------------------------------
// The verdict

function verdict(mapping: EmbeddingMapping, tally: Tally): CheckResult {
  const name = `embeddings: ${mapping.table} → ${mapping.collection}`;
  const details = {
    rows: tally.rows,
    points: tally.points,
    missingPoints: tally.missingPoints,
    orphanPoints: tally.orphanPoints,
    missingCount: tally.missingCount,
    orphanCount: tally.orphanCount,
  };
  const prefix = `${mapping.table} → ${mapping.collection}`;
  if (tally.missingCount === 0 && tally.orphanCount === 0) {
    return pass(name, `${prefix}: all ${tally.rows} ${plural(tally.rows, 'row has', 'rows have')} a point and all ${tally.points} ${plural(tally.points, 'point has', 'points have')} a row`, details);
  }
  const parts: string[] = [];
  if (tally.missingCount > 0) {
    parts.push(`${tally.missingCount} of ${tally.rows} ${plural(tally.rows, 'row', 'rows')} ${tally.missingCount === 1 ? 'has' : 'have'} no point${example(tally.missingPoints)}`);
  }
  if (tally.orphanCount > 0) {
    parts.push(`${tally.orphanCount} ${plural(tally.orphanCount, 'point has', 'points have')} no row${example(tally.orphanPoints)}`);
  }
  return fail(name, `${prefix}: ${parts.join('; ')}`, details);
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

function example(sample: string[]): string {
  return sample.length === 0 ? '' : ` (e.g. ${sample.slice(0, FINDING_SAMPLE).join(', ')})`;
}
