import { getOctokit } from '@actions/github';
import { ConfigurationError } from '../action/errors.ts';
import { quoteStart } from '../format.ts';
import type { GitHubClient } from './issues.ts';

/** GitHub answers in well under a second; a call that has taken this long is stuck (a proxy that swallowed it). */
const CALL_TIMEOUT_MS = 30_000;

const WHERE_THE_API_IS =
  'check GITHUB_API_URL (https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server) and that this ' +
  'runner can reach it';

interface Call {
  host: string;
  /** `GET /repos/acme/shop/issues`: the method and path, without the query. */
  route: string;
}

/**
 * The workflow token's client, whose every call is bounded in time and whose answers are checked before they are
 * read: an HTML page (a proxy, a wrong API URL), a 5xx, a host that cannot be reached or does not answer each fail
 * with one line naming GitHub's API and what to do. 4xx errors pass as they are: the report decides on them
 * (a refused token, a missing permission).
 */
export function gitHubClient(token: string): GitHubClient {
  const github = getOctokit(token);
  github.hook.wrap('request', async (request, options) => {
    const call: Call = { host: hostOf(String(options.baseUrl)), route: `${options.method} ${pathOf(options)}` };
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request({
        ...options,
        request: { ...options.request, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
      });
    } catch (error) {
      throw explain(call, error);
    }
    if (typeof response.data === 'string' && response.data.trim() !== '') {
      throw new ConfigurationError(
        `GitHub's API at ${call.host} answered ${call.route} with HTTP ${response.status} ` +
          `${response.headers['content-type'] ?? 'no content type'} (${quoteStart(response.data)}), not JSON: ` +
          `${WHERE_THE_API_IS}.`,
      );
    }
    return response;
  });
  return github;
}

/** The path a call goes to; octokit's options carry a route template or, when paginating, the whole URL. */
function pathOf(options: { url?: string; baseUrl?: string; [key: string]: unknown }): string {
  const route = String(options.url ?? '').replace(/\{(\w+)\}/g, (whole, name: string) =>
    typeof options[name] === 'string' || typeof options[name] === 'number' ? String(options[name]) : whole,
  );
  try {
    return new URL(route, 'http://x').pathname;
  } catch {
    return route;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ENOTFOUND: 'could not be resolved (DNS)',
  EAI_AGAIN: 'could not be resolved (DNS)',
  ECONNRESET: 'dropped the connection',
  EHOSTUNREACH: 'is unreachable from here',
  ENETUNREACH: 'is unreachable from here',
};

/** A RequestError, as octokit throws it: `response` only when GitHub answered; the fetch failure as its cause. */
interface Failure {
  status?: number;
  message?: string;
  response?: { data?: unknown };
  cause?: { name?: string; code?: string; cause?: { code?: string } };
}

function explain(call: Call, error: unknown): unknown {
  const failure = (error ?? {}) as Failure;
  if (!failure.response) {
    const cause = failure.cause;
    if (cause?.name === 'TimeoutError' || (error as Error | null)?.name === 'TimeoutError') {
      return new ConfigurationError(
        `GitHub's API at ${call.host} did not answer ${call.route} within ${CALL_TIMEOUT_MS / 1000} s: ` +
          `${WHERE_THE_API_IS}; if it can, GitHub is slow: re-run the job later.`,
      );
    }
    const code = cause?.code ?? cause?.cause?.code;
    const problem = code ? NETWORK[code] : undefined;
    if (problem || code) {
      return new ConfigurationError(
        `GitHub's API at ${call.host} ${problem ?? 'could not be reached'} (${code}) for ${call.route}: ` +
          `${WHERE_THE_API_IS}.`,
      );
    }
    return error;
  }
  if ((failure.status ?? 0) >= 500) {
    return new ConfigurationError(
      `GitHub's API at ${call.host} answered ${call.route} with HTTP ${failure.status} ` +
        `(${quoteStart(failure.message ?? '')}): GitHub failed on its side; re-run the job later ` +
        '(https://www.githubstatus.com shows outages).',
    );
  }
  return error;
}
