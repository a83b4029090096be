import { createHash } from 'node:crypto';

/**
 * Backstop's namespace for embedding point ids (a fixed random UUID): the same table and row always give the same
 * point id, so a rerun overwrites instead of duplicating, and any tool can compute a row's point id.
 */
export const POINT_NAMESPACE = '6f1d9a52-3c8e-4b7a-9e21-5d4c0b8a7f13';

/** RFC 9562 UUID version 5 (SHA-1) of a name in a namespace, in canonical lowercase form. */
export function uuidV5(name: string, namespace = POINT_NAMESPACE): string {
  const bytes = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A row's point id: UUID v5 of its table (schema-qualified, unquoted) and its id as text. */
export function pointIdOf(table: string, rowId: string): string {
  return uuidV5(`${table}:${rowId}`);
}

/** What decides whether a stored point is current: the model that embedded it and the exact text. */
export function contentHash(model: string, text: string): string {
  return createHash('sha256').update(model).update('\n').update(text).digest('hex');
}
