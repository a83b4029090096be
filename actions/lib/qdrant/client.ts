import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { whyNotAUrl } from '../format.ts';

/**
 * A small Qdrant REST client on node:http, for the handful of calls backups make. Not @qdrant/js-client-rest:
 * it cannot download or upload snapshot files (it decodes the body as text, JSON-encodes uploads), and its
 * createSnapshot(wait: false) throws on HTTP 202 (shared/qdrant/NOTES.md). One HTTP path gives one error policy
 * (401 → "check the API key") and one timeout policy: snapshot creation with wait=true can take many minutes
 * without a byte on the wire, which fetch's default 300 s headers timeout would cut. The endpoints themselves
 * (paths, request and response shapes) are spelled in api.ts only; this file knows HTTP, not Qdrant's routes.
 */
export interface QdrantNode {
  /** Base URL without credentials, e.g. http://qdrant-0:6333 */
  url: string;
  apiKey?: string;
  /** Where the API key is given, for the hint when Qdrant refuses it. */
  keyOrigin?: Origin;
}

export interface RequestOptions {
  query?: Record<string, string>;
  body?: unknown;
  /** Idle socket timeout; default 10 minutes (snapshot creation sends nothing until it is done). */
  timeoutMs?: number;
}

/** An HTTP error from Qdrant, with its status and Qdrant's own error text. */
export class QdrantError extends Error {
  override name = 'QdrantError';
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export function parseQdrantUrl(value: string, origin: Origin, keyOrigin: Origin): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(
      `${origin.title} has "${value}", ${whyNotAUrl(value)}: use e.g. http://localhost:6333 or https://xyz.cloud.qdrant.io:6333.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(
      `${origin.title} has "${value}": Qdrant's REST API is http:// or https:// (port 6333 by default).`,
    );
  }
  if (url.username || url.password) {
    throw new ConfigurationError(
      `${origin.title} carries credentials in the URL: pass the key through ${keyOrigin} instead.`,
    );
  }
  return url.href.replace(/\/+$/, '');
}

function endpoint(node: QdrantNode, path: string, query?: Record<string, string>): URL {
  const url = new URL(node.url + path);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  return url;
}

function headersFor(node: QdrantNode, extra: Record<string, string | number> = {}): Record<string, string | number> {
  return { ...(node.apiKey ? { 'api-key': node.apiKey } : {}), ...extra };
}

/** Sends a request and resolves with the response once its headers arrive. */
function send(
  method: string,
  url: URL,
  headers: Record<string, string | number>,
  timeoutMs: number,
  body?: Readable | Buffer,
): Promise<http.IncomingMessage> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method, headers, timeout: timeoutMs }, resolve);
    request.on('timeout', () =>
      request.destroy(new Error(`no answer from Qdrant for ${Math.round(timeoutMs / 1000)} s`)),
    );
    request.on('error', reject);
    if (body === undefined) request.end();
    else if (Buffer.isBuffer(body)) request.end(body);
    else pipeline(body, request).catch((error: unknown) => request.destroy(error as Error));
  });
}

async function readJson(response: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/** Turns a failed response into one clear error: 401/403 name the key, others carry Qdrant's own message. */
async function failure(
  node: QdrantNode,
  method: string,
  path: string,
  response: http.IncomingMessage,
): Promise<QdrantError> {
  const body = await readJson(response).catch(() => undefined);
  const status = response.statusCode ?? 0;
  const said =
    typeof body === 'object' && body !== null
      ? (body as { status?: { error?: string } }).status?.error
      : typeof body === 'string'
        ? body.slice(0, 300)
        : undefined;
  if (status === 401 || status === 403) {
    return new QdrantError(
      `Qdrant at ${node.url} refused the request (HTTP ${status}${said ? `: ${said}` : ''}): ` +
        (node.apiKey
          ? `the API key is wrong or lacks the rights; check ${node.keyOrigin ?? 'the API key'}.`
          : `it needs an API key; set ${node.keyOrigin ?? 'one'}.`),
      status,
    );
  }
  return new QdrantError(
    `Qdrant at ${node.url}: ${method} ${path} failed with HTTP ${status}${said ? `: ${said}` : ''}`,
    status,
  );
}

function unreachable(node: QdrantNode, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET') {
    return new ConfigurationError(
      `Cannot reach Qdrant at ${node.url} (${code}): check the URL and that this machine can reach it.`,
    );
  }
  return error as Error;
}

/** A JSON call; resolves with the body (for Qdrant's usual `{result, status, time}` envelope, call result()). */
export async function request<T = unknown>(
  node: QdrantNode,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers = headersFor(node, body ? { 'content-type': 'application/json', 'content-length': body.length } : {});
  let response: http.IncomingMessage;
  try {
    response = await send(
      method,
      endpoint(node, path, options.query),
      headers,
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      body,
    );
  } catch (error) {
    throw unreachable(node, error);
  }
  if ((response.statusCode ?? 0) >= 300) throw await failure(node, method, path, response);
  return (await readJson(response)) as T;
}

/** The `result` of a `{result, status, time}` response. */
export async function result<T>(
  node: QdrantNode,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  return (await request<{ result: T }>(node, method, path, options)).result;
}

/** Streams a binary response (a snapshot download); the stream errors if the connection breaks. */
export async function download(
  node: QdrantNode,
  path: string,
): Promise<{ stream: http.IncomingMessage; bytes: number | undefined }> {
  let response: http.IncomingMessage;
  try {
    response = await send('GET', endpoint(node, path), headersFor(node), DEFAULT_TIMEOUT_MS);
  } catch (error) {
    throw unreachable(node, error);
  }
  if ((response.statusCode ?? 0) >= 300) throw await failure(node, 'GET', path, response);
  // A connection cut mid-body emits 'aborted' on the response, sometimes after the consuming pipeline has already
  // failed with "premature close" and let go of it: without a listener of its own that would crash the process.
  response.on('error', () => undefined);
  const length = response.headers['content-length'];
  return { stream: response, bytes: length === undefined ? undefined : Number(length) };
}

/**
 * Uploads a file as multipart/form-data (field `snapshot`) straight from a stream: the size is known from the
 * manifest, so the body has a Content-Length and nothing is buffered or written to disk.
 */
export async function uploadMultipart(
  node: QdrantNode,
  path: string,
  query: Record<string, string>,
  file: { stream: Readable; bytes: number; fileName: string },
): Promise<unknown> {
  const boundary = `backstop-${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; ` +
      `filename="${file.fileName.replace(/"/g, '')}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* body(): AsyncGenerator<Buffer> {
    yield head;
    for await (const chunk of file.stream) yield chunk as Buffer;
    yield tail;
  }
  const headers = headersFor(node, {
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'content-length': head.length + file.bytes + tail.length,
  });
  let response: http.IncomingMessage;
  try {
    response = await send('POST', endpoint(node, path, query), headers, DEFAULT_TIMEOUT_MS, Readable.from(body()));
  } catch (error) {
    throw unreachable(node, error);
  }
  if ((response.statusCode ?? 0) >= 300) throw await failure(node, 'POST', path, response);
  return readJson(response);
}
