/**
 * A stand-in for the Qdrant REST API, limited to the endpoints Backstop's Qdrant actions call. No Qdrant server can be
 * installed where the tests run, so this one answers like Qdrant v1.19 does, and every JSON response it sends is
 * checked against Qdrant's own OpenAPI document (see openapi.ts): a response shape Qdrant would not send fails the
 * test that looks at `violations`.
 *
 * Snapshot files are stand-in specific: a header line naming the collection and its configuration, then
 * deterministic filler generated while streaming, so a 1 GB snapshot never sits in memory.
 *
 * Points: a collection's `points` is a count only (what its info and snapshots report). Points written with
 * `PUT /collections/{c}/points` are kept in memory with their ids, vectors and payloads, add to that count, and are
 * what `POST /collections/{c}/points/scroll` pages through, ordered by id as Qdrant orders them. Declared points
 * have no ids and never show in a scroll; recovering a snapshot or deleting the collection drops the stored ones.
 * `POST /collections/{c}/points/delete` removes stored points by id; `PUT /collections/{c}` creates a collection of
 * one unnamed vector, and `PUT /collections/{c}/index` adds a payload index to its schema (as embedding backfills do).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import busboy from 'busboy';
import { loadQdrantOpenApi, matchPathTemplate, type QdrantOpenApi } from './openapi.ts';

export type Distance = 'Cosine' | 'Dot' | 'Euclid' | 'Manhattan';
export interface VectorParams {
  size: number;
  distance: Distance;
}

export interface StandinCollection {
  name: string;
  /** Points reported by the collection's info and snapshots; upserted points are added to it (see above). */
  points: number;
  /** Qdrant's config.params.vectors: one unnamed vector or named vectors. */
  vectors: VectorParams | Record<string, VectorParams>;
  shardNumber?: number; // default 1
  payloadSchema?: Record<string, { data_type: string; points: number }>; // default {}
  /** Size in bytes of the snapshot file this collection's snapshot produces (default 64 KiB). */
  snapshotBytes?: number;
}

export interface StandinOptions {
  collections: StandinCollection[];
  aliases?: { alias_name: string; collection_name: string }[];
  /**
   * When set, every request needs header `api-key: <key>` (or `Authorization: Bearer <key>`), else 401. As in Qdrant,
   * `/`, `/healthz`, `/readyz` and `/livez` stay open.
   */
  apiKey?: string;
  /** GET / version, default '1.19.0'. */
  version?: string;
  /**
   * What POST .../snapshots returns as checksum: the real sha256 of the file (default), a wrong one, or none (as with
   * S3 snapshot storage).
   */
  checksum?: 'correct' | 'wrong' | 'absent';
  /**
   * This node holds no shard of any collection: GET /collections/{c}/cluster reports no local shards, and snapshots are
   * tiny (a few hundred bytes) but still valid stand-in snapshots with points 0.
   */
  emptyNode?: boolean;
  /** Close the connection after this many bytes of a snapshot download (to test interrupted downloads). */
  breakDownloadAfterBytes?: number;
  /**
   * What fills the snapshot files after their header line: 'random' bytes (default: incompressible and the cheapest
   * case for zstd), or 'vectors', unit-length float32 vectors as in Qdrant's vector storage (zstd level 1 saves ~8%
   * on them and works twice as hard).
   */
  snapshotContent?: SnapshotContent;
  /** Serve snapshot downloads no faster than this (a Qdrant across a network); default: as fast as the client reads. */
  downloadBytesPerSecond?: number;
}

export type SnapshotContent = 'random' | 'vectors';

export interface StandinRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  apiKey?: string;
}

export interface StandinUpload {
  collection: string;
  bytes: number;
  sha256: string;
  query: Record<string, string>;
}

export interface QdrantStandin {
  url: string; // http://127.0.0.1:<port>
  requests: StandinRequest[];
  /** Schema violations found in responses the stand-in sent (always empty when the document is absent). */
  violations: string[];
  schemaChecked: boolean; // false when the OpenAPI document was absent
  collectionNames(): string[];
  collection(name: string): StandinCollection | undefined;
  /** Server-side snapshot files that currently exist, per collection. */
  snapshots(collection: string): string[];
  /** Bytes of the snapshot upload bodies received (for assertions). */
  uploads: StandinUpload[];
  stop(): Promise<void>;
}

export const SNAPSHOT_MAGIC = 'QDRANT-STANDIN-SNAPSHOT ';

/** The JSON on a stand-in snapshot's header line. */
export interface SnapshotHeader {
  collection: string;
  points: number;
  vectors: StandinCollection['vectors'];
  shardNumber: number;
  payloadSchema: NonNullable<StandinCollection['payloadSchema']>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const DEFAULT_SNAPSHOT_BYTES = 64 * KiB;
const EMPTY_NODE_SNAPSHOT_BYTES = 512;
/** This node's peer id (Qdrant puts it in snapshot names) and a second peer that holds the shards of an empty node. */
const PEER_ID = 5738206264375337;
const OTHER_PEER_ID = 8123456789012345;
/** The commit of Qdrant's v1.19.0 tag, which GET / reports. */
const QDRANT_COMMIT = '74f3e85b9473c62560006c043e13737ce6b48412';
/** Qdrant's default service.max_request_size_mb. */
const MAX_JSON_BODY = 32 * MiB;
const MAX_HEADER_LINE = MiB;
/** Qdrant's API key middleware lets these through without a key. */
const OPEN_PATHS = [/^\/$/, /^\/healthz$/, /^\/readyz/, /^\/livez/];

export async function startQdrantStandin(options: StandinOptions): Promise<QdrantStandin> {
  const standin = new Standin(options);
  return standin.listen();
}

// ---------------------------------------------------------------------------------------------------------------
// Requests and responses

interface Context {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  method: string;
  path: string;
  /** The OpenAPI path template this request is answered as (the schema check needs it). */
  template: string;
  params: Record<string, string>;
  query: Record<string, string>;
  started: number;
}

/** An error that becomes Qdrant's `{ status: { error }, time }` body with this HTTP status. */
class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const collectionNotFound = (name: string) => new HttpError(404, `Not found: Collection \`${name}\` doesn't exist!`);

type Handler = (ctx: Context) => Promise<void>;
interface Route {
  method: string;
  template: string;
  handler: Handler;
}

// ---------------------------------------------------------------------------------------------------------------
// The server

interface SnapshotRecord {
  name: string;
  creationTime: string;
  file: SnapshotFile;
  sha256: string;
}

class Standin {
  private readonly collections = new Map<string, StandinCollection>();
  private readonly aliases = new Map<string, string>();
  private readonly snapshotFiles = new Map<string, Map<string, SnapshotRecord>>();
  private readonly pointStores = new Map<string, PointStore>();
  /** Qdrant numbers update operations; upserts answer with the next number. */
  private operations = 0;
  private readonly openApi: QdrantOpenApi | undefined = loadQdrantOpenApi();
  private readonly server = http.createServer((req, res) => {
    // handle() answers its own errors; anything escaping it leaves no answer to give but a dropped connection.
    this.handle(req, res).catch(() => res.destroy());
  });
  private readonly routes: Route[];
  private lastSnapshotSecond = 0;
  private readonly options: StandinOptions;
  readonly requests: StandinRequest[] = [];
  readonly violations: string[] = [];
  readonly uploads: StandinUpload[] = [];

