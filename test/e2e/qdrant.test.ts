import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { startCuttingProxy } from '../harness/cutting-proxy.ts';
import {
  startQdrantStandin,
  type QdrantStandin,
  type StandinCollection,
  type StandinOptions,
} from '../harness/qdrant/standin.ts';
import { runAction } from '../harness/runner.ts';
import { startTestS3, type TestS3 } from '../harness/s3.ts';

/**
 * snapshot-qdrant and the Qdrant restore drill, run as bundles against the Qdrant stand-in (every JSON response
 * it sends is checked against Qdrant's OpenAPI document) and an S3-compatible server.
 */
const COLLECTIONS: StandinCollection[] = [
  {
    name: 'trades',
    points: 843,
    vectors: { size: 384, distance: 'Cosine' },
    payloadSchema: { user_id: { data_type: 'integer', points: 843 } },
    snapshotBytes: 300_000,
  },
  {
    name: 'journal',
    points: 120,
    vectors: { text: { size: 768, distance: 'Dot' }, image: { size: 512, distance: 'Euclid' } },
    shardNumber: 2,
  },
  { name: 'playbooks', points: 0, vectors: { size: 384, distance: 'Cosine' } },
];
const ALIASES = [{ alias_name: 'trades-live', collection_name: 'trades' }];

let s3: TestS3;
let keys: KeyPair;
let work: string;
const standins: QdrantStandin[] = [];

async function standin(options: Partial<StandinOptions> = {}): Promise<QdrantStandin> {
  const started = await startQdrantStandin({ collections: structuredClone(COLLECTIONS), aliases: ALIASES, ...options });
  standins.push(started);
  return started;
}

beforeAll(async () => {
  [s3, keys] = await Promise.all([startTestS3(), newKeyPair()]);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-qdrant-'));
});

afterEach(() => {
  // Every JSON response the stand-in sent must have matched Qdrant's published schema.
  for (const server of standins) expect(server.violations).toEqual([]);
});

afterAll(async () => {
  await Promise.all([
    ...standins.map((server) => server.stop()),
    s3?.stop(),
    work && fs.rm(work, { recursive: true, force: true }),
  ]);
});

function snapshotInputs(
  qdrantUrl: string,
  storage: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'qdrant-url': qdrantUrl,
    name: 'qdrant-prod',
    'storage-url': storage,
    'encryption-recipients': keys.recipient,
    ...extra,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read manifests and Qdrant replies field by field.
function manifestOf(storage: string, id: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(storage, 'qdrant-prod', id, 'manifest.json'), 'utf8'));
}

