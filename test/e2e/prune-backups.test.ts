import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putJson, writeManifest } from '../../actions/lib/manifest/catalog.ts';
import { pruneBackups } from '../../actions/lib/manifest/prune.ts';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { S3Store } from '../../actions/lib/storage/s3.ts';
import type { Store } from '../../actions/lib/storage/types.ts';
import { runAction } from '../harness/runner.ts';
import { envS3Settings, startTestS3, useS3Environment, type TestS3 } from '../harness/s3.ts';

let s3: TestS3;
let work: string;
beforeAll(async () => {
  s3 = await startTestS3();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-prune-'));
});
afterAll(async () => {
  await s3?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

function stamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** A complete backup (data file + manifest), optionally with a drill record. */
async function backup(stores: Store[], at: Date, drill?: boolean): Promise<string> {
  const id = `${stamp(at)}-daily-${Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0')}`;
  await Promise.all(
    stores.map((store) => store.put(`prod/${id}/postgres.dump.zst.age`, Readable.from([Buffer.alloc(1000)]))),
  );
  const manifest = {
    version: 1,
    id,
    name: 'prod',
    engine: 'postgres',
    kind: 'daily',
    createdAt: at.toISOString(),
    finishedAt: at.toISOString(),
    durationSeconds: 1,
    source: { serverVersion: '15', host: 'h' },
    tool: { name: 'backstop', version: '0' },
    encryption: null,
    files: [
      {
        path: 'postgres.dump.zst.age',
        bytes: 1000,
        sha256: 'a'.repeat(64),
        rawBytes: 1000,
        compression: 'zstd',
        encryption: 'age',
      },
    ],
  } as Manifest;
  await writeManifest(stores, manifest);
  if (drill !== undefined)
    await putJson(stores, `prod/${id}/drills/${stamp(at)}.json`, { verified: drill, startedAt: at.toISOString() });
  return id;
}

const DAY = 86_400_000;

describe('prune-backups', () => {
  it('applies GFS by manifest time in every destination, keeps the newest verified, and deletes old incomplete folders', async () => {
    const local = new LocalStore(path.join(work, 'gfs'));
    const restore = useS3Environment(s3); // the SDK reads credentials on first use: keep them for the whole test
    try {
      const remote = new S3Store(`s3://${s3.bucket}/gfs`, envS3Settings());
      const now = Date.now();
      // 10 daily backups; only the 8-days-old one has a verified drill, the newest one's drill failed.
      const ids: string[] = [];
      for (let age = 9; age >= 0; age--)
        ids.push(
          await backup(
            [local, remote],
            new Date(now - age * DAY - 3_600_000),
            age === 8 ? true : age === 0 ? false : undefined,
          ),
        );
      // An old incomplete folder (killed backup) and a young one (may still be running).
      await local.put(
        `prod/${stamp(new Date(now - 3 * DAY))}-daily-dead/postgres.dump.zst.age`,
        Readable.from([Buffer.alloc(10)]),
      );
      await local.put(
        `prod/${stamp(new Date(now - 60_000))}-daily-live/postgres.dump.zst.age`,
        Readable.from([Buffer.alloc(10)]),
      );
      const storage = `${path.join(work, 'gfs')}\ns3://${s3.bucket}/gfs`;
      const inputs = {
        'storage-url': storage,
        name: 'prod',
        'keep-last': '2',
        'keep-hourly': '0',
        'keep-daily': '3',
        'keep-weekly': '0',
        'keep-monthly': '0',
        'keep-quarterly': '0',
        'keep-yearly': '0',
      };

      const dry = await runAction('prune-backups', { ...inputs, 'dry-run': 'true' }, { env: s3.env });
      expect(dry.errors).toEqual([]);
      expect(dry.outputs).toMatchObject({ kept: '8', deleted: '13' }); // per destination: 4 kept; 6 + 1 incomplete (local only) deleted
      expect((await fs.readdir(path.join(work, 'gfs', 'prod'))).length).toBe(12); // nothing deleted in a dry run

      const run = await runAction('prune-backups', inputs, { env: s3.env });
      expect(run.errors).toEqual([]);
      expect(run.outputs).toMatchObject({ kept: '8', deleted: '13' });
      expect(Number(run.outputs['deleted-bytes'])).toBeGreaterThan(12 * 1000 + 10);
      const kept = (await fs.readdir(path.join(work, 'gfs', 'prod'))).sort();
      expect(kept).toEqual([ids[1], ids[7], ids[8], ids[9], `${stamp(new Date(now - 60_000))}-daily-live`].sort());
      expect(run.summary).toContain('newest verified');
      const remaining: string[] = [];
      for await (const object of remote.list('prod/')) remaining.push(object.key.split('/')[1]!);
      expect([...new Set(remaining)].sort()).toEqual([ids[1], ids[7], ids[8], ids[9]].sort());
    } finally {
      restore();
    }
  });

  it(
    'a store that refuses a deletion (S3 Object Lock) is reported, not fatal, and never leaves a half-deleted ' +
      'backup looking complete',
    async () => {
      const inner = new LocalStore(path.join(work, 'locked'));
      const now = Date.now();
      const old = await backup([inner], new Date(now - 5 * DAY));
      await backup([inner], new Date(now - DAY));
      const locked: Store = {
        ...inner,
        displayUrl: 's3://locked',
        list: (prefix) => inner.list(prefix),
        get: (key) => inner.get(key),
        head: (key) => inner.head(key),
        put: (key, body) => inner.put(key, body),
        urlOf: (key) => inner.urlOf(key),
        exists: () => inner.exists(),
        leftovers: (prefix) => inner.leftovers(prefix),
        removeLeftover: (leftover) => inner.removeLeftover(leftover),
        delete: async (keys) => {
          if (keys.some((key) => key.includes(old)))
            throw new Error('AccessDenied: object is WORM protected (Object Lock)');
          await inner.delete(keys);
        },
      };
      const [result] = await pruneBackups({
        stores: [locked],
        name: 'prod',
        policy: { last: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0, quarterly: 0, yearly: 0 },
        incompleteGraceHours: 24,
        dryRun: false,
        log: () => undefined,
      });
      expect(result!.refused).toEqual([{ id: old, error: 'AccessDenied: object is WORM protected (Object Lock)' }]);
      expect(result!.deleted).toEqual([]);
      // The refused backup is whole: its manifest and its data are both still there.
      expect(await inner.head(`prod/${old}/manifest.json`)).toBeGreaterThan(0);
      expect(await inner.head(`prod/${old}/postgres.dump.zst.age`)).toBe(1000);
    },
  );
});