  constructor(options: StandinOptions) {
    this.options = options;
    for (const collection of options.collections) this.collections.set(collection.name, { ...collection });
    for (const alias of options.aliases ?? []) this.aliases.set(alias.alias_name, alias.collection_name);
    this.routes = this.defineRoutes();
  }

  async listen(): Promise<QdrantStandin> {
    this.server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      this.server.once('listening', resolve).once('error', reject);
    });
    const { port } = this.server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      requests: this.requests,
      violations: this.violations,
      uploads: this.uploads,
      schemaChecked: this.openApi !== undefined,
      collectionNames: () => [...this.collections.keys()],
      collection: (name) => this.collections.get(name),
      snapshots: (collection) => [...(this.snapshotFiles.get(collection)?.keys() ?? [])],
      stop: () => this.stop(),
    };
  }

  private async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private defineRoutes(): Route[] {
    const route = (method: string, template: string, handler: Handler): Route => ({
      method,
      template,
      handler: handler.bind(this),
    });
    return [
      route('GET', '/', this.getRoot),
      route('GET', '/collections', this.listCollections),
      route('GET', '/collections/{collection_name}', this.getCollection),
      route('DELETE', '/collections/{collection_name}', this.deleteCollection),
      route('GET', '/collections/{collection_name}/cluster', this.getClusterInfo),
      route('GET', '/aliases', this.listAllAliases),
      route('GET', '/collections/{collection_name}/aliases', this.listCollectionAliases),
      route('POST', '/collections/aliases', this.updateAliases),
      route('POST', '/collections/{collection_name}/snapshots', this.createSnapshot),
      route('GET', '/collections/{collection_name}/snapshots', this.listSnapshots),
      route('GET', '/collections/{collection_name}/snapshots/{snapshot_name}', this.downloadSnapshot),
      route('DELETE', '/collections/{collection_name}/snapshots/{snapshot_name}', this.deleteSnapshot),
      route('POST', '/collections/{collection_name}/snapshots/upload', this.uploadSnapshot),
      route('PUT', '/collections/{collection_name}', this.createCollection),
      route('PUT', '/collections/{collection_name}/index', this.createFieldIndex),
      route('PUT', '/collections/{collection_name}/points', this.upsertPoints),
      route('POST', '/collections/{collection_name}/points/delete', this.deletePoints),
      route('POST', '/collections/{collection_name}/points/scroll', this.scrollPoints),
    ];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method ?? 'GET';
    const query = Object.fromEntries(url.searchParams);
    const presentedKey = apiKeyOf(req);
    this.requests.push({
      method,
      path: url.pathname,
      query,
      ...(presentedKey !== undefined && { apiKey: presentedKey }),
    });

    if (!this.authorized(url.pathname, presentedKey)) {
      // Qdrant's middleware answers before any handler, in plain text (not the JSON error shape).
      req.resume();
      const message =
        presentedKey === undefined
          ? 'Must provide an API key or an Authorization bearer token'
          : 'Invalid API key or JWT';
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end(message);
      return;
    }

    const ctx = this.contextFor(req, res, method, url.pathname, query);
    try {
      const route = this.routes.find((candidate) => candidate.method === method && candidate.template === ctx.template);
      if (!route) throw new HttpError(404, `Not found: the Qdrant stand-in does not serve ${method} ${url.pathname}`);
      await route.handler(ctx);
    } catch (error) {
      this.sendError(ctx, error);
    } finally {
      // Handlers that ignore the request body still have to let it flow, or keep-alive connections stall.
      if (!req.readableEnded) req.resume();
    }
  }

  /**
   * Which operation a request is answered as: the stand-in's route for this method when one matches (as Qdrant
   * routes by method, `GET /collections/aliases` is the collection "aliases"), else the document's template.
   */
  private contextFor(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    path: string,
    query: Record<string, string>,
  ): Context {
    const ownTemplates = this.routes.filter((route) => route.method === method).map((route) => route.template);
    const match = matchPathTemplate(ownTemplates, path);
    const template = match?.template ?? this.openApi?.pathTemplateOf(path) ?? path;
    return { req, res, method, path, template, params: match?.params ?? {}, query, started: performance.now() };
  }

  private authorized(path: string, presentedKey: string | undefined): boolean {
    const expected = this.options.apiKey;
    if (expected === undefined || OPEN_PATHS.some((pattern) => pattern.test(path))) return true;
    if (presentedKey === undefined) return false;
    const [a, b] = [Buffer.from(presentedKey), Buffer.from(expected)];
    return a.length === b.length && timingSafeEqual(a, b);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Responses: every JSON body goes through the schema check.

  private sendJson(ctx: Context, status: number, body: unknown): void {
    if (this.openApi) {
      for (const violation of this.openApi.validateResponse(ctx.method, ctx.template, status, body)) {
        this.violations.push(`${ctx.method} ${ctx.path} -> ${status}: ${violation}`);
      }
    }
    const text = JSON.stringify(body);
    ctx.res
      .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      .end(text);
  }

  private ok(ctx: Context, result: unknown): void {
    this.sendJson(ctx, 200, { result, status: 'ok', time: elapsed(ctx) });
  }

  /** What Qdrant answers to `wait=false`: the operation goes on in the background (here it is already done). */
  private accepted(ctx: Context): void {
    this.sendJson(ctx, 202, { status: 'accepted', time: elapsed(ctx) });
  }

  private sendError(ctx: Context, error: unknown): void {
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    const status = error instanceof HttpError ? error.status : 500;
    const message = error instanceof HttpError ? error.message : `Service internal error: ${(error as Error).message}`;
    this.sendJson(ctx, status, { status: { error: message }, time: elapsed(ctx) });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Service and collections

  private async getRoot(ctx: Context): Promise<void> {
    // The one endpoint without the result wrapper.
    this.sendJson(ctx, 200, {
      title: 'qdrant - vector search engine',
      version: this.options.version ?? '1.19.0',
      commit: QDRANT_COMMIT,
    });
  }

  private async listCollections(ctx: Context): Promise<void> {
    this.ok(ctx, { collections: [...this.collections.keys()].map((name) => ({ name })) });
  }

  private async getCollection(ctx: Context): Promise<void> {
    this.ok(ctx, collectionInfo(this.existingCollection(ctx)));
  }

  private async deleteCollection(ctx: Context): Promise<void> {
    const name = ctx.params.collection_name!;
    // Qdrant answers 200 with `result: false` for a collection that does not exist, and drops its aliases.
    const existed = this.collections.delete(name);
    this.pointStores.delete(name);
    for (const [alias, target] of this.aliases) if (target === name) this.aliases.delete(alias);
    this.ok(ctx, existed);
  }

  /** CreateCollection with one unnamed vector (named vectors, sparse vectors and the rest are not served). */
  private async createCollection(ctx: Context): Promise<void> {
    const name = ctx.params.collection_name!;
    const body = (await readJsonBody(ctx.req)) as { vectors?: { size?: unknown; distance?: unknown } } | null;
    if (this.collections.has(name)) throw new HttpError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const size = body?.vectors?.size;
    const distance = body?.vectors?.distance;
    if (!Number.isInteger(size) || (size as number) < 1) {
      throw new HttpError(400, 'Format error in JSON body: vectors.size must be a positive integer');
    }
    if (!['Cosine', 'Dot', 'Euclid', 'Manhattan'].includes(distance as string)) {
      throw new HttpError(400, `Format error in JSON body: unknown variant \`${String(distance)}\` for distance`);
    }
    this.collections.set(name, { name, points: 0, vectors: { size: size as number, distance: distance as Distance } });
    this.ok(ctx, true);
  }

  /** CreateFieldIndex with a PayloadSchemaType name; the schema then reports it, with the points that have the key. */
  private async createFieldIndex(ctx: Context): Promise<void> {
    const collection = this.existingCollection(ctx);
    const body = (await readJsonBody(ctx.req)) as { field_name?: unknown; field_schema?: unknown } | null;
    const types = ['keyword', 'integer', 'float', 'geo', 'text', 'bool', 'datetime', 'uuid'];
    if (typeof body?.field_name !== 'string') throw new HttpError(400, 'Format error in JSON body: missing field_name');
    if (!types.includes(body.field_schema as string)) {
      throw new HttpError(400, `Format error in JSON body: unknown field_schema ${JSON.stringify(body.field_schema)}`);
    }
    collection.payloadSchema = {
      ...collection.payloadSchema,
      [body.field_name]: { data_type: body.field_schema as string, points: 0 },
    };
    this.ok(ctx, { operation_id: this.operations++, status: 'completed' });
  }

  private async getClusterInfo(ctx: Context): Promise<void> {
    const collection = this.existingCollection(ctx);
    const shardIds = [...Array(collection.shardNumber ?? 1).keys()];
    const empty = this.options.emptyNode === true;
    this.ok(ctx, {
      peer_id: PEER_ID,
      shard_count: shardIds.length,
      local_shards: empty
        ? []
        : shardIds.map((id) => ({
            shard_id: id,
            points_count: shardPoints(collection.points, shardIds.length, id),
            state: 'Active',
          })),
      // A node without shards sees them on the other peer of the cluster.
      remote_shards: empty ? shardIds.map((id) => ({ shard_id: id, peer_id: OTHER_PEER_ID, state: 'Active' })) : [],
      shard_transfers: [],
    });
  }

  private existingCollection(ctx: Context): StandinCollection {
    const name = ctx.params.collection_name!;
    const collection = this.collections.get(name);
    if (!collection) throw collectionNotFound(name);
    return collection;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Points

  /**
   * Upserts a PointsList (`points`) or a PointsBatch (`batch`); Qdrant checks the whole request before applying any of
   * it.
   */
  private async upsertPoints(ctx: Context): Promise<void> {
    const wait = waitParameter(ctx.query);
    const collection = this.existingCollection(ctx);
    const points = pointsOfUpsert(await readJsonBody(ctx.req));
    for (const point of points) checkVector(collection.vectors, point.vector);
    collection.points += this.pointStoreOf(collection.name).upsert(points);
    // Unlike snapshot operations, a point update with wait=false is a 200 with status `acknowledged`, not a 202.
    this.ok(ctx, { operation_id: this.operations++, status: wait ? 'completed' : 'acknowledged' });
  }

  /** A PointIdsList (`{points: [...]}`); filter selectors are not served. Unknown ids are no error, as in Qdrant. */
  private async deletePoints(ctx: Context): Promise<void> {
    const wait = waitParameter(ctx.query);
    const collection = this.existingCollection(ctx);
    const { points } = ((await readJsonBody(ctx.req)) ?? {}) as { points?: unknown };
    if (!Array.isArray(points)) {
      throw new HttpError(400, 'Format error in JSON body: the stand-in serves only PointIdsList (`points`)');
    }
    collection.points -= this.pointStoreOf(collection.name).delete(points.map(pointIdOf));
    this.ok(ctx, { operation_id: this.operations++, status: wait ? 'completed' : 'acknowledged' });
  }

  private async scrollPoints(ctx: Context): Promise<void> {
    const collection = this.existingCollection(ctx);
    const request = scrollRequestOf(await readJsonBody(ctx.req));
    const { page, next } = this.pointStoreOf(collection.name).page(request.offset, request.limit);
    this.ok(ctx, { points: page.map((point) => recordOf(point, request)), next_page_offset: next ?? null });
  }

  private pointStoreOf(collection: string): PointStore {
    let store = this.pointStores.get(collection);
    if (!store) {
      store = new PointStore();
      this.pointStores.set(collection, store);
    }
    return store;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Aliases

  private async listAllAliases(ctx: Context): Promise<void> {
    this.ok(ctx, { aliases: this.aliasList() });
  }

  private async listCollectionAliases(ctx: Context): Promise<void> {
    const collection = this.existingCollection(ctx);
    this.ok(ctx, { aliases: this.aliasList().filter((alias) => alias.collection_name === collection.name) });
  }

  private aliasList(): { alias_name: string; collection_name: string }[] {
    return [...this.aliases].map(([alias_name, collection_name]) => ({ alias_name, collection_name }));
  }

  /** Applies all actions to a copy and commits only when every one succeeded: Qdrant's alias changes are atomic. */
  private async updateAliases(ctx: Context): Promise<void> {
    const body = await readJsonBody(ctx.req);
    const actions = (body as { actions?: unknown } | null)?.actions;
    if (!Array.isArray(actions)) throw new HttpError(400, 'Format error in JSON body: missing field `actions`');
    const next = new Map(this.aliases);
    for (const action of actions) this.applyAliasAction(next, action);
    this.aliases.clear();
    for (const [alias, target] of next) this.aliases.set(alias, target);
    this.ok(ctx, true);
  }

  private applyAliasAction(aliases: Map<string, string>, action: unknown): void {
    const {
      create_alias: create,
      delete_alias: remove,
      rename_alias: rename,
    } = (action ?? {}) as {
      create_alias?: { collection_name?: unknown; alias_name?: unknown };
      delete_alias?: { alias_name?: unknown };
      rename_alias?: { old_alias_name?: unknown; new_alias_name?: unknown };
    };
    if (create && typeof create.collection_name === 'string' && typeof create.alias_name === 'string') {
      if (!this.collections.has(create.collection_name)) throw collectionNotFound(create.collection_name);
      if (this.collections.has(create.alias_name))
        throw new HttpError(409, `Wrong input: Collection \`${create.alias_name}\` already exists!`);
      aliases.set(create.alias_name, create.collection_name);
    } else if (remove && typeof remove.alias_name === 'string') {
      if (!aliases.delete(remove.alias_name))
        throw new HttpError(404, `Not found: Alias \`${remove.alias_name}\` doesn't exist!`);
    } else if (rename && typeof rename.old_alias_name === 'string' && typeof rename.new_alias_name === 'string') {
      const target = aliases.get(rename.old_alias_name);
      if (target === undefined)
        throw new HttpError(404, `Not found: Alias \`${rename.old_alias_name}\` doesn't exist!`);
      aliases.delete(rename.old_alias_name);
      aliases.set(rename.new_alias_name, target);
    } else {
      throw new HttpError(400, `Format error in JSON body: unknown alias operation ${JSON.stringify(action)}`);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Snapshots

  private async createSnapshot(ctx: Context): Promise<void> {
    const wait = waitParameter(ctx.query);
    const collection = this.existingCollection(ctx);
    const file = this.snapshotFileOf(collection);
    const sha256 = await snapshotSha256(file);
    const { name, creationTime } = this.nextSnapshotName(collection.name);
    const record: SnapshotRecord = { name, creationTime, file, sha256 };
    this.snapshotsOf(collection.name).set(name, record);
    if (!wait) return this.accepted(ctx);
    this.ok(ctx, this.describeSnapshot(record));
  }

  private async listSnapshots(ctx: Context): Promise<void> {
    const collection = this.existingCollection(ctx);
    this.ok(
      ctx,
      [...this.snapshotsOf(collection.name).values()].map((record) => this.describeSnapshot(record)),
    );
  }

  private async downloadSnapshot(ctx: Context): Promise<void> {
    const record = this.existingSnapshot(ctx);
    ctx.res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': record.file.size,
      'content-disposition': `attachment; filename="${record.name}"`,
    });
    await streamSnapshot(
      ctx.res,
      record.file,
      this.options.breakDownloadAfterBytes,
      this.options.downloadBytesPerSecond,
    );
  }

  private async deleteSnapshot(ctx: Context): Promise<void> {
    const wait = waitParameter(ctx.query);
    const record = this.existingSnapshot(ctx);
    this.snapshotsOf(ctx.params.collection_name!).delete(record.name);
    if (!wait) return this.accepted(ctx);
    this.ok(ctx, true);
  }

  /** Recovers (creates or replaces) a collection from a snapshot file uploaded as multipart field `snapshot`. */
  private async uploadSnapshot(ctx: Context): Promise<void> {
    const wait = waitParameter(ctx.query);
    const priority = ctx.query.priority;
    if (priority !== undefined && !['no_sync', 'snapshot', 'replica'].includes(priority)) {
      throw new HttpError(
        400,
        `Bad request: Deserialize error in query parameters: unknown variant \`${priority}\`, expected one of ` +
          `\`no_sync\`, \`snapshot\`, \`replica\``,
      );
    }
    const upload = await receiveSnapshotUpload(ctx.req);
    const expected = ctx.query.checksum;
    if (expected !== undefined && expected.toLowerCase() !== upload.sha256) {
      throw new HttpError(400, `Checksum mismatch: expected ${expected}, got ${upload.sha256}`);
    }
    const header = parseSnapshotHeader(upload.headerLine);
    const name = ctx.params.collection_name!;
    // Stand-in snapshots carry a point count, not points: the recovered collection has no stored points.
    this.pointStores.delete(name);
    this.collections.set(name, {
      name,
      points: header.points,
      vectors: header.vectors,
      shardNumber: header.shardNumber,
      payloadSchema: header.payloadSchema,
      snapshotBytes: upload.bytes,
    });
    this.uploads.push({ collection: name, bytes: upload.bytes, sha256: upload.sha256, query: ctx.query });
    if (!wait) return this.accepted(ctx);
    this.ok(ctx, true);
  }

  private existingSnapshot(ctx: Context): SnapshotRecord {
    const collection = this.existingCollection(ctx);
    const name = ctx.params.snapshot_name!;
    const record = this.snapshotsOf(collection.name).get(name);
    if (!record) throw new HttpError(404, `Not found: Snapshot file \`${name}\` does not exist!`);
    return record;
  }

  private snapshotsOf(collection: string): Map<string, SnapshotRecord> {
    let files = this.snapshotFiles.get(collection);
    if (!files) {
      files = new Map();
      this.snapshotFiles.set(collection, files);
    }
    return files;
  }

  /** The file a snapshot of this collection consists of now (an empty node has the configuration but no points). */
  private snapshotFileOf(collection: StandinCollection): SnapshotFile {
    const empty = this.options.emptyNode === true;
    const header: SnapshotHeader = {
      collection: collection.name,
      points: empty ? 0 : collection.points,
      vectors: collection.vectors,
      shardNumber: collection.shardNumber ?? 1,
      payloadSchema: collection.payloadSchema ?? {},
    };
    const size = empty ? EMPTY_NODE_SNAPSHOT_BYTES : (collection.snapshotBytes ?? DEFAULT_SNAPSHOT_BYTES);
    return snapshotFile(header, size, this.options.snapshotContent ?? 'random');
  }

  /**
   * Qdrant names snapshots `<collection>-<peer id>-<yyyy-mm-dd-hh-mm-ss>.snapshot`. Snapshots taken within the same
   * second would share a name, so the clock moves on by a second for each (tests take several per second).
   */
  private nextSnapshotName(collection: string): { name: string; creationTime: string } {
    this.lastSnapshotSecond = Math.max(Math.floor(Date.now() / 1000), this.lastSnapshotSecond + 1);
    const creationTime = new Date(this.lastSnapshotSecond * 1000).toISOString().slice(0, 19);
    return { name: `${collection}-${PEER_ID}-${creationTime.replace(/[T:]/g, '-')}.snapshot`, creationTime };
  }

  private describeSnapshot(record: SnapshotRecord): Record<string, unknown> {
    const description: Record<string, unknown> = {
      name: record.name,
      creation_time: record.creationTime,
      size: record.file.size,
    };
    const mode = this.options.checksum ?? 'correct';
    // With S3 snapshot storage Qdrant has no checksum and leaves the field out.
    if (mode === 'correct') description.checksum = record.sha256;
    if (mode === 'wrong') description.checksum = createHash('sha256').update(`not ${record.sha256}`).digest('hex');
    return description;
  }
}

function elapsed(ctx: Context): number {
  return Math.max((performance.now() - ctx.started) / 1000, 0.000001);
}

function apiKeyOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers['api-key'];
  if (typeof header === 'string') return header;
  const authorization = req.headers.authorization;
  return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
}

/** Qdrant's `wait` query parameter: true by default, and a value other than true/false is a bad request. */
function waitParameter(query: Record<string, string>): boolean {
  const wait = query.wait;
  if (wait === undefined || wait === 'true') return true;
  if (wait === 'false') return false;
  throw new HttpError(
    400,
    `Bad request: Deserialize error in query parameters: wait: provided string was not \`true\` or \`false\``,
  );
}

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BODY) throw new HttpError(413, 'Payload too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `Format error in JSON body: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Stored points

/** Qdrant's ExtendedPointId: an unsigned integer or a UUID (kept in its canonical lowercase, hyphenated form). */
type PointId = number | string;

interface StoredPoint {
  id: PointId;
  vector: unknown;
  payload: Record<string, unknown>;
}

/** Qdrant orders ids as its Rust enum does: every integer id before every UUID, integers by value, UUIDs by bytes. */
function comparePointIds(a: PointId, b: PointId): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a !== typeof b) return typeof a === 'number' ? -1 : 1;
  // Canonical UUID text is fixed-width lowercase hex, so text order is byte order.
  return a < b ? -1 : a > b ? 1 : 0;
}

