import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStoreCapacity } from '../../actions/lib/integrity/capacity.ts';
import { writeManifest } from '../../actions/lib/manifest/catalog.ts';
import type { DiskUsage } from '../../actions/lib/manifest/capacity.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { S3Store } from '../../actions/lib/storage/s3.ts';
import type { Store } from '../../actions/lib/storage/types.ts';
import { postgresManifest } from '../harness/manifests.ts';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';
import { envS3Settings, startTestS3, useS3Environment, type TestS3 } from '../harness/s3.ts';

/** validate-integrity's capacity check: local disks, S3 usage against a quota, the database against its quota. */
let cluster: ScratchCluster;
let s3: TestS3;
let url: string;
let work: string;
const MIB = 1024 * 1024;

/** A complete backup of `name` whose data file holds `bytes` (real bytes: S3 usage is what is listed). */
async function seed(store: Store, name: string, id: string, bytes: number): Promise<void> {
  await store.put(`${name}/${id}/postgres.dump.zst`, Readable.from([Buffer.alloc(bytes)]));
  const manifest = postgresManifest(id, '2026-11-01T00:00:00.000Z');
  manifest.name = name;
  manifest.files[0]!.bytes = bytes;
  await writeManifest([store], manifest);
}

beforeAll(async () => {
  [cluster, s3] = await Promise.all([startTestCluster(), startTestS3()]);
  url = await emptyDatabase(cluster);
  await sql(url, "CREATE TABLE filler AS SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 20000) g");
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-capacity-'));
});
afterAll(async () => {
  await Promise.all([cluster?.stop(), s3?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

describe('capacity of a local destination', () => {
  const disk = (usedBytes: number, freeBytes: number) => async (): Promise<DiskUsage> => ({ usedBytes, freeBytes });

  it('fails at max-disk-percent, fails when the next backups do not fit, passes otherwise', async () => {
    const store = new LocalStore(path.join(work, 'local'));
    await seed(store, 'prod', '20261101T000000Z-daily-0001', 10 * MIB);
    await seed(store, 'vectors', '20261101T000000Z-daily-0002', 5 * MIB);
    const settings = { maxPercent: 80 };
    const full = await checkStoreCapacity(store, [], settings, disk(85 * MIB, 15 * MIB));
    expect(full.status).toBe('fail');
    expect(full.finding).toMatch(
      /^disk 85\.0% used \(max 80%\), 15\.0 MiB free; the next backups need about 18\.0 MiB/,
    );
    expect(full.finding).toContain('prod 10.0 MiB, vectors 5.0 MiB');
    // 50% used, but 17 MiB free is less than (10 + 5) × 1.2 = 18 MiB.
    const tight = await checkStoreCapacity(store, [], settings, disk(17 * MIB, 17 * MIB));
    expect(tight).toMatchObject({ status: 'fail', finding: expect.stringMatching(/^the next backups do not fit: /) });
    const roomy = await checkStoreCapacity(store, [], settings, disk(10 * MIB, 90 * MIB));
    expect(roomy.status).toBe('pass');
    // Only the names asked for are counted.
    const one = await checkStoreCapacity(store, ['vectors'], settings, disk(17 * MIB, 17 * MIB));
    expect(one.status).toBe('pass');
    expect(one.finding).not.toContain('prod');
  });
});

describe('capacity of an S3 destination', () => {
  it('sums the bytes under each name against storage-quota-bytes', async () => {
    const restore = useS3Environment(s3);
    try {
      const store = new S3Store(`s3://${s3.bucket}/capacity`, envS3Settings());
      await seed(store, 'prod', '20261101T000000Z-daily-0001', 300_000);
      await store.put('prod/20261102T000000Z-daily-0002/partial.zst', Readable.from([Buffer.alloc(100_000)]));
      const noQuota = await checkStoreCapacity(store, [], { maxPercent: 80 });
      expect(noQuota.status).toBe('pass');
      expect(noQuota.finding).toMatch(/^39\d\.\d KiB stored \(no quota set\); prod 39\d\.\d KiB$/);
      const over = await checkStoreCapacity(store, [], { maxPercent: 80, storageQuotaBytes: 450_000 });
      expect(over.status).toBe('fail');
      expect(over.finding).toMatch(/of the 439\.5 KiB quota \(8\d\.\d%, max 80%\)/);
      // Under 80% (67%), but 400 kB stored + 300 kB × 1.2 for the next backup is more than a 600 kB quota.
      const next = await checkStoreCapacity(store, [], { maxPercent: 80, storageQuotaBytes: 600_000 });
      expect(next).toMatchObject({
        status: 'fail',
        finding: expect.stringMatching(/^the next backups do not fit the quota/),
      });
      expect((await checkStoreCapacity(store, [], { maxPercent: 80, storageQuotaBytes: 2_000_000 })).status).toBe(
        'pass',
      );
    } finally {
      restore();
    }
  });
});

describe('validate-integrity capacity (the bundle)', () => {
  async function validate(inputs: Record<string, string>) {
    const reportPath = path.join(work, `report-${Math.random()}.json`);
    const run = await runAction('validate-integrity', { 'database-url': url, 'report-path': reportPath, ...inputs });
    const report = JSON.parse(await fs.readFile(reportPath, 'utf8'));
    return { run, checks: report.checks as { name: string; status: string; finding: string }[] };
  }

  it('checks the real disk of a local destination and the database against its quota', async () => {
    const storage = path.join(work, 'bundle');
    await seed(new LocalStore(storage), 'prod', '20261101T000000Z-daily-0001', 1000);
    const { bavail, blocks, bfree } = await fs.statfs(storage);
    const percent = ((blocks - bfree) / (blocks - bfree + bavail)) * 100;
    const size = Number((await sql<{ n: string }>(url, 'SELECT pg_database_size(current_database()) AS n'))[0]!.n);

    const ok = await validate({ 'storage-url': storage, 'database-quota-bytes': String(size * 10) });
    expect(ok.run.code, ok.run.stdout).toBe(0);
    const local = ok.checks.find((check) => check.name === `capacity: file://${storage}`)!;
    expect(local.status).toBe(percent >= 80 ? 'fail' : 'pass');
    // Other tests write and delete on the same disk meanwhile: its usage may move a little between the two readings.
    const reported = /^disk (\d+\.\d)% used \(max 80%\)/.exec(local.finding);
    expect(reported, local.finding).not.toBeNull();
    expect(Math.abs(Number(reported![1]) - percent)).toBeLessThan(1);
    expect(ok.checks.find((check) => check.name === 'capacity: database')).toMatchObject({
      status: 'pass',
      finding: expect.stringMatching(/^\S+ is [\d.]+ MiB of the [\d.]+ MiB quota \(10\.0%, max 80%\)$/),
    });

    const tight = await validate({
      'storage-url': storage,
      // A point under today's usage, so the disk moving a little meanwhile cannot make it pass.
      'max-disk-percent': String(Math.max(1, Math.floor(percent) - 1)),
      'database-quota-bytes': String(size),
    });
    expect(tight.run.code).toBe(1);
    expect(tight.checks.find((check) => check.name === `capacity: file://${storage}`)?.status).toBe('fail');
    expect(tight.checks.find((check) => check.name === 'capacity: database')?.finding).toContain('(100.0%, max');
    expect(tight.run.errors.join('\n')).toContain('capacity: database');
  });

  it('refuses a max-disk-percent out of range in one line', async () => {
    const bad = await runAction('validate-integrity', { 'database-url': url, 'max-disk-percent': '0' });
    expect(bad.code).toBe(1);
    expect(bad.errors.join('\n')).toContain('Input "max-disk-percent" is 0, out of range');
  });
});
