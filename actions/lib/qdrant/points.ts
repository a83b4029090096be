import { ConfigurationError } from '../action/errors.ts';
import {
  collectionInfo,
  createCollection,
  createPayloadIndex,
  deletePoints,
  scrollPoints,
  upsertPoints,
  type PayloadSchemaType,
  type PointId,
  type VectorParams,
} from './api.ts';
import { QdrantError, type QdrantNode } from './client.ts';

const SCROLL_PAGE = 1_000;

/**
 * A Qdrant collection as a store of embedded rows: what the embeddings backfill writes through (its PointStore
 * port, matched by shape; this room knows nothing of rows or embedders).
 */
export function qdrantPointStore(node: QdrantNode) {
  return {
    label: `Qdrant at ${node.url}`,

    /** The single unnamed vector's size; undefined when there is no such collection. */
    async vectorSize(collection: string): Promise<number | undefined> {
      let vectors: unknown;
      try {
        vectors = (await collectionInfo(node, collection)).config.params.vectors;
      } catch (error) {
        if (error instanceof QdrantError && error.status === 404) return undefined;
        throw error;
      }
      const size = (vectors as { size?: unknown } | null)?.size;
      if (typeof size === 'number') return size;
      throw new ConfigurationError(
        `Qdrant at ${node.url}: collection "${collection}" has named vectors ` +
          `(${Object.keys(vectors ?? {}).join(', ') || 'none'}); a backfill writes one unnamed vector per point: ` +
          'give it a collection of its own.',
      );
    },

    async createCollection(
      collection: string,
      vectors: VectorParams,
      indexes: { field: string; type: PayloadSchemaType }[],
    ): Promise<void> {
      await createCollection(node, collection, vectors);
      for (const index of indexes) await createPayloadIndex(node, collection, index.field, index.type);
    },

    async *scroll(
      collection: string,
      fields: string[],
    ): AsyncGenerator<{ id: string; payload: Record<string, unknown> }[]> {
      let offset: PointId | undefined;
      do {
        const page = await scrollPoints(node, collection, {
          limit: SCROLL_PAGE,
          with_payload: { include: fields },
          with_vector: false,
          ...(offset !== undefined && { offset }),
        });
        yield page.points.map((point) => ({ id: String(point.id), payload: point.payload ?? {} }));
        offset = page.next_page_offset ?? undefined;
      } while (offset !== undefined);
    },

    async upsert(
      collection: string,
      points: { id: string; vector: number[]; payload: Record<string, unknown> }[],
    ): Promise<void> {
      await upsertPoints(node, collection, points);
    },

    async delete(collection: string, ids: string[]): Promise<void> {
      await deletePoints(node, collection, ids);
    },
  };
}
