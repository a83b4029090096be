import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { quoteStart, whyNotAUrl } from '../format.ts';
import { describeBatch, type BatchLabel, type Embedder, type Embeddings } from './embedder.ts';

export interface OpenAiOptions {
  /** The endpoint, or its base (…/v1): `/embeddings` is added unless the path ends with it. */
  url: string;
  urlOrigin: Origin;
  model: string;
  apiKey?: string;
  keyOrigin: Origin;
  /** Tries per batch on 429, 5xx and dropped connections (1 = no retry). */
  attempts: number;
  /** How long one request may take. */
  timeoutMs: number;
  log: (line: string) => void;
  /** First backoff step; doubles per retry, jittered, capped at 30 s. */
  backoffMs?: number;
}

const MAX_BACKOFF_MS = 30_000;
/** A Retry-After longer than this is a quota exhausted for the day, not a pause: the run stops and says so. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** An answer worth another try (rate limit, server trouble, a dropped connection), with how long it asks to wait. */
class Retryable extends Error {
  readonly waitMs: number | undefined;

  constructor(message: string, waitMs?: number) {
    super(message);
    this.waitMs = waitMs;
  }
}

/** Resolves an embeddings URL: a full …/embeddings endpoint as given, a base URL (…/v1) with /embeddings added. */
export function embeddingsEndpoint(value: string, origin: Origin): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(
      `${origin.title} has "${value}", ${whyNotAUrl(value)}: use e.g. https://api.openai.com/v1 or ` +
        'http://localhost:11434/v1.',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigurationError(`${origin.title} has "${value}": an embeddings endpoint is http:// or https://.`);
  }
  if (url.username || url.password) {
    throw new ConfigurationError(`${origin.title} carries credentials in the URL: pass the key as the API key.`);
  }
  if (!url.pathname.replace(/\/+$/, '').endsWith('/embeddings')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/embeddings`;
  }
  return url;
}

/**
 * POST /embeddings as OpenAI defines it, which Azure OpenAI, Ollama, vLLM and LM Studio serve too. The key goes as
 * `Authorization: Bearer` and, for Azure, as `api-key`. 429 and 5xx are retried with jittered exponential backoff,
 * or after the wait the endpoint asks for (Retry-After, retry-after-ms); 401/403 fail at once naming the key.
 */
export class OpenAiEmbedder implements Embedder {
  readonly label: string;
  readonly model: string;
  private readonly endpoint: URL;
  private readonly options: OpenAiOptions;

  constructor(options: OpenAiOptions) {
    this.options = options;
    this.endpoint = embeddingsEndpoint(options.url, options.urlOrigin);
    this.model = options.model;
    this.label = `${options.model} at ${this.display}`;
  }

  private get display(): string {
    return `${this.endpoint.origin}${this.endpoint.pathname}`;
  }

  async embed(texts: string[], batch: BatchLabel): Promise<Embeddings> {
    const attempts = this.options.attempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request(texts, batch);
      } catch (error) {
        if (!(error instanceof Retryable)) throw error;
        if (attempt >= attempts) {
          throw new Error(
            `Embedding ${describeBatch(batch)} failed ${attempts} ${attempts === 1 ? 'time' : 'times'}, last with ` +
              `${error.message}. Rows embedded before it are stored: run again later to continue from there.`,
          );
        }
        if (error.waitMs !== undefined && error.waitMs > MAX_RETRY_AFTER_MS) {
          throw new Error(
            `Embedding ${describeBatch(batch)}: ${error.message}, and the endpoint asks to wait ` +
              `${Math.round(error.waitMs / 1000)} s (Retry-After), more than ${MAX_RETRY_AFTER_MS / 1000} s: run ` +
              'again later (rows embedded before it are stored and will be skipped).',
          );
        }
        const waitMs = error.waitMs ?? this.backoff(attempt);
        this.options.log(
          `${describeBatch(batch)}: ${error.message}; try ${attempt + 1} of ${attempts} in ` +
            `${(waitMs / 1000).toFixed(1)} s${error.waitMs === undefined ? '' : ' (as the endpoint asks)'}.`,
        );
        await sleep(waitMs);
      }
    }
  }

  /** Full jitter: anywhere between half and all of base × 2^(attempt-1), capped. */
  private backoff(attempt: number): number {
    const step = Math.min(MAX_BACKOFF_MS, (this.options.backoffMs ?? 1000) * 2 ** (attempt - 1));
    return step / 2 + Math.random() * (step / 2);
  }

  private headers(): Record<string, string> {
    const key = this.options.apiKey;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (key) {
      headers.authorization = `Bearer ${key}`;
      if (this.endpoint.hostname.endsWith('.azure.com')) headers['api-key'] = key;
    }
    return headers;
  }

  private async request(texts: string[], batch: BatchLabel): Promise<Embeddings> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: this.headers(),
        body: JSON.stringify({ model: this.model, input: texts, encoding_format: 'float' }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      if (cause === 'ECONNREFUSED' || cause === 'ENOTFOUND') {
        throw new ConfigurationError(
          `Cannot reach the embeddings endpoint ${this.display} (${cause}): check ${this.options.urlOrigin}.`,
        );
      }
      throw new Retryable(cause === 'TimeoutError' ? `no answer within ${this.options.timeoutMs / 1000} s` : cause);
    }
    const text = this.scrub(await response.text().catch(() => ''));
    if (response.ok) return this.parse(text, texts.length, batch);
    const said = errorText(text);
    const status = `HTTP ${response.status}${said ? `: ${said}` : ''}`;
    if (response.status === 401 || response.status === 403) {
      throw new ConfigurationError(
        `The embeddings endpoint ${this.display} refused the request (${status}): ` +
          (this.options.apiKey
            ? `the API key is wrong or lacks access to model "${this.model}"; check ${this.options.keyOrigin}.`
            : `it needs an API key; set ${this.options.keyOrigin}.`),
      );
    }
    if (response.status === 429 || response.status >= 500) {
      throw new Retryable(status, retryAfterMs(response.headers));
    }
    throw new Error(`The embeddings endpoint ${this.display} refused ${describeBatch(batch)} (${status}).`);
  }

  private parse(text: string, expected: number, batch: BatchLabel): Embeddings {
    let body: { data?: { embedding?: unknown; index?: number }[]; usage?: { total_tokens?: number } };
    try {
      body = JSON.parse(text);
    } catch {
      body = {};
    }
    const data = Array.isArray(body.data) ? [...body.data] : undefined;
    if (!data || data.length !== expected || !data.every((item) => isVector(item.embedding))) {
      throw new Error(
        `The embeddings endpoint ${this.display} answered ${describeBatch(batch)} with ` +
          `${data ? `${data.length} embeddings for ${expected} texts` : `no embeddings (${quoteStart(text)})`}: ` +
          'check that the URL is an OpenAI-compatible /embeddings endpoint.',
      );
    }
    data.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return { vectors: data.map((item) => item.embedding as number[]), tokens: body.usage?.total_tokens ?? 0 };
  }

  /** An endpoint that echoes the key (some proxies do) must not put it in a log line. */
  private scrub(text: string): string {
    const key = this.options.apiKey;
    return key ? text.split(key).join('***') : text;
  }
}

function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'number');
}

/** OpenAI's `{error: {message}}`, or the start of whatever else came. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (message) return quoteStart(message, 200);
  } catch {
    // not JSON
  }
  return text ? quoteStart(text, 120) : '';
}

/** retry-after-ms (OpenAI, Azure), else Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
