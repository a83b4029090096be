import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectLockConfigurationCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { putJson, writeManifest } from '../../actions/lib/manifest/catalog.ts';
import { pruneBackups } from '../../actions/lib/manifest/prune.ts';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { S3Store, s3Client, type S3Settings } from '../../actions/lib/storage/s3.ts';

/**
 * Against a real S3 server that enforces Object Lock: MinIO, started with a locking bucket by the object-lock job of
 * .github/workflows/ci.yml. No S3 server with Object Lock installs here from npm or Debian (s3rver has none,
 * @zenko/cloudserver needs git dependencies, Debian's radosgw needs a whole Ceph cluster), so without
 * BACKSTOP_TEST_OBJECT_LOCK_S3 (the endpoint; keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) this is skipped.
 */
const ENDPOINT = process.env.BACKSTOP_TEST_OBJECT_LOCK_S3;
if (!ENDPOINT) console.info('object-lock.test.ts skipped: BACKSTOP_TEST_OBJECT_LOCK_S3 is not set (CI sets it).');

const MiB = 1024 * 1024;
const DAY = 86_400_000;

describe.runIf(ENDPOINT)('a bucket with Object Lock (default retention: 1 day, governance)', () => {
  const bucket = `locked-${Date.now()}`;
  const settings: S3Settings = { endpoint: ENDPOINT, region: 'us-east-1', forcePathStyle: true };

  async function lockedBucket(): Promise<void> {
    const client = s3Client(settings);
    await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await client.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
        },
      }),
    );
  }

  async function backup(store: S3Store, at: Date): Promise<string> {
    const id = `${at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')}-daily-0001`;
    await store.put(`prod/${id}/postgres.dump.zst.age`, Readable.from([randomBytes(1000)]));
    const manifest = {
      version: 1,
      id,
      name: 'prod',
      engine: 'postgres',
      kind: 'daily',
      createdAt: at.toISOString(),
      finishedAt: at.toISOString(),
      durationSeconds: 1,
      source: { serverVersion: '16', host: 'h' },
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
    } as unknown as Manifest;
    await writeManifest([store], manifest);
    return id;
  }

  it('takes our uploads, single and multipart, with their checksums', async () => {
    await lockedBucket();
    const store = new S3Store(`s3://${bucket}/uploads`, settings);
    await store.put('small.bin', Readable.from([randomBytes(1000)]));
    await store.put('multipart.bin', Readable.from([randomBytes(8 * MiB), randomBytes(MiB)])); // parts: 8, 1 MiB
    expect(await store.head('small.bin')).toBe(1000);
    expect(await store.head('multipart.bin')).toBe(9 * MiB);
    await putJson([store], 'meta.json', { ok: true });
    expect(await store.head('meta.json')).toBeGreaterThan(0);
  });

  it('prune hides an expired backup behind delete markers, and its locked versions cannot be deleted', async () => {
    const store = new S3Store(`s3://${bucket}/backups`, settings);
    const now = Date.now();
    const old = await backup(store, new Date(now - 5 * DAY));
    const recent = await backup(store, new Date(now - DAY));
    const [result] = await pruneBackups({
      stores: [store],
      name: 'prod',
      policy: { last: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0, quarterly: 0, yearly: 0 },
      incompleteGraceHours: 24,
      dryRun: false,
      log: () => undefined,
    });
    // A delete without a version id is allowed under Object Lock: it adds a delete marker, the data stays.
    expect(result!.deleted.map((backup) => backup.id)).toEqual([old]);
    expect(result!.kept.map((backup) => backup.id)).toEqual([recent]);
    expect(await store.head(`prod/${old}/manifest.json`)).toBeUndefined();
    const client = s3Client(settings);
    const versions = await client.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `backups/prod/${old}/` }),
    );
    const locked = (versions.Versions ?? []).filter((version) => version.Key?.endsWith('postgres.dump.zst.age'));
    expect(locked).toHaveLength(1);
    expect(versions.DeleteMarkers?.length).toBeGreaterThanOrEqual(2);
    // Deleting the version itself is what Object Lock refuses until the retention ends.
    await expect(
      client.send(new DeleteObjectCommand({ Bucket: bucket, Key: locked[0]!.Key, VersionId: locked[0]!.VersionId })),
    ).rejects.toThrow(/AccessDenied|WORM|locked|retention/i);
  });
});
