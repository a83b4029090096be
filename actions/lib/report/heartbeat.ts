import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { parseHttpUrl } from '../format.ts';

/**
 * The dead-man's switch: pings to an outside watcher (Healthchecks.io, Cronitor, Better Stack, …) that alerts when
 * the pings stop, so backups that stop happening at all (minutes used up, schedules dropped or disabled, a job that
 * never started) are noticed without GitHub. The URL is a secret (its path or query is the check's key): it is
 * never printed, and messages name only its host.
 */

/** start: the job began; success and fail: how it ended. */
export type PingKind = 'start' | 'success' | 'fail';

export interface Heartbeat {
  url: URL;
  origin: Origin;
  timeoutMs: number;
}

export interface PingOutcome {
  kind: PingKind;
  host: string;
  /** sent: the watcher answered 2xx; skipped: the service has no such ping; failed: see problem. */
  result: 'sent' | 'skipped' | 'failed';
  /** What went wrong or why it was skipped, without the URL. */
  detail?: string;
}

/** Connection errors are retried once after this pause (a watcher restarting, a dropped packet). */
const RETRY_PAUSE_MS = 1000;

export function parseHeartbeatUrl(text: string, origin: Origin, timeoutSeconds: number): Heartbeat {
  // The message never repeats the value: it is the check's secret.
  const url = parseHttpUrl(text);
  if (!(url instanceof URL)) {
    throw new ConfigurationError(
      `${origin.title} is ${url.why}: give the check's ping URL, e.g. https://hc-ping.com/<uuid> ` +
        '(Healthchecks.io), https://cronitor.link/p/<key>/<monitor> (Cronitor) or ' +
        'https://uptime.betterstack.com/api/v1/heartbeat/<token> (Better Stack).',
    );
  }
  return { url, origin, timeoutMs: timeoutSeconds * 1000 };
}

type Dialect = 'cronitor' | 'betterstack' | 'healthchecks';

/** Cronitor takes ?state=; Better Stack has no start ping; Healthchecks.io and most others take /start and /fail. */
function dialectOf(url: URL): Dialect {
  if (url.hostname === 'cronitor.link' || url.hostname.endsWith('.cronitor.link')) return 'cronitor';
  if (/(^|\.)(betterstack|betteruptime)\.com$/.test(url.hostname)) return 'betterstack';
  return 'healthchecks';
}

const CRONITOR_STATES: Record<PingKind, string> = { start: 'run', success: 'complete', fail: 'fail' };

/** The URL to request for a ping, in the watcher's own dialect; undefined when it has no such ping. */
export function pingUrl(base: URL, kind: PingKind): URL | undefined {
  const url = new URL(base);
  const dialect = dialectOf(base);
  if (dialect === 'cronitor') {
    url.searchParams.set('state', CRONITOR_STATES[kind]);
    return url;
  }
  if (kind === 'success') return url;
  if (kind === 'start' && dialect === 'betterstack') return undefined;
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${kind}`;
  return url;
}

/** One ping. Never throws: a watcher that is down or slow must not fail a backup, so the caller warns instead. */
export async function ping(heartbeat: Heartbeat, kind: PingKind): Promise<PingOutcome> {
  const host = heartbeat.url.host;
  const url = pingUrl(heartbeat.url, kind);
  if (!url) return { kind, host, result: 'skipped', detail: `${host} has no ${kind} ping` };
  let detail = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const outcome = await request(url, heartbeat.timeoutMs);
    if (outcome.ok) return { kind, host, result: 'sent' };
    detail = outcome.detail;
    // A slow watcher is not asked twice (the job would wait twice as long), nor one that refused the request.
    if (!outcome.retry) break;
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  }
  return { kind, host, result: 'failed', detail };
}

type Attempt = { ok: true } | { ok: false; detail: string; retry: boolean };

async function request(url: URL, timeoutMs: number): Promise<Attempt> {
  try {
    const response = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    return { ok: false, detail: `answered HTTP ${response.status}`, retry: response.status >= 500 };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { ok: false, detail: `did not answer within ${timeoutMs / 1000} s`, retry: false };
    }
    return { ok: false, detail: networkProblem(error), retry: true };
  }
}

/** fetch's own message says only "fetch failed"; the cause's code says what happened (and carries no URL path). */
function networkProblem(error: unknown): string {
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'could not be resolved (DNS)';
    case 'ECONNRESET':
      return 'dropped the connection';
    default:
      return typeof code === 'string' ? `could not be reached (${code})` : 'could not be reached';
  }
}

/** The warning for a ping that did not arrive: what it means for the watcher, and what to check. */
export function pingWarning(outcome: PingOutcome, origin: Origin): string {
  const effect =
    outcome.kind === 'start'
      ? 'the watcher will not time this run'
      : outcome.kind === 'success'
        ? 'the watcher may alert although the job succeeded'
        : 'the watcher learns of this failure only when the next ping is overdue';
  return (
    `Heartbeat ${outcome.kind} ping to ${outcome.host} failed: it ${outcome.detail}. This step still succeeds; ` +
    `${effect}. Check the URL given in ${origin} and that this runner can reach ${outcome.host}.`
  );
}
