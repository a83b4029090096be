import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeManifest } from '../../actions/lib/manifest/catalog.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { postgresManifest } from '../harness/manifests.ts';
import { startQdrantStandin, type QdrantStandin, type StandinCollection } from '../harness/qdrant/standin.ts';
import { runAction } from '../harness/runner.ts';

/** snapshot-qdrant against the previous backup of its name: points per collection, and a disk too small. */
const collections = (trades: number): StandinCollection[] => [
  { name: 'trades', points: trades, vectors: { size: 8, distance: 'Cosine' } },
  { name: 'journal', points: 120, vectors: { size: 8, distance: 'Cosine' } },
];

let keys: KeyPair;
let work: string;
const standins: QdrantStandin[] = [];

beforeAll(async () => {
  keys = await newKeyPair();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-qdrant-trends-'));
});
afterAll(async () => {
  await Promise.all([...standins.map((server) => server.stop()), fs.rm(work, { recursive: true, force: true })]);
});

async function snapshot(trades: number, storage: string, extra: Record<string, string> = {}) {
  const qdrant = await startQdrantStandin({ collections: collections(trades) });
  standins.push(qdrant);
  const run = await runAction('snapshot-qdrant', {
    'qdrant-url': qdrant.url,
    name: 'vectors',
    'storage-url': storage,
    'encryption-recipients': keys.recipient,
    ...extra,
  });
  expect(qdrant.violations).toEqual([]);
  return { run, qdrant };
}

describe('snapshot-qdrant trends and capacity', () => {
  it('compares points with the previous backup and fails on a drop after the manifest when asked', async () => {
    const storage = path.join(work, 'trends');
    const first = await snapshot(843, storage);
    expect(first.run.code, first.run.stdout).toBe(0);
    expect(first.run.summary).toContain('nothing to compare with yet');
    const second = await snapshot(400, storage, { 'fail-on-row-drop': 'true' });
    expect(second.run.code).toBe(1);
    expect(second.run.summary).toContain(`### Trends against ${first.run.outputs['backup-id']}`);
    expect(second.run.summary).toMatch(/\| ⚠️ trades \| 843 \| 400 \| −443 \(-52\.6%\) \|/);
    expect(second.run.summary).toContain('1 of 2 collections changed their points.');
    expect(second.run.errors.join('\n').replace(/%25/g, '%')).toContain(
      `is stored, but trades lost 443 of 843 points (52.6%) since backup ${first.run.outputs['backup-id']}`,
    );
    const id = second.run.outputs['backup-id']!;
    await fs.access(path.join(storage, 'vectors', id, 'manifest.json'));
  });

  it('refuses to start when the local destination cannot hold the next backup: no snapshot taken', async () => {
    const storage = path.join(work, 'full');
    const previous = postgresManifest('20260101T000000Z-daily-0001', '2026-01-01T00:00:00.000Z');
    previous.name = 'vectors';
    previous.engine = 'qdrant';
    previous.files[0]!.bytes = 2 ** 52;
    await writeManifest([new LocalStore(storage)], previous);
    const { run, qdrant } = await snapshot(843, storage);
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(/ free; the next backup needs about [\d.]+ TiB .*nothing was written/),
    ]);
    expect(qdrant.snapshots('trades')).toEqual([]);
    expect(qdrant.requests.filter((request) => request.path.includes('/snapshots'))).toEqual([]);
    expect(await fs.readdir(path.join(storage, 'vectors'))).toEqual([previous.id]);
  });
});
