import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import { pingUrl } from '../../actions/lib/report/heartbeat.ts';
import { startGitHubStandin, type GitHubStandin } from '../harness/github-standin.ts';
import { runAction, type ActionRun } from '../harness/runner.ts';

/**
 * The report action's dead-man's switch, run from its bundle as the runner runs it, against a local stand-in for a
 * Healthchecks.io-style watcher that records every ping (and can be told to be slow or to fail).
 */
interface Watcher {
  url: string;
  pings: string[];
  /** Milliseconds to wait before answering; status to answer with. */
  delayMs: number;
  status: number;
  close(): Promise<void>;
}

async function startWatcher(): Promise<Watcher> {
  const watcher: Watcher = { url: '', pings: [], delayMs: 0, status: 200, close: async () => undefined };
  const server = http.createServer((request, response) => {
    watcher.pings.push(`${request.method} ${request.url}`);
    const answer = (): void => void response.writeHead(watcher.status, { 'content-type': 'text/plain' }).end('OK');
    if (watcher.delayMs > 0) setTimeout(answer, watcher.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  watcher.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  watcher.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return watcher;
}

/** The check's key: the secret part of a ping URL. */
const TOKEN = '5b1e9c2a-7d4f-4e11-9a3b-heartbeat-secret';

let standin: GitHubStandin;
let watcher: Watcher;
let jobTemp: string;
let checkUrl: string;

beforeEach(async () => {
  standin = await startGitHubStandin({ owner: 'acme', repo: 'shop', pushedAt: new Date() });
  watcher = await startWatcher();
  jobTemp = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-heartbeat-'));
  checkUrl = `${watcher.url}/ping/${TOKEN}`;
});

afterEach(async () => {
  await Promise.all([standin.close(), watcher.close()]);
  await fs.rm(jobTemp, { recursive: true, force: true });
});

function report(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction(
    'report',
    { name: 'prod-db', 'github-token': standin.token, ...inputs },
    {
      env: {
        RUNNER_TEMP: jobTemp,
        GITHUB_API_URL: standin.url,
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_WORKFLOW: 'nightly-backup',
        GITHUB_RUN_ID: '77',
      },
    },
  );
}

/** The URL is registered with the runner's masking, and appears nowhere else in what the step prints or writes. */
function expectNeverPrinted(result: ActionRun, url: string): void {
  expect(result.stdout).toContain(`::add-mask::${url}`);
  const printed = [result.stdout.replace(/^::add-mask::.*$/gm, ''), result.stderr, result.summary].join('\n');
  expect(printed).not.toContain(TOKEN);
  expect(JSON.stringify(standin.issues)).not.toContain(TOKEN);
}

describe('heartbeat-url: the pings', () => {
  it('ping start sends /start and nothing else: no issue, no GitHub call, no status needed', async () => {
    const result = await report({ ping: 'start', 'heartbeat-url': checkUrl, 'github-token': '' });
    expect(result.code, result.stdout).toBe(0);
    expect(watcher.pings).toEqual([`GET /ping/${TOKEN}/start`]);
    expect(result.outputs.heartbeat).toBe('sent');
    expect(result.stdout).toContain(`Heartbeat: start ping sent to ${new URL(watcher.url).host}`);
    expect(standin.requests).toEqual([]);
    expectNeverPrinted(result, checkUrl);
  });

  it('a successful job pings the URL itself; a failed one /fail, and still opens its issue', async () => {
    const success = await report({ status: 'success', 'heartbeat-url': checkUrl });
    expect(success.code, success.stdout).toBe(0);
    expect(success.outputs.heartbeat).toBe('sent');
    expect(success.summary).toContain('Heartbeat: success ping sent');
    const failure = await report({ status: 'failure', 'heartbeat-url': checkUrl });
    expect(failure.code, failure.stdout).toBe(0);
    expect(failure.outputs['issue-action']).toBe('opened');
    const cancelled = await report({ status: 'cancelled', 'heartbeat-url': checkUrl });
    expect(cancelled.code).toBe(0);
    expect(watcher.pings).toEqual([`GET /ping/${TOKEN}`, `GET /ping/${TOKEN}/fail`, `GET /ping/${TOKEN}/fail`]);
    for (const result of [success, failure, cancelled]) expectNeverPrinted(result, checkUrl);
  });

  it('a Backstop step that failed under continue-on-error pings /fail although the job status is success', async () => {
    await fs.mkdir(path.join(jobTemp, 'backstop-steps'), { recursive: true });
    const dump = await runAction(
      'dump-postgres',
      { 'database-url': 'postgresql://u:p@127.0.0.1:1/x', name: 'prod-db', 'storage-url': path.join(jobTemp, 's') },
      { env: { RUNNER_TEMP: jobTemp } },
    );
    expect(dump.code).toBe(1);
    const result = await report({ status: 'success', 'heartbeat-url': checkUrl });
    expect(result.code, result.stdout).toBe(0);
    expect(watcher.pings).toEqual([`GET /ping/${TOKEN}/fail`]);
  });

  it('without heartbeat-url nothing is pinged and the output says none', async () => {
    const result = await report({ status: 'success' });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.heartbeat).toBe('none');
    expect(watcher.pings).toEqual([]);
    expect(result.summary).not.toContain('Heartbeat');
  });
});

describe('heartbeat-url: a watcher that is down, slow or failing is a warning, never a failed step', () => {
  it('refused (tried twice): a warning naming only the host, and the issue work still happens', async () => {
    const port = await freePort();
    const refused = `http://127.0.0.1:${port}/ping/${TOKEN}`;
    const started = Date.now();
    const result = await report({ status: 'failure', 'heartbeat-url': refused });
    // The second attempt comes a second after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(result.code, result.stdout).toBe(0);
    expect(result.errors).toEqual([]);
    expect(result.outputs.heartbeat).toBe('failed');
    expect(result.stdout).toContain(
      `::warning::Heartbeat fail ping to 127.0.0.1:${port} failed: it refused the connection. This step still succeeds`,
    );
    expect(result.stdout).toContain('Check the URL given in input "heartbeat-url"');
    expect(result.summary).toContain(`the fail ping to 127.0.0.1:${port} failed (it refused the connection)`);
    expect(result.outputs['issue-action']).toBe('opened');
    expectNeverPrinted(result, refused);
  });

  it('slow: given up after heartbeat-timeout-seconds, with a warning', async () => {
    watcher.delayMs = 8000;
    const started = Date.now();
    const result = await report({ status: 'success', 'heartbeat-url': checkUrl, 'heartbeat-timeout-seconds': '1' });
    const seconds = (Date.now() - started) / 1000;
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.heartbeat).toBe('failed');
    expect(result.stdout).toMatch(
      /::warning::Heartbeat success ping to 127\.0\.0\.1:\d+ failed: it did not answer within 1 s/,
    );
    // Not asked twice: a slow watcher would make the job wait twice as long.
    expect(watcher.pings).toHaveLength(1);
    expect(seconds).toBeLessThan(6);
    expectNeverPrinted(result, checkUrl);
  });

  it('an error answer: 5xx is tried once more, 4xx is not; both are warnings', async () => {
    watcher.status = 503;
    const unavailable = await report({ ping: 'start', 'heartbeat-url': checkUrl });
    expect(unavailable.code).toBe(0);
    expect(unavailable.stdout).toMatch(/::warning::Heartbeat start ping to .* failed: it answered HTTP 503/);
    expect(watcher.pings).toHaveLength(2);
    watcher.status = 404;
    const gone = await report({ ping: 'start', 'heartbeat-url': checkUrl });
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(/::warning::Heartbeat start ping to .* failed: it answered HTTP 404/);
    expect(watcher.pings).toHaveLength(3);
  });

  it('a heartbeat-url that is no URL is a warning naming the input, without the value; the issue work goes on', async () => {
    const broken = `hc-ping.com/${TOKEN}`;
    const start = await report({ ping: 'start', 'heartbeat-url': broken });
    expect(start.code, start.stdout).toBe(0);
    expect(start.outputs.heartbeat).toBe('failed');
    expect(start.stdout).toContain('::warning::Input "heartbeat-url" is not an http(s) URL');
    expect(start.stdout).toContain('No start ping was sent; this step goes on.');
    const end = await report({ status: 'failure', 'heartbeat-url': broken });
    expect(end.code, end.stdout).toBe(0);
    expect(end.outputs['issue-action']).toBe('opened');
    expect(end.summary).toContain('⚠️ Heartbeat: no fail ping sent (heartbeat-url is not an http(s) URL).');
    for (const result of [start, end]) expectNeverPrinted(result, broken);
    expect(watcher.pings).toEqual([]);
  });

  it("the job's own start ping is not reported as Backstop work", async () => {
    expect((await report({ ping: 'start', 'heartbeat-url': checkUrl })).code).toBe(0);
    const result = await report({ status: 'success', 'heartbeat-url': checkUrl });
    expect(result.stdout).toContain('(0 Backstop step(s) recorded)');
    expect(result.summary).toContain('no Backstop step ran in this job');
  });
});

describe('pingUrl: each watcher in its own dialect', () => {
  const kinds = ['start', 'success', 'fail'] as const;
  const urls = (base: string) => kinds.map((kind) => pingUrl(new URL(base), kind)?.toString());

  it('Healthchecks.io (and most others): /start, the URL, /fail; a query stays at the end', () => {
    expect(urls('https://hc-ping.com/0b7e')).toEqual([
      'https://hc-ping.com/0b7e/start',
      'https://hc-ping.com/0b7e',
      'https://hc-ping.com/0b7e/fail',
    ]);
    expect(urls('https://hc-ping.com/key/nightly-prod-db/?create=1')).toEqual([
      'https://hc-ping.com/key/nightly-prod-db/start?create=1',
      'https://hc-ping.com/key/nightly-prod-db/?create=1',
      'https://hc-ping.com/key/nightly-prod-db/fail?create=1',
    ]);
  });

  it('Cronitor: ?state=run, complete, fail', () => {
    expect(urls('https://cronitor.link/p/apikey/nightly-backup')).toEqual([
      'https://cronitor.link/p/apikey/nightly-backup?state=run',
      'https://cronitor.link/p/apikey/nightly-backup?state=complete',
      'https://cronitor.link/p/apikey/nightly-backup?state=fail',
    ]);
  });

  it('Better Stack: no start ping, the URL, /fail', () => {
    expect(urls('https://uptime.betterstack.com/api/v1/heartbeat/tok')).toEqual([
      undefined,
      'https://uptime.betterstack.com/api/v1/heartbeat/tok',
      'https://uptime.betterstack.com/api/v1/heartbeat/tok/fail',
    ]);
  });
});
