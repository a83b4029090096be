import fs from 'node:fs/promises';
import { Origin } from '../../actions/lib/action/origin.ts';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBackup, listBackups, writeManifest } from '../../actions/lib/manifest/catalog.ts';
import { checkBackupId, newBackupId } from '../../actions/lib/manifest/ids.ts';
import { parseManifest, type Manifest } from '../../actions/lib/manifest/schema.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { postgresManifest } from '../harness/manifests.ts';

function manifest(id: string, createdAt: string): Manifest {
  return postgresManifest(id, createdAt, '15.18');
}

describe('backup ids', () => {
  it('sort by time and validate', () => {
    const early = newBackupId('daily', new Date('2026-01-18T03:00:00Z'));
    const late = newBackupId('hourly', new Date('2026-01-18T04:00:00Z'));
    expect(early).toMatch(/^20260118T030000Z-daily-[0-9a-f]{4}$/);
    expect([late, early].sort()).toEqual([early, late]);
    expect(checkBackupId(early, Origin.input('backup-id'))).toBe(early);
    expect(() => checkBackupId('latest', Origin.input('backup-id'))).toThrow(
      'Input "backup-id" is "latest", not a backup id',
    );
  });
});

describe('manifest parsing', () => {
  it.each([
    ['{', 'is not valid JSON'],
    ['{"version":2}', 'has manifest version 2; this Backstop reads version 1'],
    ['{"version":1,"id":"x"}', 'lacks name, engine, createdAt, files'],
    [
      JSON.stringify({
        ...manifest('x', 't'),
        files: [{ path: '../../etc/passwd', bytes: 1, sha256: 'a'.repeat(64) }],
      }),
      'outside its backup folder',
    ],
  ])('%s is refused', (text, message) => {
    expect(() => parseManifest(text, 'm.json')).toThrow(message);
  });
});

describe('catalog', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-catalog-'));
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it("orders by the manifest's time, not the listing order, and skips incomplete folders", async () => {
    const store = new LocalStore(root);
    // Ids that sort the other way round from their manifests' times (e.g. a clock fixed after a bad run).
    await writeManifest([store], manifest('20260101T000000Z-daily-bbbb', '2026-01-03T00:00:00.000Z'));
    await writeManifest([store], manifest('20260102T000000Z-daily-aaaa', '2026-01-02T00:00:00.000Z'));
    await fs.mkdir(path.join(root, 'prod/20260104T000000Z-daily-cccc'), { recursive: true });
    await fs.writeFile(path.join(root, 'prod/20260104T000000Z-daily-cccc/postgres.dump.zst'), 'partial');
    const listed = await listBackups(store, 'prod');
    expect(listed.map((backup) => [backup.id, Boolean(backup.manifest)])).toEqual([
      ['20260101T000000Z-daily-bbbb', true],
      ['20260102T000000Z-daily-aaaa', true],
      ['20260104T000000Z-daily-cccc', false],
    ]);
    expect((await findBackup([store], 'prod')).manifest.id).toBe('20260101T000000Z-daily-bbbb');
    await expect(findBackup([store], 'prod', '20260104T000000Z-daily-cccc')).rejects.toThrow(
      'no complete backup 20260104T000000Z-daily-cccc',
    );
  });

  it('reads the first destination that has the backup, skipping one that is missing or broken', async () => {
    const empty = new LocalStore(path.join(root, 'empty'));
    const broken = {
      ...new LocalStore(root),
      displayUrl: 's3://down',
      list: () => {
        throw new Error('connection reset');
      },
    } as unknown as LocalStore;
    const found = await findBackup([empty, broken, new LocalStore(root)], 'prod');
    expect(found.manifest.id).toBe('20260101T000000Z-daily-bbbb');
    await expect(findBackup([empty, broken], 'prod')).rejects.toThrow(
      /no complete backup of "prod".*s3:\/\/down: connection reset/,
    );
  });
});
