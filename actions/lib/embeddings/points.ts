import type { Distance } from './config.ts';
import type { PayloadIndexType } from './table.ts';

/**
 * The vector store as the backfill needs it: a port, implemented for Qdrant by lib/qdrant/points.ts (engines never
 * import each other; the action wires the two together).
 */
export interface PointStore {
  /** For logs and errors, e.g. "Qdrant at http://qdrant:6333". */
  readonly label: string;
  /** The collection's (single, unnamed) vector size; undefined when the collection does not exist. */
  vectorSize(collection: string): Promise<number | undefined>;
  createCollection(
    collection: string,
    vectors: { size: number; distance: Distance },
    indexes: { field: string; type: PayloadIndexType }[],
  ): Promise<void>;
  /** Every point's id and the named payload fields, a page at a time. */
  scroll(collection: string, fields: string[]): AsyncIterable<{ id: string; payload: Record<string, unknown> }[]>;
  /** Returns once the points are stored (wait=true). */
  upsert(
    collection: string,
    points: { id: string; vector: number[]; payload: Record<string, unknown> }[],
  ): Promise<void>;
  delete(collection: string, ids: string[]): Promise<void>;
}

/** The payload fields Backstop writes into every point, besides the configured columns. */
export const PAYLOAD = {
  /** The row's id: what validate-integrity's coverage check matches on (match: payload:row_id). */
  rowId: 'row_id',
  /** schema.table of the row, so prune never deletes another writer's points. */
  table: 'source_table',
  /** sha256 of the model and the text: an equal hash means the point is current. */
  hash: 'content_hash',
  model: 'embedding_model',
} as const;
