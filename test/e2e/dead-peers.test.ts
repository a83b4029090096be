import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import { startAnsweringServer, startSilentServer, startUnacceptingPeer, type Peer } from '../harness/dead-peers.ts';
import { sampleDatabase, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { startStallingProxy } from '../harness/cutting-proxy.ts';
import { runAction } from '../harness/runner.ts';
import { startTestS3 } from '../harness/s3.ts';

/**
 * Peers that accept and never answer, or answer with something that is not their API: every wait has a bound, the
 * failure is one line naming the endpoint and what to do, and nothing half-written stays (docs/failures.md).
 */
let cluster: ScratchCluster;
let keys: KeyPair;
let sourceUrl: string;
let work: string;
const peers: Peer[] = [];

beforeAll(async () => {
  [cluster, keys] = await Promise.all([startTestCluster(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, 2_000);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-dead-peers-'));
});

afterAll(async () => {
  await Promise.all([
    cluster?.stop(),
    ...peers.map((peer) => peer.close()),
    work && fs.rm(work, { recursive: true, force: true }),
  ]);
});

async function silent(): Promise<Peer> {
  const peer = await startSilentServer();
  peers.push(peer);
  return peer;
}

async function answering(answer: Parameters<typeof startAnsweringServer>[0] = {}): Promise<Peer> {
  const peer = await startAnsweringServer(answer);
  peers.push(peer);
  return peer;
}

const SHORT = { 'connect-timeout-seconds': '1', 'idle-timeout-seconds': '1' };

/** A job's RUNNER_TEMP and a good local destination, to check that nothing is left in either. */
async function jobFolders(): Promise<{ temp: string; local: string }> {
  const job = await fs.mkdtemp(path.join(work, 'job-'));
  const temp = path.join(job, 'temp');
  const local = path.join(job, 'local');
  await Promise.all([fs.mkdir(temp), fs.mkdir(local)]);
  return { temp, local };
}

/** What is left in a folder, step records (the report step's input) aside. */
async function leftIn(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { recursive: true });
  return entries.filter((entry) => !entry.startsWith('backstop-steps')).sort();
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await run();
  return { result, seconds: (performance.now() - started) / 1000 };
}

/** dump-postgres into S3 at `endpoint` (plus a good local folder), with keys that must never be printed. */
function dumpToS3(endpoint: string, storageUrl: string, temp: string, extra: Record<string, string> = {}) {
  return runAction(
    'dump-postgres',
    {
      'database-url': sourceUrl,
      name: 'prod',
      'storage-url': storageUrl,
      'encryption-recipients': keys.recipient,
      ...extra,
    },
    {
      env: {
        RUNNER_TEMP: temp,
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret-never-printed',
        AWS_REGION: 'us-east-1',
      },
    },
  );
}

describe('every wait has a bound', () => {
  it('an S3 endpoint that accepts and never answers fails the dump in seconds, naming host and timeout', async () => {
    const peer = await silent();
    const { temp, local } = await jobFolders();
    const { result: run, seconds } = await timed(() =>
      dumpToS3(peer.url, `s3://backups/nightly\n${local}`, temp, SHORT),
    );
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^::error::S3 at ${peer.host} went silent within 1 s \\(idle timeout, 3 attempts\\) for ` +
            's3://backups/nightly/prod/.*: check that the endpoint is an S3 service this machine can reach, or ' +
            'raise input "idle-timeout-seconds"\\.$',
        ),
      ),
    ]);
    // Three attempts of the upload, and of each cleanup call, with the SDK's backoff in between: seconds, not hours.
    expect(seconds).toBeLessThan(30);
    expect(peer.connections()).toBeGreaterThanOrEqual(3);
    expect(run.stdout).not.toContain('secret-never-printed');
    expect(await leftIn(local)).toEqual([]);
    expect(await leftIn(temp)).toEqual([]);
  });

  it('an S3 endpoint that never accepts the connection (packets dropped) fails on the connect timeout', async () => {
    const peer = await startUnacceptingPeer();
    peers.push(peer);
    const { temp, local } = await jobFolders();
    const { result: run, seconds } = await timed(() =>
      dumpToS3(peer.url, `s3://backups/nightly\n${local}`, temp, SHORT),
    );
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^::error::S3 at ${peer.host} accepted no connection within 1 s \\(connect timeout, 3 attempts\\) for ` +
            's3://backups/nightly/prod/.*, or raise input "connect-timeout-seconds"\\.$',
        ),
      ),
    ]);
    expect(seconds).toBeLessThan(30);
    expect(run.stdout).not.toContain('secret-never-printed');
    expect(await leftIn(local)).toEqual([]);
    expect(await leftIn(temp)).toEqual([]);
  });

  it('a Qdrant that never accepts the connection fails on the connect timeout, in seconds', async () => {
    const peer = await startUnacceptingPeer();
    peers.push(peer);
    const { temp, local } = await jobFolders();
    const { result: run, seconds } = await timed(() =>
      runAction(
        'snapshot-qdrant',
        { 'qdrant-url': peer.url, name: 'vectors', 'storage-url': local, 'allow-unencrypted': 'true', ...SHORT },
        { env: { RUNNER_TEMP: temp } },
      ),
    );
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(`^::error::Qdrant at ${peer.url} accepted no connection within 1 s \\(connect timeout\\) for `),
      ),
    ]);
    expect(seconds).toBeLessThan(10);
    expect(await leftIn(local)).toEqual([]);
  });

  it('an S3 download that stops mid-body fails the drill on the idle timeout, naming the object', async () => {
    const s3 = await startTestS3();
    const bigger = await sampleDatabase(cluster, 40_000);
    try {
      const storage = `s3://${s3.bucket}/stall`;
      const dump = await runAction(
        'dump-postgres',
        { 'database-url': bigger, name: 'prod', 'storage-url': storage, 'encryption-recipients': keys.recipient },
        { env: s3.env },
      );
      expect(dump.errors).toEqual([]);
      // The listing and the manifest come back whole; the dump's body stops after its first 4 KiB.
      const proxy = await startStallingProxy(s3.endpoint, /GET \S*postgres\.dump/, 4096);
      try {
        const { result: drill, seconds } = await timed(() =>
          runAction(
            'restore-drill',
            {
              'storage-url': storage,
              name: 'prod',
              'dry-run': 'true',
              'encryption-identity': keys.identity,
              'idle-timeout-seconds': '1',
            },
            { env: { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint } },
          ),
        );
        expect(proxy.cut()).toBe(true);
        expect(drill.code, drill.stdout).toBe(1);
        expect(drill.errors).toEqual([
          expect.stringMatching(
            new RegExp(
              `^::error::Drill of \\S+ failed: S3 at 127\\.0\\.0\\.1:\\d+ went silent within 1 s \\(idle timeout\\) for ` +
                's3://backups/stall/prod/\\S+/postgres\\.dump\\.zst\\.age: check that the endpoint is an S3 service ' +
                'this machine can reach, or raise input "idle-timeout-seconds"\\.',
            ),
          ),
        ]);
        expect(seconds).toBeLessThan(30);
      } finally {
        await proxy.stop();
      }
    } finally {
      await s3.stop();
    }
  });

  it('an S3 endpoint that refuses the connection is named, after the retries', async () => {
    const port = await freePort();
    const { temp, local } = await jobFolders();
    const run = await dumpToS3(`http://127.0.0.1:${port}`, `${local}\ns3://backups/nightly`, temp);
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^::error::S3 at 127\\.0\\.0\\.1:${port} refused the connection \\(ECONNREFUSED, 3 attempts\\) for ` +
            's3://backups/nightly/prod/\\S+: check the endpoint and that this machine can reach it\\.$',
        ),
      ),
    ]);
    expect(await leftIn(local)).toEqual([]);
    expect(await leftIn(temp)).toEqual([]);
  });

  it('a Qdrant that accepts and never answers fails at its first GET, in seconds', async () => {
    const peer = await silent();
    const { temp, local } = await jobFolders();
    const { result: run, seconds } = await timed(() =>
      runAction(
        'snapshot-qdrant',
        { 'qdrant-url': peer.url, name: 'vectors', 'storage-url': local, 'allow-unencrypted': 'true', ...SHORT },
        { env: { RUNNER_TEMP: temp } },
      ),
    );
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors).toEqual([
      `::error::Qdrant at ${peer.url} went silent for 1 s (idle timeout) during GET /: check that the URL is ` +
        `Qdrant's REST port (6333) and that the server is healthy, or raise input "idle-timeout-seconds".`,
    ]);
    expect(seconds).toBeLessThan(10);
    expect(await leftIn(local)).toEqual([]);
    expect(await leftIn(temp)).toEqual([]);
  });
});

