import { ConfigurationError } from '../../action/errors.ts';
import { collectionInfo, scrollPoints, type PointId } from '../../qdrant/api.ts';
import { QdrantError, type QdrantNode } from '../../qdrant/client.ts';
import { PAGE_SIZE, type EmbeddingMapping } from './mapping.ts';

/** A point as compared: its id, and its key (the id, or the payload value; undefined when the payload has none). */
export interface PointKey {
  id: string;
  key: string | undefined;
}

/**
 * Qdrant's point count (approximate, but enough to choose which side to hold); a missing collection is a
 * configuration error.
 */
export async function collectionPointCount(qdrant: QdrantNode, collection: string): Promise<number> {
  try {
    const info = await collectionInfo(qdrant, collection);
    return info.points_count ?? 0;
  } catch (error) {
    if (error instanceof QdrantError && error.status === 404) {
      throw new ConfigurationError(`Embedding check: Qdrant at ${qdrant.url} has no collection "${collection}".`);
    }
    throw error;
  }
}

/** Every point, a page at a time, in Qdrant's scroll order (by id). Vectors are never fetched. */
export async function* pointKeys(qdrant: QdrantNode, mapping: EmbeddingMapping): AsyncGenerator<PointKey[]> {
  const field = mapping.match === 'id' ? undefined : mapping.match.payload;
  let offset: PointId | undefined;
  do {
    const page = await scrollPoints(qdrant, mapping.collection, {
      limit: PAGE_SIZE,
      with_payload: field === undefined ? false : { include: [field] },
      with_vector: false,
      ...(offset !== undefined && { offset }),
    });
    yield page.points.map((point) => {
      const id = exactText(point.id, 'point id');
      return { id, key: field === undefined ? id : payloadKey(point.payload, field) };
    });
    offset = page.next_page_offset ?? undefined;
    // The offset goes back to Qdrant: it must survive JSON.parse unchanged too.
    if (offset !== undefined) exactText(offset, 'next_page_offset');
  } while (offset !== undefined);
}

/**
 * A point id or payload number as text; integers past 2^53 were already rounded by JSON.parse, so they stop the
 * check.
 */
function exactText(value: number | string, what: string): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw new Error(
      `Qdrant returned ${what} ${value}, beyond 2^53: JSON numbers that large lose precision in JavaScript, ` +
        'so keys cannot be compared exactly.',
    );
  }
  return String(value);
}

/** The payload value at a dotted path, as text; anything but a string or a number is no key. */
function payloadKey(payload: Record<string, unknown> | null | undefined, field: string): string | undefined {
  let value: unknown = payload;
  for (const part of field.split('.')) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (typeof value === 'string' || typeof value === 'number') return exactText(value, `payload "${field}"`);
  return undefined;
}
