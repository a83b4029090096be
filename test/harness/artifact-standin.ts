/**
 * A stand-in for the GitHub Actions results service, limited to what @actions/artifact 6 uses to upload an artifact,
 * so the bundles' artifact copy runs end to end without GitHub:
 *
 * 1. Twirp JSON `POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact` (bearer: the job's
 *    ACTIONS_RUNTIME_TOKEN) → `{ ok, signed_upload_url }`.
 * 2. The Azure Blob SDK (BlockBlobClient.uploadStream) on that signed URL: `PUT ?comp=block&blockid=…` per block, then
 *    `PUT ?comp=blocklist` with the XML list of block ids, which commits the blob.
 * 3. `POST …/FinalizeArtifact` with the size and `sha256:<hex>` the library measured → `{ ok, artifact_id }`.
 *
 * Request bodies are parsed with the library's own generated protobuf types (strictly: an unknown field is a
 * violation) and responses are serialized with them, the way the Twirp service names fields (snake_case, int64 as a
 * string). Anything the real service would refuse or that breaks the protocol is recorded in `violations`.
 *
 * The runner's token is a JWT the library only decodes (jwt-decode, no signature check: see
 * shared/util.js getBackendIdsFromToken), so an unsigned one carrying `scp: Actions.Results:<run>:<job>` is enough.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
// The package's exports map hides lib/generated; these are the protocol's own message definitions, so the stand-in
// reads and writes exactly what the library does.
import {
  CreateArtifactRequest,
  CreateArtifactResponse,
  FinalizeArtifactRequest,
  FinalizeArtifactResponse,
  Timestamp,
} from '../../node_modules/@actions/artifact/lib/generated/index.js';

const SERVICE = '/twirp/github.actions.results.api.v1.ArtifactService/';
/** IP-style blob URLs carry the account as their first path segment (what the Azure SDK parses them as). */
const BLOB_PREFIX = '/devstoreaccount1/actions-results/';

export interface StandinArtifact {
  /** int64 as the service sends it (a decimal string). */
  id: string;
  name: string;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  expiresAt?: Date;
  mimeType?: string;
  version: number;
  /** The committed blob (the zip). */
  blob: Buffer;
  /** x-ms-blob-content-type given at commit. */
  contentType?: string;
  blocks: number;
  /** What FinalizeArtifact reported. */
  reportedSize: number;
  reportedSha256?: string;
  /** sha256 of the blob, hex. */
  sha256: string;
}

export interface TwirpRefusal {
  /** HTTP status; the library retries 429 and 5xx for seconds, so refusals that should fail fast use another 4xx. */
  status: number;
  /** Twirp error code, e.g. permission_denied. */
  code: string;
  msg: string;
}

export interface ArtifactStandinOptions {
  /** Answer every CreateArtifact with this Twirp error. */
  refuseCreate?: TwirpRefusal;
}

export interface ArtifactStandin {
  /** ACTIONS_RESULTS_URL (the library keeps only its origin). */
  url: string;
  token: string;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  /** The variables a runner gives a job's actions for the artifact service. */
  env: { ACTIONS_RUNTIME_TOKEN: string; ACTIONS_RESULTS_URL: string };
  /** Finalized artifacts, in order. */
  artifacts: StandinArtifact[];
  /** Every request, as `METHOD path-without-query status`. */
  requests: string[];
  violations: string[];
  stop(): Promise<void>;
}

interface Pending {
  key: string;
  sig: string;
  name: string;
  workflowRunBackendId: string;
  workflowJobRunBackendId: string;
  expiresAt?: Date;
  mimeType?: string;
  version: number;
  staged: Map<string, Buffer>;
  committed?: { blob: Buffer; contentType?: string; blocks: number };
}

export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

