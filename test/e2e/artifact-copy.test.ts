import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../actions/lib/storage/s3.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import {
  startArtifactStandin,
  readZip,
  type ArtifactStandin,
  type StandinArtifact,
} from '../harness/artifact-standin.ts';
import { sampleDatabase, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { startQdrantStandin, type QdrantStandin } from '../harness/qdrant/standin.ts';
import { runAction, type ActionRun } from '../harness/runner.ts';
import { envS3Settings, startTestS3, useS3Environment, type TestS3 } from '../harness/s3.ts';

/**
 * The artifact copy (artifact-retention-days), run as bundles against a stand-in of the GitHub Actions results
 * service that speaks @actions/artifact's protocol (Twirp + Azure block blobs) and records what was uploaded.
 */
let cluster: ScratchCluster;
let s3: TestS3;
let keys: KeyPair;
let sourceUrl: string;
let work: string;
const standins: ArtifactStandin[] = [];
const qdrants: QdrantStandin[] = [];

async function standin(options: Parameters<typeof startArtifactStandin>[0] = {}): Promise<ArtifactStandin> {
  const started = await startArtifactStandin(options);
  standins.push(started);
  return started;
}

beforeAll(async () => {
  [cluster, s3, keys] = await Promise.all([startTestCluster(), startTestS3(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, 2_000);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-artifact-'));
});

afterEach(() => {
  // Every request the bundles sent followed the library's protocol, as its generated types declare it.
  for (const server of standins) expect(server.violations).toEqual([]);
  for (const server of qdrants) expect(server.violations).toEqual([]);
});

afterAll(async () => {
  await Promise.all([
    ...standins.map((server) => server.stop()),
    ...qdrants.map((server) => server.stop()),
    cluster?.stop(),
    s3?.stop(),
    work && fs.rm(work, { recursive: true, force: true }),
  ]);
});

function dumpInputs(storage: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'database-url': sourceUrl,
    name: 'prod-db',
    'storage-url': storage,
    'encryption-recipients': keys.recipient,
    'artifact-retention-days': '7',
    ...extra,
  };
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const warnings = (run: ActionRun): string[] => run.stdout.split('\n').filter((line) => line.startsWith('::warning'));
const notices = (run: ActionRun): string[] => run.stdout.split('\n').filter((line) => line.startsWith('::notice'));

/** The artifact holds exactly the backup folder's files, byte for byte, stored (not recompressed). */
async function expectArtifactHoldsBackup(artifact: StandinArtifact, folder: string): Promise<void> {
  const manifestBytes = await fs.readFile(path.join(folder, 'manifest.json'));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as {
    files: { path: string; sha256: string; bytes: number }[];
  };
  const entries = readZip(artifact.blob);
  expect(entries.map((entry) => entry.name).sort()).toEqual(
    [...manifest.files.map((file) => file.path), 'manifest.json'].sort(),
  );
  for (const entry of entries) {
    expect(entry.method, entry.name).toBe(0);
    if (entry.name === 'manifest.json') {
      expect(entry.data.equals(manifestBytes)).toBe(true);
      continue;
    }
    const file = manifest.files.find((candidate) => candidate.path === entry.name)!;
    expect(entry.data.length, entry.name).toBe(file.bytes);
    expect(sha256(entry.data), entry.name).toBe(file.sha256);
    expect(sha256(await fs.readFile(path.join(folder, entry.name))), entry.name).toBe(file.sha256);
  }
  // What FinalizeArtifact reported is what arrived.
  expect(artifact.reportedSha256).toBe(artifact.sha256);
  expect(artifact.reportedSize).toBe(artifact.blob.length);
}

describe('dump-postgres artifact copy', () => {
  it('uploads the complete backup from the first local folder as one artifact, kept for the given days', async () => {
    const service = await standin();
    const first = path.join(work, 'first');
    const second = path.join(work, 'second');
    const run = await runAction('dump-postgres', dumpInputs(`${first}\n${second}`), { env: service.env });
    expect(run.errors).toEqual([]);
    expect(run.code, run.stdout).toBe(0);
    expect(warnings(run)).toEqual([]);
    const id = run.outputs['backup-id']!;

    expect(service.artifacts).toHaveLength(1);
    const artifact = service.artifacts[0]!;
    expect(run.outputs['artifact-id']).toBe(artifact.id);
    expect(artifact).toMatchObject({
      name: `backstop-prod-db-${id}`,
      mimeType: 'application/zip',
      contentType: 'application/zip',
      workflowRunBackendId: service.workflowRunBackendId,
      workflowJobRunBackendId: service.workflowJobRunBackendId,
    });
    const sevenDays = Date.now() + 7 * 86_400_000;
    expect(Math.abs(artifact.expiresAt!.getTime() - sevenDays)).toBeLessThan(2 * 3_600_000); // a DST change moves local days by an hour
    await expectArtifactHoldsBackup(artifact, path.join(first, 'prod-db', id));

    expect(run.summary).toContain(`backstop-prod-db-${id}`);
    expect(run.summary).toContain('kept 7 days');
    expect(run.stdout).toContain(`Artifact backstop-prod-db-${id} uploaded (id ${artifact.id}`);
    expect(`${run.stdout}${run.stderr}`).not.toContain(service.token);
  });

  it('does not copy a backup bigger than artifact-max-mb: a notice, exit 0, nothing uploaded', async () => {
    const service = await standin();
    const local = path.join(work, 'too-big');
    const run = await runAction('dump-postgres', dumpInputs(local, { 'artifact-max-mb': '0.001' }), {
      env: service.env,
    });
    expect(run.code, run.stdout).toBe(0);
    expect(warnings(run)).toEqual([]);
    expect(notices(run)).toHaveLength(1);
    expect(notices(run)[0]).toContain('over artifact-max-mb (0.001 MiB)');
    expect(run.outputs['artifact-id']).toBe('');
    expect(run.summary).toContain('No artifact copy');
    expect(service.requests).toEqual([]);
    await fs.access(path.join(local, 'prod-db', run.outputs['backup-id']!, 'manifest.json'));
  });

  it('fails before anything is written when no storage-url destination is a local folder', async () => {
    const service = await standin();
    const run = await runAction('dump-postgres', dumpInputs(`s3://${s3.bucket}/no-local`), {
      env: { ...s3.env, ...service.env },
    });
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('Input "artifact-retention-days"');
    expect(run.errors[0]).toContain('${{ runner.temp }}/backstop');
    expect(run.outputs['backup-id']).toBeUndefined();
    expect(service.requests).toEqual([]);
    const restore = useS3Environment(s3);
    try {
      const written: string[] = [];
      for await (const object of new S3Store(`s3://${s3.bucket}/no-local`, envS3Settings()).list(''))
        written.push(object.key);
      expect(written).toEqual([]);
    } finally {
      restore();
    }
  });

  it('refuses a retention out of range or not a whole number', async () => {
    for (const days of ['0', '91', '7.5', 'week']) {
      const run = await runAction(
        'dump-postgres',
        dumpInputs(path.join(work, 'bad-days'), { 'artifact-retention-days': days }),
      );
      expect(run.code, days).toBe(1);
      expect(run.errors, days).toHaveLength(1);
      expect(run.errors[0], days).toContain('Input "artifact-retention-days"');
    }
  });

  it('warns and succeeds when not on a runner (no ACTIONS_RUNTIME_TOKEN)', async () => {
    const local = path.join(work, 'no-runner');
    const run = await runAction('dump-postgres', dumpInputs(local));
    expect(run.code, run.stdout).toBe(0);
    expect(warnings(run)).toHaveLength(1);
    expect(warnings(run)[0]).toContain('ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL are not set');
    expect(run.outputs['artifact-id']).toBe('');
    expect(run.summary).toContain('No artifact copy');
    await fs.access(path.join(local, 'prod-db', run.outputs['backup-id']!, 'manifest.json'));
  });

  it('warns and succeeds when the service refuses the upload; the backup stays complete', async () => {
    // 403 is not retried by the library (only 429 and 5xx are, for seconds); "insufficient usage" is how the
    // service says the storage quota is used up.
    const service = await standin({
      refuseCreate: { status: 403, code: 'permission_denied', msg: 'insufficient usage to create artifact' },
    });
    const local = path.join(work, 'refused');
    const started = Date.now();
    const run = await runAction('dump-postgres', dumpInputs(local), { env: service.env });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.errors).toEqual([]);
    expect(run.code, run.stdout).toBe(0);
    expect(warnings(run)).toHaveLength(1);
    expect(warnings(run)[0]).toContain(`Artifact copy backstop-prod-db-${run.outputs['backup-id']} failed`);
    expect(warnings(run)[0]).toContain('quota');
    expect(run.outputs['artifact-id']).toBe('');
    expect(run.summary).toContain('Artifact copy failed');
    expect(service.artifacts).toEqual([]);
    expect(service.requests).toEqual(['POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact 403']);
    await fs.access(path.join(local, 'prod-db', run.outputs['backup-id']!, 'manifest.json'));
    expect(`${run.stdout}${run.stderr}`).not.toContain(service.token);
  });
});

describe('snapshot-qdrant artifact copy', () => {
  it('uploads every node snapshot and the manifest as one artifact', async () => {
    const qdrant = await startQdrantStandin({
      collections: [
        // Bigger than the library's 8 MiB block: the blob is assembled from several blocks, in the listed order.
        { name: 'trades', points: 843, vectors: { size: 384, distance: 'Cosine' }, snapshotBytes: 9_000_000 },
        { name: 'journal', points: 12, vectors: { size: 768, distance: 'Dot' } },
      ],
    });
    qdrants.push(qdrant);
    const service = await standin();
    const local = path.join(work, 'qdrant');
    const run = await runAction(
      'snapshot-qdrant',
      {
        'qdrant-url': qdrant.url,
        name: 'qdrant-prod',
        'storage-url': local,
        'encryption-recipients': keys.recipient,
        'artifact-retention-days': '1',
      },
      { env: service.env },
    );
    expect(run.errors).toEqual([]);
    expect(run.code, run.stdout).toBe(0);
    expect(warnings(run)).toEqual([]);
    expect(service.artifacts).toHaveLength(1);
    const artifact = service.artifacts[0]!;
    expect(artifact.name).toBe(`backstop-qdrant-prod-${run.outputs['backup-id']}`);
    expect(run.outputs['artifact-id']).toBe(artifact.id);
    expect(Math.abs(artifact.expiresAt!.getTime() - (Date.now() + 86_400_000))).toBeLessThan(2 * 3_600_000);
    await expectArtifactHoldsBackup(artifact, path.join(local, 'qdrant-prod', run.outputs['backup-id']!));
    expect(readZip(artifact.blob).map((entry) => entry.name)).toContain('qdrant/node-0/trades.snapshot.zst.age');
    expect(artifact.blocks).toBeGreaterThan(1);
    expect(run.summary).toContain('kept 1 day');
  });
});