class PointStore {
  private readonly points = new Map<string, StoredPoint>();
  /** The points in id order, rebuilt after a change (scrolls come in runs, upserts in bursts). */
  private ordered: StoredPoint[] | undefined;

  /** Stores (replacing same-id points) and returns how many ids are new. */
  upsert(points: StoredPoint[]): number {
    let added = 0;
    for (const point of points) {
      if (!this.points.has(String(point.id))) added++;
      this.points.set(String(point.id), point);
    }
    this.ordered = undefined;
    return added;
  }

  /** Removes the points and returns how many existed. */
  delete(ids: PointId[]): number {
    let removed = 0;
    for (const id of ids) if (this.points.delete(String(id))) removed++;
    this.ordered = undefined;
    return removed;
  }

  /** `limit` points from the first id >= `offset`, and the id the next page starts at (Qdrant's next_page_offset). */
  page(offset: PointId | undefined, limit: number): { page: StoredPoint[]; next: PointId | undefined } {
    this.ordered ??= [...this.points.values()].sort((a, b) => comparePointIds(a.id, b.id));
    const ordered = this.ordered;
    const start = offset === undefined ? 0 : lowerBound(ordered, offset);
    return { page: ordered.slice(start, start + limit), next: ordered[start + limit]?.id };
  }
}