export async function startArtifactStandin(options: ArtifactStandinOptions = {}): Promise<ArtifactStandin> {
  const workflowRunBackendId = randomUUID();
  const workflowJobRunBackendId = randomUUID();
  const token = unsignedJwt({
    scp:
      `Actions.GenericRead:${randomUUID()} Actions.Results:${workflowRunBackendId}:${workflowJobRunBackendId} ` +
      `Actions.UploadArtifacts:${randomUUID()}`,
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const pending = new Map<string, Pending>(); // by blob key
  const artifacts: StandinArtifact[] = [];
  const requests: string[] = [];
  const violations: string[] = [];
  let nextId = 4_000_000_001n; // past 2^31: the int64-as-string path is exercised
  let origin = '';

  function twirpError(response: http.ServerResponse, status: number, code: string, msg: string): void {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code, msg }));
  }

  function checkIds(
    method: string,
    message: { workflowRunBackendId: string; workflowJobRunBackendId: string },
  ): boolean {
    if (
      message.workflowRunBackendId === workflowRunBackendId &&
      message.workflowJobRunBackendId === workflowJobRunBackendId
    )
      return true;
    violations.push(
      `${method}: backend ids ${message.workflowRunBackendId}/${message.workflowJobRunBackendId} are not the token's`,
    );
    return false;
  }

  /** The body parsed with the library's own generated type (strict: an unknown field is a violation), or undefined. */
  function parseRequest<T>(
    method: string,
    type: { fromJson(json: never): T; typeName: string },
    body: unknown,
    response: http.ServerResponse,
  ): T | undefined {
    try {
      return type.fromJson(body as never);
    } catch (error) {
      violations.push(`${method}: body does not match ${type.typeName} (${(error as Error).message})`);
      twirpError(response, 400, 'malformed', 'bad request body');
      return undefined;
    }
  }

  function createArtifact(body: unknown, response: http.ServerResponse): void {
    const request = parseRequest('CreateArtifact', CreateArtifactRequest, body, response);
    if (!request) return;
    if (!checkIds('CreateArtifact', request)) {
      twirpError(response, 400, 'invalid_argument', 'backend ids do not match the token');
      return;
    }
    if (!request.name) {
      violations.push('CreateArtifact: empty name');
      twirpError(response, 400, 'invalid_argument', 'name is required');
      return;
    }
    if (options.refuseCreate) {
      twirpError(response, options.refuseCreate.status, options.refuseCreate.code, options.refuseCreate.msg);
      return;
    }
    // Artifact names are unique within a run (artifacts v4 are immutable).
    if (artifacts.some((artifact) => artifact.name === request.name)) {
      twirpError(response, 409, 'already_exists', `an artifact named ${request.name} already exists in this run`);
      return;
    }
    const key = randomBytes(8).toString('hex');
    const sig = randomBytes(24).toString('base64');
    pending.set(key, {
      key,
      sig,
      name: request.name,
      workflowRunBackendId: request.workflowRunBackendId,
      workflowJobRunBackendId: request.workflowJobRunBackendId,
      expiresAt: request.expiresAt ? Timestamp.toDate(request.expiresAt) : undefined,
      mimeType: request.mimeType?.value,
      version: request.version,
      staged: new Map(),
    });
    const expiry = new Date(Date.now() + 3_600_000).toISOString();
    const signedUploadUrl = `${origin}${BLOB_PREFIX}${key}.zip?sv=2024-11-04&sr=b&sp=cw&se=${encodeURIComponent(expiry)}&sig=${encodeURIComponent(sig)}`;
    const json = CreateArtifactResponse.toJson(CreateArtifactResponse.create({ ok: true, signedUploadUrl }), {
      useProtoFieldName: true,
    });
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  }

  function finalizeArtifact(body: unknown, response: http.ServerResponse): void {
    const request = parseRequest('FinalizeArtifact', FinalizeArtifactRequest, body, response);
    if (!request) return;
    if (!checkIds('FinalizeArtifact', request)) {
      twirpError(response, 400, 'invalid_argument', 'backend ids do not match the token');
      return;
    }
    const entry = [...pending.values()].find((candidate) => candidate.name === request.name);
    if (!entry) {
      violations.push(`FinalizeArtifact: no artifact named ${request.name} was created`);
      twirpError(response, 404, 'not_found', 'artifact not found');
      return;
    }
    if (!entry.committed) {
      violations.push(`FinalizeArtifact: ${request.name} finalized before its blob was committed`);
      twirpError(response, 400, 'failed_precondition', 'upload not complete');
      return;
    }
    const { blob } = entry.committed;
    const sha256 = createHash('sha256').update(blob).digest('hex');
    const reportedSize = Number(request.size);
    if (reportedSize !== blob.length)
      violations.push(`FinalizeArtifact: size ${request.size} but the blob holds ${blob.length} bytes`);
    const reportedSha256 = request.hash?.value.replace(/^sha256:/, '');
    if (request.hash && !request.hash.value.startsWith('sha256:'))
      violations.push(`FinalizeArtifact: hash "${request.hash.value}" is not sha256:<hex>`);
    if (reportedSha256 !== sha256)
      violations.push(`FinalizeArtifact: hash ${reportedSha256} but the blob's sha256 is ${sha256}`);
    const id = String(nextId++);
    pending.delete(entry.key);
    artifacts.push({
      id,
      name: entry.name,
      workflowRunBackendId: entry.workflowRunBackendId,
      workflowJobRunBackendId: entry.workflowJobRunBackendId,
      expiresAt: entry.expiresAt,
      mimeType: entry.mimeType,
      version: entry.version,
      blob,
      contentType: entry.committed.contentType,
      blocks: entry.committed.blocks,
      reportedSize,
      reportedSha256,
      sha256,
    });
    const json = FinalizeArtifactResponse.toJson(FinalizeArtifactResponse.create({ ok: true, artifactId: id }), {
      useProtoFieldName: true,
    });
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  }

  function blobError(response: http.ServerResponse, status: number, code: string, message: string): void {
    response
      .writeHead(status, {
        'content-type': 'application/xml',
        'x-ms-error-code': code,
        'x-ms-request-id': randomUUID(),
      })
      .end(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  }

  function putBlob(url: URL, request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): void {
    const key = url.pathname.slice(BLOB_PREFIX.length).replace(/\.zip$/, '');
    const entry = pending.get(key);
    if (!entry) {
      violations.push(`PUT ${url.pathname}: not a signed upload URL this service handed out`);
      blobError(response, 404, 'BlobNotFound', 'no such upload');
      return;
    }
    if (url.searchParams.get('sig') !== entry.sig) {
      violations.push(`PUT ${url.pathname}: the SAS signature is missing or altered`);
      blobError(response, 403, 'AuthenticationFailed', 'signature mismatch');
      return;
    }
    const headers = {
      'x-ms-request-id': randomUUID(),
      'x-ms-version': String(request.headers['x-ms-version'] ?? '2025-11-05'),
      'x-ms-request-server-encrypted': 'true',
      date: new Date().toUTCString(),
    };
    const comp = url.searchParams.get('comp');
    if (comp === 'block') {
      const blockId = url.searchParams.get('blockid');
      if (!blockId) {
        violations.push('Put Block without a blockid');
        blobError(response, 400, 'InvalidQueryParameterValue', 'blockid is required');
        return;
      }
      const md5 = request.headers['content-md5'];
      if (typeof md5 === 'string' && md5 !== createHash('md5').update(body).digest('base64')) {
        violations.push(`Put Block ${blockId}: Content-MD5 does not match the body`);
        blobError(response, 400, 'Md5Mismatch', 'Content-MD5 mismatch');
        return;
      }
      entry.staged.set(blockId, body);
      response.writeHead(201, headers).end();
      return;
    }
    if (comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)].map(
        (match) => match[2]!,
      );
      if (ids.length === 0) violations.push('Put Block List with no blocks');
      if (new Set(ids.map((id) => Buffer.from(id, 'base64').length)).size > 1)
        violations.push('Put Block List: block ids of different lengths (Azure refuses them)');
      const missing = ids.filter((id) => !entry.staged.has(id));
      if (missing.length > 0) {
        violations.push(`Put Block List names ${missing.length} block(s) never staged`);
        blobError(response, 400, 'InvalidBlockList', 'unknown block');
        return;
      }
      const contentType = request.headers['x-ms-blob-content-type'];
      entry.committed = {
        blob: Buffer.concat(ids.map((id) => entry.staged.get(id)!)),
        contentType: typeof contentType === 'string' ? contentType : undefined,
        blocks: ids.length,
      };
      entry.staged.clear();
      response
        .writeHead(201, {
          ...headers,
          etag: `"0x${randomBytes(8).toString('hex').toUpperCase()}"`,
          'last-modified': headers.date,
        })
        .end();
      return;
    }
    violations.push(
      `PUT ${url.pathname}?comp=${comp}: not a block or block-list upload (uploadStream sends only those)`,
    );
    blobError(response, 400, 'UnsupportedQueryParameter', 'unsupported');
  }

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', origin);
      const body = Buffer.concat(chunks);
      response.on('finish', () => requests.push(`${request.method} ${url.pathname} ${response.statusCode}`));
      try {
        if (request.method === 'POST' && url.pathname.startsWith(SERVICE)) {
          if (request.headers.authorization !== `Bearer ${token}`) {
            violations.push(`${url.pathname}: no bearer token, or not the runtime token`);
            twirpError(response, 401, 'unauthenticated', 'bad token');
            return;
          }
          if (!String(request.headers['content-type']).startsWith('application/json')) {
            violations.push(
              `${url.pathname}: content-type ${request.headers['content-type']}, the JSON client sends ` +
                `application/json`,
            );
          }
          const method = url.pathname.slice(SERVICE.length);
          const json: unknown = JSON.parse(body.toString('utf8'));
          if (method === 'CreateArtifact') return createArtifact(json, response);
          if (method === 'FinalizeArtifact') return finalizeArtifact(json, response);
          violations.push(`unexpected Twirp method ${method}`);
          twirpError(response, 404, 'bad_route', `no method ${method}`);
          return;
        }
        if (request.method === 'PUT' && url.pathname.startsWith(BLOB_PREFIX))
          return putBlob(url, request, body, response);
        violations.push(`unexpected request ${request.method} ${url.pathname}`);
        twirpError(response, 404, 'bad_route', 'not found');
      } catch (error) {
        violations.push(`${request.method} ${url.pathname}: ${(error as Error).message}`);
        twirpError(response, 400, 'malformed', (error as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${origin}/`;
  return {
    url,
    token,
    workflowRunBackendId,
    workflowJobRunBackendId,
    env: { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: url },
    artifacts,
    requests,
    violations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ZipEntry {
  name: string;
  /** 0: stored, 8: deflated. */
  method: number;
  data: Buffer;
}

/**
 * Reads a zip's entries through its central directory (the only place a streamed zip records sizes: archiver writes
 * data descriptors). Enough for the artifact zips: no zip64, stored or deflated entries; the CRC of each is checked.
 * No `unzip` is needed on the machine (.ci/run does not install one).
 */
export function readZip(zip: Buffer): ZipEntry[] {
  let end = -1;
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip: no end-of-central-directory record');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  if (count === 0xffff || at === 0xffffffff) throw new Error('zip64 archives are not read here');
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`central directory entry ${index} is corrupt`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`${name}: local header is corrupt`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 0 ? raw : method === 8 ? zlib.inflateRawSync(raw) : null;
    if (!data) throw new Error(`${name}: compression method ${method} is not read here`);
    if (data.length !== size || zlib.crc32(data) !== crc)
      throw new Error(`${name}: size or CRC does not match the central directory`);
    entries.push({ name, method, data });
  }
  return entries;
}
