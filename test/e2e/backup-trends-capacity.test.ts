import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeManifest } from '../../actions/lib/manifest/catalog.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { postgresManifest } from '../harness/manifests.ts';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';

/** dump-postgres against the previous backup of its name: trends and row drops, and refusing a disk too small. */
let cluster: ScratchCluster;
let keys: KeyPair;
let url: string;
let work: string;

beforeAll(async () => {
  [cluster, keys] = await Promise.all([startTestCluster(), newKeyPair()]);
  url = await emptyDatabase(cluster);
  await sql(
    url,
    `CREATE TABLE events AS SELECT g AS id FROM generate_series(1, 1000) g;
     CREATE TABLE audit AS SELECT g AS id FROM generate_series(1, 100) g;
     CREATE TABLE scratch AS SELECT g AS id FROM generate_series(1, 10) g;`,
  );
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-trends-'));
});
afterAll(async () => {
  await Promise.all([cluster?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

function dump(storage: string, extra: Record<string, string> = {}) {
  return runAction('dump-postgres', {
    'database-url': url,
    name: 'prod',
    'storage-url': storage,
    'encryption-recipients': keys.recipient,
    ...extra,
  });
}

async function folders(storage: string): Promise<string[]> {
  return (await fs.readdir(path.join(storage, 'prod')).catch(() => [])).sort();
}

describe('dump-postgres trends', () => {
  it('compares rows and bytes with the previous backup, warns on a drop, and fails after the manifest when asked', async () => {
    const storage = path.join(work, 'trends');
    const first = await dump(storage);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.summary).toContain('The first complete backup of this name: nothing to compare with yet.');

    // 5% of audit goes (under the 10% default), half of events, and scratch is dropped.
    await sql(url, 'DELETE FROM events WHERE id > 500; DELETE FROM audit WHERE id > 95; DROP TABLE scratch');
    const second = await dump(storage);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.summary).toContain(`### Trends against ${first.outputs['backup-id']}`);
    expect(second.summary).toMatch(/\| ⚠️ public\.events \| 1,000 \| 500 \| −500 \(-50\.0%\) \|/);
    expect(second.summary).toMatch(/\| ⚠️ public\.scratch \| 10 \| — \| gone \|/);
    expect(second.summary).toMatch(/\| public\.audit \| 100 \| 95 \| −5 \(-5\.0%\) \|/);
    expect(second.summary).toContain('3 of 3 tables changed their rows.');
    // Bytes per table, read from the dump stream: ids 1–1000 in COPY text are 3,893 bytes, ids 1–500 1,892.
    const manifestOf = async (run: typeof first) =>
      JSON.parse(await fs.readFile(path.join(storage, 'prod', run.outputs['backup-id']!, 'manifest.json'), 'utf8'));
    const events = (m: { tables: { name: string; dataBytes?: number }[] }) =>
      m.tables.find((table) => table.name === 'events')?.dataBytes;
    expect(events(await manifestOf(first))).toBe(3893);
    expect(events(await manifestOf(second))).toBe(1892);
    expect(second.summary).toMatch(
      /\| ⚠️ public\.events \| 1,000 \| 500 \| [^|]+ \| 3\.8 KiB \| 1\.8 KiB \| −2\.0 KiB \(-51\.4%\) \|/,
    );
    // The runner's command syntax escapes "%" as "%25".
    const warnings = second.stdout
      .split('\n')
      .filter((line) => line.startsWith('::warning'))
      .map((line) => line.replace(/%25/g, '%'));
    expect(warnings.join('\n')).toContain(
      `public.events lost 500 of 1000 rows (50.0%) since backup ${first.outputs['backup-id']}: a data-loss signal.`,
    );
    expect(warnings.join('\n')).toContain('public.scratch is gone (had 10 rows)');
    expect(warnings.join('\n')).not.toContain('public.audit');

    await sql(url, 'DELETE FROM audit WHERE id > 50');
    const third = await dump(storage, { 'fail-on-row-drop': 'true', 'max-row-drop-percent': '40' });
    expect(third.code).toBe(1);
    expect(third.errors.join('\n').replace(/%25/g, '%')).toContain(
      `Backup ${third.outputs['backup-id']} is stored, but public.audit lost 45 of 95 rows (47.4%) since backup ` +
        `${second.outputs['backup-id']} (fail-on-row-drop)`,
    );
    // The backup is complete all the same: manifest written, outputs and summary set.
    const manifest = JSON.parse(
      await fs.readFile(path.join(storage, 'prod', third.outputs['backup-id']!, 'manifest.json'), 'utf8'),
    );
    expect(manifest.tables.find((t: { name: string }) => t.name === 'audit').rows).toBe(50);
    expect(third.summary).toMatch(/\| ⚠️ public\.audit \| 95 \| 50 \|/);
    expect(await folders(storage)).toHaveLength(3);
  });

  it('refuses a bad max-row-drop-percent in one line', async () => {
    const run = await dump(path.join(work, 'bad'), { 'max-row-drop-percent': '150' });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toContain('Input "max-row-drop-percent" is 150, out of range');
  });
});

describe('dump-postgres capacity', () => {
  /** A previous backup of `bytes` stored bytes, so the next one is expected to need 1.2 × that. */
  async function seedPrevious(storage: string, bytes: number): Promise<string> {
    const manifest = postgresManifest('20260101T000000Z-daily-0001', '2026-01-01T00:00:00.000Z');
    manifest.files[0]!.bytes = bytes;
    await writeManifest([new LocalStore(storage)], manifest);
    return manifest.id;
  }

  it('refuses to start when the local destination cannot hold the next backup, and writes nothing', async () => {
    const storage = path.join(work, 'full');
    const seeded = await seedPrevious(storage, 2 ** 53 / 2); // far more than this disk holds
    const run = await dump(storage);
    expect(run.code).toBe(1);
    const { bavail, bsize } = await fs.statfs(storage);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      new RegExp(
        `file://${storage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has [\\d.]+ \\w+ \\((\\d+) bytes\\) free; the next ` +
          `backup needs about [\\d.]+ \\w+ \\(${Math.ceil((2 ** 53 / 2) * 1.2)} bytes: the newest backup's stored ` +
          'size × 1.2\\): nothing was written',
      ),
    );
    const free = Number(/\((\d+) bytes\) free/.exec(run.errors[0]!)![1]);
    expect(Math.abs(free - bavail * bsize)).toBeLessThan(64 * 1024 * 1024); // the real statfs, give or take other writers
    expect(await folders(storage)).toEqual([seeded]);
  });

  it('starts when the destination has room, and without a previous backup', async () => {
    const storage = path.join(work, 'roomy');
    const fresh = await dump(storage);
    expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);
    const again = await dump(storage);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  // A real small disk: a 1 MiB tmpfs (root only), refused on its real free space.
  it.runIf(process.getuid?.() === 0)('refuses a real 1 MiB tmpfs whose previous backup was 900 KiB', async () => {
    const storage = path.join(work, 'tmpfs');
    await fs.mkdir(storage);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1M', 'tmpfs', storage], { stdio: 'pipe' });
    } catch (error) {
      console.log(`SKIPPED the tmpfs case: mount failed (${(error as Error).message.split('\n')[0]})`);
      return;
    }
    try {
      const seeded = await seedPrevious(storage, 900 * 1024);
      const run = await dump(storage);
      expect(run.code).toBe(1);
      expect(run.errors[0]).toMatch(/KiB \(\d+ bytes\) free; the next backup needs about 1\.1 MiB \((\d+) bytes/);
      expect(run.errors[0]).toContain(`(${Math.ceil(900 * 1024 * 1.2)} bytes: `);
      expect(await folders(storage)).toEqual([seeded]);
    } finally {
      execFileSync('umount', [storage]);
    }
  });
});