describe('an answer that is not the API is checked, not read', () => {
  it('a Qdrant URL serving an HTML page fails with one line naming what answered', async () => {
    const peer = await answering();
    const { temp, local } = await jobFolders();
    const run = await runAction(
      'snapshot-qdrant',
      { 'qdrant-url': peer.url, name: 'vectors', 'storage-url': local, 'allow-unencrypted': 'true' },
      { env: { RUNNER_TEMP: temp } },
    );
    expect(run.code, run.stdout).toBe(1);
    expect(run.errors).toEqual([
      `::error::Qdrant at ${peer.url} answered GET / with HTTP 200 text/html; charset=utf-8 ("<!DOCTYPE html> ` +
        `?<html><head><title>Sign in</title></head><b…"), not Qdrant's JSON: check that the URL is ` +
        "Qdrant's REST endpoint (port 6333 by default), not a web page or a proxy in front of it.",
    ]);
    expect(await leftIn(local)).toEqual([]);
  });

  /** The report step of a failed job, against whatever GITHUB_API_URL points at. */
  function report(apiUrl: string, extra: Record<string, string> = {}) {
    return runAction(
      'report',
      { name: 'prod-db', status: 'failure', 'github-token': 'ghs_examplexampleexample' },
      { env: { GITHUB_API_URL: apiUrl, GITHUB_REPOSITORY: 'acme/shop', GITHUB_RUN_ID: '7', ...extra } },
    );
  }

  it('the GitHub API serving HTML, failing with 500, refusing, or not resolving: one line naming it', async () => {
    const page = await answering();
    const broken = await answering({ status: 500, type: 'application/json', body: '{"message":"internal error"}' });
    const refused = await freePort();
    const where = 'check GITHUB_API_URL (https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server)';

    const html = await report(page.url);
    expect(html.code).toBe(1);
    expect(html.errors).toEqual([
      `::error::GitHub's API at ${page.host} answered GET /repos/acme/shop/issues with HTTP 200 text/html; ` +
        `charset=utf-8 ("<!DOCTYPE html> ?<html><head><title>Sign in</title></head><b…"), not JSON: ` +
        `${where} and that this runner can reach it.`,
    ]);
    const failing = await report(broken.url);
    expect(failing.errors).toEqual([
      `::error::GitHub's API at ${broken.host} answered GET /repos/acme/shop/issues with HTTP 500 ("internal ` +
        'error"): GitHub failed on its side; re-run the job later (https://www.githubstatus.com shows outages).',
    ]);
    const down = await report(`http://127.0.0.1:${refused}`);
    expect(down.errors).toEqual([
      `::error::GitHub's API at 127.0.0.1:${refused} refused the connection (ECONNREFUSED) for GET ` +
        `/repos/acme/shop/issues: ${where} and that this runner can reach it.`,
    ]);
    const unknown = await report('https://api.github.invalid');
    expect(unknown.errors).toEqual([
      expect.stringMatching(
        /^::error::GitHub's API at api\.github\.invalid could not be resolved \(DNS\) \((ENOTFOUND|EAI_AGAIN)\) for /,
      ),
    ]);
    for (const run of [failing, down, unknown]) expect(run.code).toBe(1);
  });

  it('GITHUB_REPOSITORY that is not owner/name is said to be so', async () => {
    const run = await report('http://127.0.0.1:9', { GITHUB_REPOSITORY: 'notarepo' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      '::error::GITHUB_REPOSITORY is "notarepo", not owner/repo: set it to the repository the issues belong in, ' +
        'e.g. acme/platform.',
    ]);
  });
});