/** Index of the first point whose id is >= `id`. */
function lowerBound(ordered: StoredPoint[], id: PointId): number {
  let [low, high] = [0, ordered.length];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (comparePointIds(ordered[middle]!.id, id) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

const UUID_HYPHENATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_SIMPLE = /^[0-9a-f]{32}$/i;

/** A point id as Qdrant parses it: unsigned integers, and UUIDs hyphenated or not, answered in canonical form. */
function pointIdOf(value: unknown): PointId {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && UUID_HYPHENATED.test(value)) return value.toLowerCase();
  if (typeof value === 'string' && UUID_SIMPLE.test(value)) {
    const hex = value.toLowerCase();
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  throw new HttpError(
    400,
    `Format error in JSON body: value ${JSON.stringify(value)} is not a valid point ID, valid values are either an ` +
      `unsigned integer or a UUID`,
  );
}

function payloadOf(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new HttpError(400, 'Format error in JSON body: payload must be a JSON object');
}

/** The points of a PointsList (`{points: [...]}`) or a PointsBatch (`{batch: {ids, vectors, payloads}}`). */
function pointsOfUpsert(body: unknown): StoredPoint[] {
  const { points, batch } = (body ?? {}) as { points?: unknown; batch?: unknown };
  if (Array.isArray(points)) return points.map(pointOfStruct);
  if (typeof batch === 'object' && batch !== null)
    return pointsOfBatch(batch as { ids?: unknown; vectors?: unknown; payloads?: unknown });
  throw new HttpError(
    400,
    'Format error in JSON body: data did not match any variant of untagged enum PointInsertOperations',
  );
}

function pointOfStruct(raw: unknown): StoredPoint {
  const { id, vector, payload } = (raw ?? {}) as { id?: unknown; vector?: unknown; payload?: unknown };
  if (vector === undefined) throw new HttpError(400, 'Format error in JSON body: missing field `vector`');
  return { id: pointIdOf(id), vector, payload: payloadOf(payload) };
}

function pointsOfBatch(batch: { ids?: unknown; vectors?: unknown; payloads?: unknown }): StoredPoint[] {
  const { ids, vectors, payloads } = batch;
  if (!Array.isArray(ids)) throw new HttpError(400, 'Format error in JSON body: missing field `ids`');
  const vectorAt = (index: number): unknown => {
    if (Array.isArray(vectors)) return vectors[index];
    // Named vectors in a batch: one array of vectors per name.
    if (typeof vectors === 'object' && vectors !== null) {
      return Object.fromEntries(Object.entries(vectors).map(([name, list]) => [name, (list as unknown[])[index]]));
    }
    throw new HttpError(400, 'Format error in JSON body: missing field `vectors`');
  };
  return ids.map((id, index) => ({
    id: pointIdOf(id),
    vector: vectorAt(index),
    payload: payloadOf(Array.isArray(payloads) ? payloads[index] : undefined),
  }));
}

/** Qdrant refuses a vector whose size or name does not fit the collection's configuration. */
function checkVector(config: StandinCollection['vectors'], vector: unknown): void {
  if (typeof (config as VectorParams).size === 'number') {
    checkDimension((config as VectorParams).size, vector);
    return;
  }
  if (typeof vector !== 'object' || vector === null || Array.isArray(vector)) {
    throw new HttpError(
      400,
      'Wrong input: Collection has named vectors: give the vector as an object of name → vector',
    );
  }
  const named = config as Record<string, VectorParams>;
  for (const [name, value] of Object.entries(vector)) {
    const params = named[name];
    if (!params) throw new HttpError(400, `Wrong input: Not existing vector name error: ${name}`);
    checkDimension(params.size, value);
  }
}

function checkDimension(size: number, vector: unknown): void {
  if (!Array.isArray(vector) || !vector.every((element) => typeof element === 'number')) {
    throw new HttpError(400, 'Format error in JSON body: a vector is an array of numbers');
  }
  if (vector.length !== size)
    throw new HttpError(400, `Wrong input: Vector dimension error: expected dim: ${size}, got ${vector.length}`);
}

type PayloadSelection = boolean | { include: string[] } | { exclude: string[] };

interface ScrollOptions {
  offset: PointId | undefined;
  limit: number;
  withPayload: PayloadSelection;
  withVector: boolean | string[];
}

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** A ScrollRequest with Qdrant's defaults (limit 10, payload on, vectors off). Filters and order_by are not served. */
function scrollRequestOf(body: unknown): ScrollOptions {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'Format error in JSON body: expected a ScrollRequest object');
  const request = body as Record<string, unknown>;
  for (const unsupported of ['filter', 'order_by', 'shard_key']) {
    if (request[unsupported] !== undefined && request[unsupported] !== null) {
      throw new HttpError(400, `Bad request: the Qdrant stand-in does not serve scroll with \`${unsupported}\``);
    }
  }
  const limit = request.limit ?? 10;
  if (!Number.isInteger(limit) || (limit as number) < 1) {
    throw new HttpError(
      422,
      `Validation error in JSON body: [limit: value ${JSON.stringify(limit)} invalid, must be 1 or larger]`,
    );
  }
  const offset = request.offset === undefined || request.offset === null ? undefined : pointIdOf(request.offset);
  return {
    offset,
    limit: limit as number,
    withPayload: payloadSelectionOf(request.with_payload),
    withVector: vectorSelectionOf(request.with_vector ?? request.with_vectors),
  };
}

function payloadSelectionOf(value: unknown): PayloadSelection {
  if (value === undefined || value === null) return true;
  if (typeof value === 'boolean') return value;
  if (isStringArray(value)) return { include: value };
  const selector = value as { include?: unknown; exclude?: unknown };
  if (isStringArray(selector.include)) return { include: selector.include };
  if (isStringArray(selector.exclude)) return { exclude: selector.exclude };
  throw new HttpError(
    400,
    'Format error in JSON body: with_payload: data did not match any variant of untagged enum WithPayloadInterface',
  );
}

function vectorSelectionOf(value: unknown): boolean | string[] {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean' || isStringArray(value)) return value;
  throw new HttpError(
    400,
    'Format error in JSON body: with_vector: data did not match any variant of untagged enum WithVector',
  );
}

/** A Record as Qdrant serializes it: `payload` and `vector` are left out, not null, when not asked for. */
function recordOf(point: StoredPoint, options: ScrollOptions): Record<string, unknown> {
  const record: Record<string, unknown> = { id: point.id };
  const payload = selectPayload(point.payload, options.withPayload);
  if (payload !== undefined) record.payload = payload;
  const vector = selectVector(point.vector, options.withVector);
  if (vector !== undefined) record.vector = vector;
  return record;
}

/** Payload keys are paths (`meta.trade_id` reaches into nested objects), as in Qdrant's include/exclude. */
function selectPayload(
  payload: Record<string, unknown>,
  selection: PayloadSelection,
): Record<string, unknown> | undefined {
  if (selection === false) return undefined;
  if (selection === true) return payload;
  if ('include' in selection) {
    const picked: Record<string, unknown> = {};
    for (const path of selection.include) {
      const value = valueAtPath(payload, path);
      if (value !== undefined) setAtPath(picked, path, value);
    }
    return picked;
  }
  const kept = structuredClone(payload);
  for (const path of selection.exclude) deleteAtPath(kept, path);
  return kept;
}

function selectVector(vector: unknown, selection: boolean | string[]): unknown {
  if (selection === false) return undefined;
  if (selection === true) return vector;
  if (typeof vector !== 'object' || vector === null || Array.isArray(vector)) return undefined;
  return Object.fromEntries(Object.entries(vector).filter(([name]) => selection.includes(name)));
}

function valueAtPath(object: Record<string, unknown>, path: string): unknown {
  let value: unknown = object;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function setAtPath(object: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let target = object;
  for (const key of keys.slice(0, -1)) {
    target[key] ??= {};
    target = target[key] as Record<string, unknown>;
  }
  target[keys.at(-1)!] = value;
}

function deleteAtPath(object: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  const parent = keys.length === 1 ? object : valueAtPath(object, keys.slice(0, -1).join('.'));
  if (typeof parent === 'object' && parent !== null) delete (parent as Record<string, unknown>)[keys.at(-1)!];
}

/** Points of shard `id` when `points` are spread evenly over `shards` shards. */
function shardPoints(points: number, shards: number, id: number): number {
  return Math.floor(points / shards) + (id < points % shards ? 1 : 0);
}

/** A CollectionInfo with every field the schema requires, and the defaults a fresh Qdrant 1.19 collection reports. */
function collectionInfo(collection: StandinCollection): Record<string, unknown> {
  const shards = collection.shardNumber ?? 1;
  return {
    status: 'green',
    optimizer_status: 'ok',
    // Qdrant indexes vectors once a segment passes the indexing threshold; small collections stay unindexed.
    indexed_vectors_count: collection.points >= 10_000 ? collection.points : 0,
    points_count: collection.points,
    segments_count: 2 * shards,
    config: {
      params: {
        vectors: collection.vectors,
        shard_number: shards,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: true,
      },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10_000, max_indexing_threads: 0, on_disk: false },
      optimizer_config: {
        deleted_threshold: 0.2,
        vacuum_min_vector_number: 1000,
        default_segment_number: 0,
        max_segment_size: null,
        memmap_threshold: null,
        indexing_threshold: 10_000,
        flush_interval_sec: 5,
        max_optimization_threads: null,
      },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0, wal_retain_closed: 1 },
      quantization_config: null,
    },
    payload_schema: collection.payloadSchema ?? {},
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshot files: a header line, then filler made of 1 MiB blocks. Each block is a 16-byte prefix derived from the
// file's seed and the block index, then the same shared, never modified filler buffer: writing and hashing need no
// copies, and no two blocks are identical.

const BLOCK_BYTES = MiB;
const BLOCK_PREFIX_BYTES = 16;
const fillers = new Map<SnapshotContent, Buffer>();

interface SnapshotFile {
  header: Buffer;
  seed: number;
  size: number;
  content: SnapshotContent;
}

function snapshotFile(header: SnapshotHeader, requestedSize: number, content: SnapshotContent): SnapshotFile {
  const line = Buffer.from(`${SNAPSHOT_MAGIC}${JSON.stringify(header)}\n`);
  const seed = createHash('sha256').update(line).digest().readUInt32BE(0);
  // A header longer than the requested size makes the whole file.
  return { header: line, seed, size: Math.max(requestedSize, line.length), content };
}

/** 1 MiB minus the prefix of filler, made once per process and kind (a few milliseconds). */
function fillerBuffer(content: SnapshotContent): Buffer {
  let filler = fillers.get(content);
  if (!filler) {
    const words = new Uint32Array((BLOCK_BYTES - BLOCK_PREFIX_BYTES) / 4);
    let state = 0x9e3779b9;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    if (content === 'random') {
      for (let index = 0; index < words.length; index++) words[index] = next();
    } else {
      fillUnitVectors(new Float32Array(words.buffer), next);
    }
    filler = Buffer.from(words.buffer);
    fillers.set(content, filler);
  }
  return filler;
}

/**
 * 384-dimension vectors of roughly normal components, each scaled to unit length (as Cosine collections store them).
 */
function fillUnitVectors(values: Float32Array, next: () => number): void {
  const DIMENSIONS = 384;
  for (let start = 0; start < values.length; start += DIMENSIONS) {
    const end = Math.min(start + DIMENSIONS, values.length);
    let norm = 0;
    for (let index = start; index < end; index++) {
      // The sum of four uniforms is close enough to a normal distribution for compressibility.
      const value = (next() + next() + next() + next()) / 2 ** 32 - 2;
      values[index] = value;
      norm += value * value;
    }
    const scale = 1 / Math.sqrt(norm || 1);
    for (let index = start; index < end; index++) values[index]! *= scale;
  }
}

function blockPrefix(seed: number, block: number): Buffer {
  const prefix = Buffer.alloc(BLOCK_PREFIX_BYTES);
  prefix.writeUInt32BE(seed >>> 0, 0);
  prefix.writeUInt32BE(block >>> 0, 4);
  prefix.writeUInt32BE(Math.imul(seed ^ block, 0x85ebca6b) >>> 0, 8);
  prefix.writeUInt32BE(Math.imul(block + 1, 0xc2b2ae35) >>> 0, 12);
  return prefix;
}

/** The file's bytes as a sequence of buffers (views of shared memory: never modify them). */
function* snapshotChunks(file: SnapshotFile): Generator<Buffer> {
  yield file.header;
  const filler = fillerBuffer(file.content);
  let remaining = file.size - file.header.length;
  for (let block = 0; remaining > 0; block++) {
    for (const part of [blockPrefix(file.seed, block), filler]) {
      const piece = part.length > remaining ? part.subarray(0, remaining) : part;
      remaining -= piece.length;
      yield piece;
      if (remaining === 0) return;
    }
  }
}

/** Checksums by file identity: the same collection state always makes the same bytes, so it is hashed once. */
const checksumCache = new Map<string, string>();

/** The file's sha256, hashed in slices that give the event loop a turn (a 1 GB file takes a couple of seconds). */
async function snapshotSha256(file: SnapshotFile): Promise<string> {
  const key = `${file.content}:${file.size}:${file.header.toString('base64')}`;
  const cached = checksumCache.get(key);
  if (cached) return cached;
  const hash = createHash('sha256');
  let sinceYield = 0;
  for (const chunk of snapshotChunks(file)) {
    hash.update(chunk);
    sinceYield += chunk.length;
    if (sinceYield >= 64 * MiB) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  const digest = hash.digest('hex');
  checksumCache.set(key, digest);
  return digest;
}

/**
 * Streams the file with backpressure; with `breakAfter`, sends that many bytes and then drops the connection; with
 * `bytesPerSecond`, waits whenever it is ahead of that rate.
 */
async function streamSnapshot(
  res: http.ServerResponse,
  file: SnapshotFile,
  breakAfter: number | undefined,
  bytesPerSecond: number | undefined,
): Promise<void> {
  let closed = false;
  res.once('close', () => (closed = true));
  let sent = 0;
  const started = performance.now();
  for (const chunk of snapshotChunks(file)) {
    if (breakAfter !== undefined && sent + chunk.length >= breakAfter) {
      await writeFlushed(res, chunk.subarray(0, breakAfter - sent));
      res.destroy();
      return;
    }
    sent += chunk.length;
    if (bytesPerSecond) {
      // Hold each chunk back until the rate allows all bytes up to its end.
      const ahead = (sent / bytesPerSecond) * 1000 - (performance.now() - started);
      if (ahead > 1) await sleep(ahead);
    }
    if (!res.write(chunk) && !closed) await drainedOrClosed(res);
    // The client went away (an aborted download): stop generating.
    if (closed) return;
  }
  res.end();
}

function writeFlushed(res: http.ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => res.write(chunk, () => resolve()));
}

/** Resolves once the response can take more data, or the client went away; leaves no listeners behind. */
function drainedOrClosed(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshot uploads

interface ReceivedSnapshot {
  bytes: number;
  sha256: string;
  /** The file's first line (without the newline), or undefined when none ended within MAX_HEADER_LINE bytes. */
  headerLine: Buffer | undefined;
}

/** Parses the multipart body while it streams: hashes and counts field `snapshot`, keeps only its first line. */
async function receiveSnapshotUpload(req: http.IncomingMessage): Promise<ReceivedSnapshot> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1 } });
  } catch (error) {
    throw new HttpError(400, `Bad request: ${(error as Error).message}`);
  }
  let received: Promise<ReceivedSnapshot> | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    parser.on('file', (field, stream) => {
      if (field !== 'snapshot' || received) return void stream.resume();
      received = consumeSnapshotStream(stream);
      // Awaited below unless the body fails first; then this rejection is expected and must not go unhandled.
      received.catch(() => undefined);
    });
    parser.on('close', resolve);
    parser.on('error', (error: Error) => reject(new HttpError(400, `Bad request: ${error.message}`)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new HttpError(400, 'Bad request: the upload ended before its body was complete'));
    });
  });
  req.pipe(parser);
  await finished;
  if (!received) throw new HttpError(400, 'Bad request: multipart field `snapshot` is missing');
  return received;
}

