import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A local OpenAI-compatible embeddings endpoint (POST /v1/embeddings) for the backfill tests: it records every
 * request (time, key, model, inputs), answers deterministic vectors of `dimensions`, and fails on purpose when told
 * to: a list of answers to give first (429 with Retry-After, 500…), or a key it wants.
 */
export interface ScriptedFailure {
  status: number;
  /** Sent as the Retry-After header (seconds). */
  retryAfter?: number;
  message?: string;
}

export interface OpenAiStandinOptions {
  /** Vector size of the answers (default 16). */
  dimensions?: number;
  /** When set, a request without `Authorization: Bearer <key>` gets OpenAI's 401. */
  apiKey?: string;
  /** Answers given, in order, before the stand-in embeds anything. */
  failures?: ScriptedFailure[];
  /** Every request fails with this status (after the scripted failures). */
  alwaysFail?: ScriptedFailure;
  /** Each answer waits this long (to see how many requests a client keeps in flight). */
  delayMs?: number;
}

export interface OpenAiRequest {
  at: number;
  path: string;
  authorization: string | undefined;
  model: unknown;
  inputs: string[];
  status: number;
}

export interface OpenAiStandin {
  /** Base URL, e.g. http://127.0.0.1:1234/v1 */
  url: string;
  requests: OpenAiRequest[];
  /** The most requests that were open at once. */
  maxInFlight(): number;
  stop(): Promise<void>;
}

export function standinVector(text: string, dimensions: number): number[] {
  const digest = createHash('sha256').update(text).digest();
  return Array.from({ length: dimensions }, (_, index) => digest[index % digest.length]! / 255 - 0.5);
}

export async function startOpenAiStandin(options: OpenAiStandinOptions = {}): Promise<OpenAiStandin> {
  const requests: OpenAiRequest[] = [];
  const failures = [...(options.failures ?? [])];
  const dimensions = options.dimensions ?? 16;
  let [inFlight, maxInFlight] = [0, 0];
  const server = http.createServer(async (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    if (options.delayMs) await sleep(options.delayMs);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: { model?: unknown; input?: unknown } = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // answered as a 400 below
    }
    const inputs = Array.isArray(body.input) ? (body.input as string[]) : [];
    const record: OpenAiRequest = {
      at: Date.now(),
      path: req.url ?? '',
      authorization: req.headers.authorization,
      model: body.model,
      inputs,
      status: 200,
    };
    requests.push(record);
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json));
    };
    const error = (failure: ScriptedFailure) =>
      send(
        failure.status,
        { error: { message: failure.message ?? `scripted ${failure.status}`, type: 'server_error', code: null } },
        failure.retryAfter === undefined ? {} : { 'retry-after': String(failure.retryAfter) },
      );
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/embeddings')) {
      return send(404, { error: { message: `no route ${req.method} ${req.url}` } });
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      // OpenAI's own wording names only the key's last characters.
      return send(401, {
        error: { message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com.' },
      });
    }
    const scripted = failures.shift();
    if (scripted) return error(scripted);
    if (options.alwaysFail) return error(options.alwaysFail);
    if (inputs.length === 0 || typeof body.model !== 'string') {
      return send(400, { error: { message: "'input' and 'model' are required" } });
    }
    send(200, {
      object: 'list',
      model: body.model,
      data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: standinVector(text, dimensions) })),
      usage: { prompt_tokens: inputs.length * 3, total_tokens: inputs.length * 3 },
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    maxInFlight: () => maxInFlight,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
