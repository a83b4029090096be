import type pg from 'pg';
import { ConfigurationError } from '../../action/errors.ts';
import type { QdrantNode } from '../../qdrant/client.ts';
import type { CheckResult } from '../check.ts';
import { collectionPointCount, pointKeys } from './collection.ts';
import { compareHoldingPoints, compareHoldingRows } from './hold.ts';
import type { EmbeddingMapping, EmbeddingOptions } from './mapping.ts';
import { compareSorted, flatten } from './merge.ts';
import { estimatedRows, resolveKeyColumn, rowKeys } from './table.ts';
import { Tally } from './tally.ts';
import { verdict } from './verdict.ts';

const DEFAULT_SAMPLE = 10;
/** Key column types whose ORDER BY is Qdrant's scroll order for point ids. */
const ID_ORDERED_TYPES = new Set(['smallint', 'integer', 'bigint', 'uuid']);

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
export async function checkEmbeddings(
  db: pg.Client,
  qdrant: QdrantNode,
  mapping: EmbeddingMapping,
  options: EmbeddingOptions = {},
): Promise<CheckResult> {
  const sample = options.sample ?? DEFAULT_SAMPLE;
  if (!Number.isInteger(sample) || sample < 0) {
    throw new ConfigurationError(`Embedding check sample must be a whole number ≥ 0, not ${sample}.`);
  }
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
