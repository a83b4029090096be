import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { quoteStart, whyNotAUrl } from '../format.ts';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../storage/index.ts';

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
  /** To connect, and between two bytes of a quick call; default DEFAULT_TIMEOUTS. */
  timeouts?: Timeouts;
}

export interface RequestOptions {
  query?: Record<string, string>;
  body?: unknown;
  /** Idle timeout for a call Qdrant works on before it answers (making a snapshot); default: the node's idle. */
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

/**
 * Recovering an uploaded snapshot: Qdrant answers once the collection is restored, and sends nothing until then.
 * A snapshot download streams, so the node's own idle timeout holds for it.
 */
const RECOVERY_TIMEOUT_MS = 10 * 60_000;

export function parseQdrantUrl(value: string, origin: Origin, keyOrigin: Origin): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(
      `${origin.title} has "${value}", ${whyNotAUrl(value)}: use e.g. http://localhost:6333 or ` +
        'https://xyz.cloud.qdrant.io:6333.',
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

/** A request that ran out of time: to connect, or waiting for the next byte. */
class QdrantTimeout extends Error {
  override name = 'QdrantTimeout';
  readonly phase: 'connect' | 'idle';
  readonly limitMs: number;

  constructor(phase: 'connect' | 'idle', limitMs: number) {
    // What a consumer of a streaming download sees when the stream stops mid-body.
    super(
      phase === 'connect'
        ? `Qdrant accepted no connection within ${limitMs / 1000} s (connect timeout)`
        : `Qdrant sent nothing for ${limitMs / 1000} s (idle timeout)`,
    );
    this.phase = phase;
    this.limitMs = limitMs;
  }
}

/**
 * Sends a request and resolves with the response once its headers arrive. The connect timeout runs until the TCP
 * connection is up (a dropped SYN waits minutes otherwise); the idle timeout from then on, also while a response body
 * streams.
 */
function send(
  method: string,
  url: URL,
  headers: Record<string, string | number>,
  limits: { connectMs: number; idleMs: number },
  body?: Readable | Buffer,
): Promise<http.IncomingMessage> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method, headers }, resolve);
    request.setTimeout(limits.idleMs, () => request.destroy(new QdrantTimeout('idle', limits.idleMs)));
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => request.destroy(new QdrantTimeout('connect', limits.connectMs)), limits.connectMs);
      socket.once('connect', () => clearTimeout(timer));
      request.once('close', () => clearTimeout(timer));
    });
    request.on('error', reject);
    if (body === undefined) request.end();
    else if (Buffer.isBuffer(body)) request.end(body);
    else pipeline(body, request).catch((error: unknown) => request.destroy(error as Error));
  });
}

async function readText(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(response: http.IncomingMessage): Promise<unknown> {
  const text = await readText(response);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

/**
 * A successful answer's JSON, checked before anyone reads a field of it: an HTML page (a proxy's login, a web UI on
 * the port) is said to be one, instead of failing later as "cannot read properties of undefined".
 */
async function readAnswer(
  node: QdrantNode,
  call: string,
  response: http.IncomingMessage,
  envelope: boolean,
): Promise<unknown> {
  const text = await readText(response);
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const isEnvelope = typeof body === 'object' && body !== null && 'result' in body;
  if (body !== undefined && (!envelope || isEnvelope)) return body;
  const type = response.headers['content-type'] ?? 'no content type';
  throw new ConfigurationError(
    `Qdrant at ${node.url} answered ${call} with HTTP ${response.statusCode} ${type} ` +
      `(${text === '' ? 'an empty body' : quoteStart(text)}), not Qdrant's JSON: check that the URL is Qdrant's REST ` +
      'endpoint (port 6333 by default), not a web page or a proxy in front of it.',
  );
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
      : typeof body === 'string' && body !== ''
        ? `${response.headers['content-type'] ?? 'no content type'} ${quoteStart(body)}`
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

function limitsOf(node: QdrantNode, idleMs?: number): { connectMs: number; idleMs: number } {
  const timeouts = node.timeouts ?? DEFAULT_TIMEOUTS;
  return { connectMs: timeouts.connectMs, idleMs: idleMs ?? timeouts.idleMs };
}

function unreachable(node: QdrantNode, error: unknown, what: string): Error {
  if (error instanceof QdrantTimeout) {
    const setBy = node.timeouts?.setBy?.[error.phase];
    const seconds = `${Number((error.limitMs / 1000).toFixed(1))} s`;
    return new ConfigurationError(
      error.phase === 'connect'
        ? `Qdrant at ${node.url} accepted no connection within ${seconds} (connect timeout) for ${what}: check the ` +
            `URL and that this machine can reach it${setBy ? `, or raise ${setBy}` : ''}.`
        : `Qdrant at ${node.url} went silent for ${seconds} (idle timeout) during ${what}: check that the URL is ` +
            `Qdrant's REST port (6333) and that the server is healthy${setBy ? `, or raise ${setBy}` : ''}.`,
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET') {
    return new ConfigurationError(
      `Cannot reach Qdrant at ${node.url} (${code}): check the URL and that this machine can reach it.`,
    );
  }
  return error as Error;
}

/** A JSON call; resolves with the body (for Qdrant's usual `{result, status, time}` envelope, call result()). */
export function request<T = unknown>(
  node: QdrantNode,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  return call<T>(node, method, path, options, false);
}

async function call<T>(
  node: QdrantNode,
  method: string,
  path: string,
  options: RequestOptions,
  envelope: boolean,
): Promise<T> {
  const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const headers = headersFor(node, body ? { 'content-type': 'application/json', 'content-length': body.length } : {});
  let response: http.IncomingMessage;
  try {
    response = await send(
      method,
      endpoint(node, path, options.query),
      headers,
      limitsOf(node, options.timeoutMs),
      body,
    );
  } catch (error) {
    throw unreachable(node, error, `${method} ${path}`);
  }
  if ((response.statusCode ?? 0) >= 300) throw await failure(node, method, path, response);
  return (await readAnswer(node, `${method} ${path}`, response, envelope)) as T;
}

/** The `result` of a `{result, status, time}` response. */
export async function result<T>(
  node: QdrantNode,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  return (await call<{ result: T }>(node, method, path, options, true)).result;
}

/** Streams a binary response (a snapshot download); the stream errors if the connection breaks. */
export async function download(
  node: QdrantNode,
  path: string,
): Promise<{ stream: http.IncomingMessage; bytes: number | undefined }> {
  let response: http.IncomingMessage;
  try {
    response = await send('GET', endpoint(node, path), headersFor(node), limitsOf(node));
  } catch (error) {
    throw unreachable(node, error, `GET ${path}`);
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
    const limits = limitsOf(node, Math.max(RECOVERY_TIMEOUT_MS, limitsOf(node).idleMs));
    response = await send('POST', endpoint(node, path, query), headers, limits, Readable.from(body()));
  } catch (error) {
    throw unreachable(node, error, `POST ${path}`);
  }
  if ((response.statusCode ?? 0) >= 300) throw await failure(node, 'POST', path, response);
  return readJson(response);
}