describe('snapshot-qdrant', () => {
  it('backs up every collection to S3 and a folder, records aliases and configs, and deletes the server-side snapshots', async () => {
    const qdrant = await standin({ apiKey: 'qdrant-key-123456' });
    const local = path.join(work, 'all');
    const run = await runAction(
      'snapshot-qdrant',
      snapshotInputs(qdrant.url, `s3://${s3.bucket}/qdrant\n${local}`, {
        'qdrant-api-key': 'qdrant-key-123456',
        kind: 'daily',
      }),
      { env: s3.env },
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.points).toBe('963');
    expect(run.outputs['manifest-url']).toBe(
      `s3://${s3.bucket}/qdrant/qdrant-prod/${run.outputs['backup-id']}/manifest.json`,
    );
    const manifest = manifestOf(local, run.outputs['backup-id']!);
    expect(manifest).toMatchObject({
      engine: 'qdrant',
      kind: 'daily',
      source: { serverVersion: '1.19.0', nodes: [qdrant.url] },
    });
    expect(manifest.collections.map((c: { name: string }) => c.name)).toEqual(['journal', 'playbooks', 'trades']);
    const trades = manifest.collections.find((c: { name: string }) => c.name === 'trades');
    expect(trades).toMatchObject({
      points: 843,
      vectorsConfig: { size: 384, distance: 'Cosine' },
      shardNumber: 1,
      payloadSchema: { user_id: { data_type: 'integer', points: 843 } },
      aliases: ['trades-live'],
      snapshots: [{ node: 0, file: 'qdrant/node-0/trades.snapshot.zst.age', empty: false }],
    });
    expect(manifest.collections.find((c: { name: string }) => c.name === 'journal')).toMatchObject({
      shardNumber: 2,
      vectorsConfig: COLLECTIONS[1]!.vectors,
    });
    const file = manifest.files.find((f: { path: string }) => f.path === trades.snapshots[0].file);
    expect(file.rawBytes).toBe(300_000);
    expect(file.rawSha256).toBe(trades.snapshots[0].qdrantChecksum);
    for (const collection of COLLECTIONS) expect(qdrant.snapshots(collection.name)).toEqual([]);
    expect(run.summary).toContain('| trades | 843 | 384d Cosine | trades-live |');
    expect(run.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain('qdrant-key-123456');
    expect(qdrant.requests.filter((r) => r.path !== '/').every((r) => r.apiKey === 'qdrant-key-123456')).toBe(true);
  });

  it('backs up a subset, and keeps the server-side snapshot when asked', async () => {
    const qdrant = await standin();
    const storage = path.join(work, 'subset');
    const run = await runAction(
      'snapshot-qdrant',
      snapshotInputs(qdrant.url, storage, { collections: 'trades', 'keep-remote-snapshot': 'true' }),
    );
    expect(run.code, run.stdout).toBe(0);
    expect(manifestOf(storage, run.outputs['backup-id']!).collections.map((c: { name: string }) => c.name)).toEqual([
      'trades',
    ]);
    expect(qdrant.snapshots('trades')).toHaveLength(1);
    expect(qdrant.snapshots('journal')).toEqual([]);
  });

  it.each([
    [undefined, 'it needs an API key; set input "qdrant-api-key"'],
    ['wrong-key-000000', 'the API key is wrong or lacks the rights; check input "qdrant-api-key"'],
  ])('a missing or wrong API key (%s) fails with one line naming the input', async (key, message) => {
    const qdrant = await standin({ apiKey: 'right-key-999999' });
    const storage = path.join(work, `key-${key ?? 'none'}`);
    const run = await runAction(
      'snapshot-qdrant',
      snapshotInputs(qdrant.url, storage, key ? { 'qdrant-api-key': key } : {}),
    );
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(new RegExp(`refused the request \\(HTTP 401.*${message.replace(/[()"]/g, '.')}`)),
    ]);
    await expect(fs.access(storage)).rejects.toThrow();
  });

  it('a missing collection fails before anything is written, listing what exists', async () => {
    const qdrant = await standin();
    const storage = path.join(work, 'missing');
    const run = await runAction(
      'snapshot-qdrant',
      snapshotInputs(qdrant.url, storage, { collections: 'trades,embeddings' }),
    );
    expect(run.errors).toEqual([
      expect.stringContaining(
        `Input "collections" names embeddings, which Qdrant at ${qdrant.url} does not have (it has: journal, ` +
          `playbooks, trades)`,
      ),
    ]);
    await expect(fs.access(storage)).rejects.toThrow();
  });

  it("Qdrant's checksum disagreeing with the downloaded bytes fails the backup: no manifest, nothing kept", async () => {
    const qdrant = await standin({ checksum: 'wrong' });
    const storage = path.join(work, 'bad-checksum');
    const run = await runAction('snapshot-qdrant', snapshotInputs(qdrant.url, storage));
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /Qdrant's checksum of the snapshot .* is [0-9a-f]{64}; the downloaded bytes hash to [0-9a-f]{64}/,
      ),
    ]);
    expect(await fs.readdir(path.join(storage, 'qdrant-prod'), { recursive: true }).catch(() => [])).toEqual(
      expect.not.arrayContaining([expect.stringContaining('manifest.json')]),
    );
    const left = (await fs.readdir(storage, { recursive: true }).catch(() => [] as string[])).filter((entry) =>
      /\.age$/.test(String(entry)),
    );
    expect(left).toEqual([]);
    expect(qdrant.snapshots('journal')).toEqual([]); // the server-side snapshot is deleted anyway
  });

  it('works when Qdrant gives no checksum (S3 snapshot storage), computing its own', async () => {
    const qdrant = await standin({ checksum: 'absent' });
    const storage = path.join(work, 'no-checksum');
    const run = await runAction('snapshot-qdrant', snapshotInputs(qdrant.url, storage, { collections: 'trades' }));
    expect(run.code, run.stdout).toBe(0);
    const manifest = manifestOf(storage, run.outputs['backup-id']!);
    expect(manifest.collections[0].snapshots[0].qdrantChecksum).toBeNull();
    expect(manifest.files[0].rawSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.summary).toContain('computed (Qdrant gave none)');
  });

  it('snapshots every node of a cluster and records a node without shards as empty', async () => {
    const [first, second] = [await standin(), await standin({ emptyNode: true })];
    const storage = path.join(work, 'cluster');
    const run = await runAction(
      'snapshot-qdrant',
      snapshotInputs(`${first.url}, ${second.url}`, storage, { collections: 'trades' }),
    );
    expect(run.code, run.stdout).toBe(0);
    const manifest = manifestOf(storage, run.outputs['backup-id']!);
    expect(manifest.source.nodes).toEqual([first.url, second.url]);
    expect(manifest.collections[0].snapshots).toEqual([
      expect.objectContaining({ node: 0, empty: false, file: 'qdrant/node-0/trades.snapshot.zst.age' }),
      expect.objectContaining({ node: 1, empty: true, file: 'qdrant/node-1/trades.snapshot.zst.age' }),
    ]);
    expect(run.summary).toContain('2 (1 without shards)');
  });

  it('an interrupted download leaves no manifest and no files', async () => {
    const qdrant = await standin({ breakDownloadAfterBytes: 100_000 });
    const storage = `s3://${s3.bucket}/interrupted`;
    const local = path.join(work, 'interrupted');
    const run = await runAction(
      'snapshot-qdrant',
      snapshotInputs(qdrant.url, `${storage}\n${local}`, { collections: 'trades' }),
      { env: s3.env },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);
    // The download is what failed: the destinations, torn down with it, are not blamed.
    expect(run.errors).toEqual([
      expect.stringMatching(
        /^::error::The download of the snapshot trades-\S+ of trades on http:\S+ broke off before its 300000 bytes arrived \(.+\)\. Nothing was kept/,
      ),
    ]);
    expect(
      (await fs.readdir(local, { recursive: true }).catch(() => [] as string[])).filter((e) =>
        /\.(age|json)$/.test(String(e)),
      ),
    ).toEqual([]);
    const drill = await runAction(
      'restore-drill',
      { 'storage-url': storage, name: 'qdrant-prod', 'dry-run': 'true' },
      { env: s3.env },
    );
    expect(drill.errors).toEqual([expect.stringContaining('no complete backup of "qdrant-prod"')]);
  });

  it('an upload cut off mid-stream leaves no manifest and no file in any destination, nor the server-side snapshot', async () => {
    const qdrant = await standin({ collections: [{ ...COLLECTIONS[0]!, snapshotBytes: 40 * 1024 ** 2 }] });
    // The network to S3 fails for good halfway through the ~40 MB object (multipart parts of 8 MiB).
    const proxy = await startCuttingProxy(s3.endpoint, 20 * 1024 ** 2);
    const local = path.join(work, 'cut');
    try {
      const run = await runAction('snapshot-qdrant', snapshotInputs(qdrant.url, `s3://${s3.bucket}/cut\n${local}`), {
        env: { ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint },
      });
      expect(proxy.cut()).toBe(true);
      expect(run.code, run.stdout).toBe(1);
      expect(run.errors).toEqual([
        // The proxy drops the connections mid-upload and refuses the retries: the error names S3, the code, the object.
        expect.stringMatching(
          new RegExp(
            '^::error::S3 at 127\\.0\\.0\\.1:\\d+ [a-z ]+ \\((ECONNRESET|EPIPE|ECONNREFUSED), 3 attempts\\) for ' +
              's3://backups/cut/qdrant-prod/\\S+/qdrant/node-0/trades\\.snapshot\\.zst\\.age: check the endpoint',
          ),
        ),
      ]);
      expect(await fs.readdir(local, { recursive: true }).catch(() => [] as string[])).not.toContainEqual(
        expect.stringMatching(/\.(age|json)$|partial/),
      );
      const drill = await runAction(
        'restore-drill',
        { 'storage-url': `s3://${s3.bucket}/cut`, name: 'qdrant-prod', 'dry-run': 'true' },
        { env: s3.env },
      );
      expect(drill.errors).toEqual([expect.stringContaining('no complete backup of "qdrant-prod"')]);
      expect(qdrant.snapshots('trades')).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('a backup killed mid-upload leaves no manifest and is never picked by the drill', async () => {
    const qdrant = await standin({ collections: [{ ...COLLECTIONS[0]!, snapshotBytes: 200 * 1024 ** 2 }] });
    const local = path.join(work, 'killed');
    const run = await runAction('snapshot-qdrant', snapshotInputs(qdrant.url, local), {
      onStart: (child) => {
        // Wait until the upload is under way (a partial file exists), then SIGKILL: no cleanup code runs.
        const poll = setInterval(async () => {
          const entries = await fs.readdir(local, { recursive: true }).catch(() => [] as string[]);
          if (entries.some((entry) => entry.includes('.partial-'))) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 5);
        child.on('close', () => clearInterval(poll));
      },
    });
    expect(run.code).toBeNull();
    const leftovers = await fs.readdir(local, { recursive: true });
    expect(leftovers).toContainEqual(expect.stringContaining('.partial-'));
    expect(leftovers).not.toContainEqual(expect.stringMatching(/manifest\.json$/));
    const drill = await runAction('restore-drill', { 'storage-url': local, name: 'qdrant-prod', 'dry-run': 'true' });
    expect(drill.errors).toEqual([expect.stringContaining('no complete backup of "qdrant-prod"')]);
  });

  it('streams a 1 GB snapshot with the action’s peak RSS under 200 MB', async () => {
    const qdrant = await startQdrantStandin({
      collections: [
        { name: 'big', points: 5_000_000, vectors: { size: 768, distance: 'Cosine' }, snapshotBytes: 1024 ** 3 },
      ],
    });
    standins.push(qdrant);
    const storage = path.join(work, 'big');
    let peak = 0;
    const run = await runAction('snapshot-qdrant', snapshotInputs(qdrant.url, storage), {
      onStart: (child) => {
        const timer = setInterval(() => {
          try {
            const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
          } catch {
            clearInterval(timer);
          }
        }, 20);
        child.on('close', () => clearInterval(timer));
      },
    });
    expect(run.code, run.stdout).toBe(0);
    expect(manifestOf(storage, run.outputs['backup-id']!).files[0].rawBytes).toBe(1024 ** 3);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(200 * 1024 * 1024);
  });
});

describe('restore-drill of a Qdrant backup', () => {
  async function backup(
    storage: string,
    options: Partial<StandinOptions> = {},
  ): Promise<{ source: QdrantStandin; id: string }> {
    const source = await standin(options);
    const run = await runAction('snapshot-qdrant', snapshotInputs(source.url, storage));
    expect(run.code, run.stdout).toBe(0);
    return { source, id: run.outputs['backup-id']! };
  }

  it('recovers every collection into a scratch collection, verifies it, deletes it, and never touches the originals', async () => {
    const storage = path.join(work, 'drill');
    const { source, id } = await backup(storage);
    const target = await startQdrantStandin({
      collections: [{ name: 'trades', points: 1, vectors: { size: 3, distance: 'Dot' } }],
      apiKey: 'target-key-42424242',
    });
    standins.push(target);
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
      'target-url': target.url,
      'qdrant-api-key': 'target-key-42424242',
      'max-restore-seconds': '600',
    });
    expect(drill.errors).toEqual([]);
    expect(drill.outputs).toMatchObject({ verified: 'true', 'backup-id': id });
    const suffix = id.slice(-4);
    expect(target.uploads.map((upload) => upload.collection).sort()).toEqual([
      `journal-drill-${suffix}`,
      `playbooks-drill-${suffix}`,
      `trades-drill-${suffix}`,
    ]);
    for (const upload of target.uploads)
      expect(upload.query).toMatchObject({ priority: 'snapshot', wait: 'true', checksum: upload.sha256 });
    expect(target.collectionNames()).toEqual(['trades']); // scratch collections gone, the original untouched
    expect(target.collection('trades')!.points).toBe(1);
    expect(source.collectionNames().sort()).toEqual(['journal', 'playbooks', 'trades']);
    expect(drill.summary).toContain(`| trades | trades-drill-${suffix} (deleted after) | 843 | 843 | ✅ same |`);
    const record = JSON.parse(
      readFileSync(
        path.join(
          storage,
          'qdrant-prod',
          id,
          'drills',
          (await fs.readdir(path.join(storage, 'qdrant-prod', id, 'drills')))[0]!,
        ),
        'utf8',
      ),
    );
    expect(record).toMatchObject({ engine: 'qdrant', mode: 'drill', verified: true, checksumsVerified: true });
  });

  it('leaves no scratch collection behind when verification fails', async () => {
    const storage = path.join(work, 'drill-fails');
    const { id } = await backup(storage);
    const manifestPath = path.join(storage, 'qdrant-prod', id, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
    manifest.collections.find((c: { name: string }) => c.name === 'trades').points = 844;
    await fs.writeFile(manifestPath, JSON.stringify(manifest));
    const target = await standin({ collections: [] });
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
      'target-url': target.url,
    });
    expect(drill.code).toBe(1);
    expect(drill.outputs.verified).toBe('false');
    expect(drill.errors[0]).toContain('trades: 843 points after recovery, the manifest says 844');
    expect(target.collectionNames()).toEqual([]);
  });

  it("Qdrant refusing the upload's checksum (HTTP 400) fails the drill clearly and leaves nothing", async () => {
    const storage = path.join(work, 'drill-400');
    const { id } = await backup(storage);
    const manifestPath = path.join(storage, 'qdrant-prod', id, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
    const file = manifest.files.find((f: { path: string }) => f.path.includes('trades'));
    file.rawSha256 = '0'.repeat(64);
    await fs.writeFile(manifestPath, JSON.stringify(manifest));
    const target = await standin({ collections: [] });
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
      'target-url': target.url,
    });
    expect(drill.code).toBe(1);
    expect(drill.errors[0]).toMatch(
      /trades: Qdrant at .* POST \/collections\/trades-drill-[0-9a-f]{4}\/snapshots\/upload failed with HTTP 400: Checksum mismatch/,
    );
    expect(target.collectionNames()).toEqual([]);
  });

  it('a real restore (restore-as) recreates the collections and their aliases, and refuses to replace one', async () => {
    const storage = path.join(work, 'restore');
    await backup(storage);
    const target = await standin({ collections: [], aliases: [] });
    const restore = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
      'target-url': target.url,
      'restore-as': 'trades=trades_restored, journal',
    });
    expect(restore.errors).toEqual([]);
    expect(target.collectionNames()).toEqual(['journal', 'trades_restored']);
    expect(target.collection('trades_restored')!.points).toBe(843);
    const aliases = await (await fetch(`${target.url}/aliases`)).json();
    expect(aliases.result.aliases).toEqual([{ alias_name: 'trades-live', collection_name: 'trades_restored' }]);
    const again = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
      'target-url': target.url,
      'restore-as': '*',
    });
    expect(again.errors).toEqual([expect.stringContaining('already exists')]);
    expect(target.collection('trades_restored')!.points).toBe(843);
  });

  it('dry-runs without a target, warns on a version skew, and needs a target otherwise', async () => {
    const storage = path.join(work, 'dry');
    await backup(storage);
    const dry = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
      'dry-run': 'true',
    });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.summary).toContain('✅ sha256 of every file matches the manifest');
    const noTarget = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
    });
    expect(noTarget.errors).toEqual([
      expect.stringContaining('Input "target-url" is required to drill a Qdrant backup'),
    ]);
    const newer = await standin({ collections: [], version: '1.21.0' });
    const skewed = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': keys.identity,
      'target-url': newer.url,
    });
    expect(skewed.code, skewed.stdout).toBe(0);
    expect(skewed.stdout).toContain('::warning::The backup was made by Qdrant 1.19.0; the target runs 1.21.0.');
  });

  it('a wrong identity fails with one line and creates nothing on the target', async () => {
    const storage = path.join(work, 'wrong-key');
    await backup(storage);
    const target = await standin({ collections: [] });
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'qdrant-prod',
      'encryption-identity': (await newKeyPair()).identity,
      'target-url': target.url,
    });
    expect(drill.errors).toEqual([expect.stringContaining('Input "encryption-identity" does not match any recipient')]);
    expect(target.collectionNames()).toEqual([]);
  });
});
