import type http from 'node:http';
import type { Readable } from 'node:stream';
import { download, request, result, uploadMultipart, type QdrantNode } from './client.ts';

/**
 * Qdrant's REST API as backups (and the embeddings backfill) use it: one typed function per endpoint, and the only place in the code that spells
 * an endpoint's path (test/unit/qdrant-api-paths.test.ts holds every other file to that). The shapes are the parts
 * of Qdrant's OpenAPI document (v1.19) that they send or read, named after its schemas.
 */

/** VersionInfo */
export interface VersionInfo {
  title: string;
  version: string;
  commit?: string | null;
}

/** CollectionsResponse */
export interface CollectionsResponse {
  collections: { name: string }[];
}

/** AliasDescription */
export interface AliasDescription {
  alias_name: string;
  collection_name: string;
}

/** CollectionsAliasesResponse */
export interface CollectionsAliasesResponse {
  aliases: AliasDescription[];
}

/** CollectionInfo: what a manifest records and a drill compares. */
export interface CollectionInfo {
  /** Approximate: points not yet indexed may be left out for a moment. */
  points_count?: number | null;
  config: { params: CollectionParams };
  payload_schema: Record<string, unknown>;
}

/** CollectionParams: `vectors` is VectorsConfig, kept opaque (it is recorded and compared, never read). */
export interface CollectionParams {
  vectors?: unknown;
  shard_number?: number;
}

/** CollectionClusterInfo, as far as this node's share of the collection goes. */
export interface CollectionClusterInfo {
  peer_id: number;
  shard_count: number;
  local_shards: { shard_id: number; points_count: number; state: string }[];
}

/** SnapshotDescription; `checksum` (sha256 hex) is absent when the server keeps snapshots in S3. */
export interface SnapshotDescription {
  name: string;
  size: number;
  creation_time?: string | null;
  checksum?: string | null;
}

/** SnapshotPriority */
export type SnapshotPriority = 'no_sync' | 'snapshot' | 'replica';

/** AliasOperations (without rename, which backups never send). */
export type AliasOperation =
  | { create_alias: { collection_name: string; alias_name: string } }
  | { delete_alias: { alias_name: string } };

/** ExtendedPointId: an unsigned integer or a UUID. */
export type PointId = number | string;

/** ScrollRequest: the options a coverage check sends (no filter, no order_by, no shard key). */
export interface ScrollRequest {
  limit?: number;
  offset?: PointId;
  /** WithPayloadInterface: all, none, or only the named keys. */
  with_payload?: boolean | string[] | { include: string[] };
  with_vector?: boolean;
}

/** ScrollResult */
export interface ScrollResult {
  points: { id: PointId; payload?: Record<string, unknown> | null }[];
  next_page_offset?: PointId | null;
}

/** VectorParams: one unnamed vector per point, as a backfill creates. */
export interface VectorParams {
  size: number;
  distance: 'Cosine' | 'Dot' | 'Euclid' | 'Manhattan';
}

/** PayloadSchemaType: what a payload index is built as. */
export type PayloadSchemaType = 'keyword' | 'integer' | 'float' | 'geo' | 'text' | 'bool' | 'datetime' | 'uuid';

/** PointStruct with an unnamed vector. */
export interface PointStruct {
  id: PointId;
  vector: number[];
  payload?: Record<string, unknown>;
}

/** UpdateResult */
export interface UpdateResult {
  operation_id?: number | null;
  status: 'acknowledged' | 'completed' | 'wait_timeout';
}

/** A snapshot file to upload: its size is known in advance, so nothing is buffered. */
export interface SnapshotUpload {
  stream: Readable;
  bytes: number;
  fileName: string;
}

function collectionPath(collection: string): string {
  return `/collections/${encodeURIComponent(collection)}`;
}

function snapshotsPath(collection: string): string {
  return `${collectionPath(collection)}/snapshots`;
}

function snapshotPath(collection: string, snapshot: string): string {
  return `${snapshotsPath(collection)}/${encodeURIComponent(snapshot)}`;
}

/** GET / answers VersionInfo itself, without the usual `{result}` envelope. */
export function versionInfo(node: QdrantNode): Promise<VersionInfo> {
  return request<VersionInfo>(node, 'GET', '/');
}

/** Qdrant's version without the leading "v" ("unknown" when the server does not say). */
export async function serverVersionOf(node: QdrantNode): Promise<string> {
  return ((await versionInfo(node)).version ?? 'unknown').replace(/^v/, '');
}