async function consumeSnapshotStream(stream: NodeJS.ReadableStream): Promise<ReceivedSnapshot> {
  const hash = createHash('sha256');
  let bytes = 0;
  const head: Buffer[] = [];
  let headBytes = 0;
  let headerLine: Buffer | undefined;
  let headerDone = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (headerDone) continue;
    const newline = chunk.indexOf(0x0a);
    head.push(newline === -1 ? chunk : chunk.subarray(0, newline));
    headBytes += newline === -1 ? chunk.length : newline;
    if (newline !== -1) headerLine = Buffer.concat(head);
    headerDone = newline !== -1 || headBytes > MAX_HEADER_LINE;
    if (headerDone) head.length = 0;
  }
  return { bytes, sha256: hash.digest('hex'), headerLine };
}

/** Reads a stand-in snapshot's header line; anything else is not a snapshot this server can recover from. */
export function parseSnapshotHeader(line: Buffer | undefined): SnapshotHeader {
  const invalid = (reason: string) => new HttpError(400, `Wrong input: not a valid snapshot: ${reason}`);
  const text = line?.toString('utf8');
  if (!text?.startsWith(SNAPSHOT_MAGIC)) throw invalid('unknown file format');
  let header: Partial<SnapshotHeader>;
  try {
    header = JSON.parse(text.slice(SNAPSHOT_MAGIC.length)) as Partial<SnapshotHeader>;
  } catch {
    throw invalid('damaged header');
  }
  const isCount = (value: unknown, min: number) => Number.isInteger(value) && (value as number) >= min;
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (typeof header.collection !== 'string') throw invalid('no collection name');
  if (!isCount(header.points, 0)) throw invalid('no point count');
  if (!isObject(header.vectors)) throw invalid('no vectors configuration');
  if (!isCount(header.shardNumber, 1)) throw invalid('no shard number');
  if (!isObject(header.payloadSchema)) throw invalid('no payload schema');
  return header as SnapshotHeader;
}