export function listCollections(node: QdrantNode): Promise<CollectionsResponse> {
  return result<CollectionsResponse>(node, 'GET', '/collections');
}

export function listAliases(node: QdrantNode): Promise<CollectionsAliasesResponse> {
  return result<CollectionsAliasesResponse>(node, 'GET', '/aliases');
}

/** Rejects with a QdrantError of status 404 when the collection does not exist. */
export function collectionInfo(node: QdrantNode, collection: string): Promise<CollectionInfo> {
  return result<CollectionInfo>(node, 'GET', collectionPath(collection));
}

export function collectionClusterInfo(node: QdrantNode, collection: string): Promise<CollectionClusterInfo> {
  return result<CollectionClusterInfo>(node, 'GET', `${collectionPath(collection)}/cluster`);
}

/** Resolves with false when there was no such collection (Qdrant answers 200 either way). */
export function deleteCollection(node: QdrantNode, collection: string): Promise<boolean> {
  return result<boolean>(node, 'DELETE', collectionPath(collection));
}

/** One atomic update of the aliases: every action applies, or none does. */
export function updateAliases(node: QdrantNode, actions: AliasOperation[]): Promise<boolean> {
  return result<boolean>(node, 'POST', '/collections/aliases', { body: { actions } });
}

/**
 * Makes a snapshot and answers once it is on the server's disk (`wait=true`: the JS client's wait=false path
 * throws on HTTP 202). A large collection takes minutes without a byte on the wire, hence the caller's timeout.
 */
export function createSnapshot(node: QdrantNode, collection: string, timeoutMs: number): Promise<SnapshotDescription> {
  return result<SnapshotDescription>(node, 'POST', snapshotsPath(collection), { query: { wait: 'true' }, timeoutMs });
}

/** The snapshot file as a stream (octet-stream), with its length when the server sends one. */
export function downloadSnapshot(
  node: QdrantNode,
  collection: string,
  snapshot: string,
): Promise<{ stream: http.IncomingMessage; bytes: number | undefined }> {
  return download(node, snapshotPath(collection, snapshot));
}

export function deleteSnapshot(node: QdrantNode, collection: string, snapshot: string): Promise<boolean> {
  return result<boolean>(node, 'DELETE', snapshotPath(collection, snapshot), { query: { wait: 'true' } });
}

/**
 * Recovers (creates or replaces) a collection from an uploaded snapshot file, multipart field `snapshot`. Qdrant
 * checks the file against `checksum` (sha256 hex) before it recovers anything: a mismatch is HTTP 400.
 */
export async function uploadSnapshot(
  node: QdrantNode,
  collection: string,
  options: { priority: SnapshotPriority; checksum: string },
  file: SnapshotUpload,
): Promise<void> {
  const query = { wait: 'true', priority: options.priority, checksum: options.checksum };
  await uploadMultipart(node, `${snapshotsPath(collection)}/upload`, query, file);
}

export function scrollPoints(node: QdrantNode, collection: string, body: ScrollRequest): Promise<ScrollResult> {
  return result<ScrollResult>(node, 'POST', `${collectionPath(collection)}/points/scroll`, { body });
}

/** CreateCollection with one unnamed vector; Qdrant answers 409 when the collection already exists. */
export function createCollection(node: QdrantNode, collection: string, vectors: VectorParams): Promise<boolean> {
  return result<boolean>(node, 'PUT', collectionPath(collection), { body: { vectors } });
}

/** CreateFieldIndex, waiting until the index exists. */
export function createPayloadIndex(
  node: QdrantNode,
  collection: string,
  field: string,
  schema: PayloadSchemaType,
): Promise<UpdateResult> {
  return result<UpdateResult>(node, 'PUT', `${collectionPath(collection)}/index`, {
    query: { wait: 'true' },
    body: { field_name: field, field_schema: schema },
  });
}

/** PointsList upsert; `wait=true` answers once the points are stored (and searchable). */
export function upsertPoints(node: QdrantNode, collection: string, points: PointStruct[]): Promise<UpdateResult> {
  return result<UpdateResult>(node, 'PUT', `${collectionPath(collection)}/points`, {
    query: { wait: 'true' },
    body: { points },
  });
}

/** PointIdsList delete, waiting until it is applied. */
export function deletePoints(node: QdrantNode, collection: string, ids: PointId[]): Promise<UpdateResult> {
  return result<UpdateResult>(node, 'POST', `${collectionPath(collection)}/points/delete`, {
    query: { wait: 'true' },
    body: { points: ids },
  });
}
