import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { runAction, watchPeakRss } from '../harness/runner.ts';
import { incompressibleStream, startTestS3, testS3Client, type TestS3 } from '../harness/s3.ts';

/**
 * backup-files' memory does not grow with the size of the objects it streams (docs/storage.md, "backup-files"):
 * the bundle, a real child process, backs up one 256 MiB object, and four of 64 MiB, one object in flight at a time,
 * through zstd and age to S3 (the in-process server, the real AWS SDK), and its peak RSS is compared.
 *
 * Both runs stream the same bytes on purpose. V8 frees the pipeline's spent buffers late, and the garbage it leaves
 * settles at its steady state only after a few hundred MiB: measured on this machine, one 64 MiB object alone peaked
 * at 146–165 MiB and one of 512 MiB at 187–212 MiB, while four of 64 MiB (200–204 MiB) and one of 256 MiB
 * (178–199 MiB), streaming the same bytes, peaked alike, as did 1 GiB (200 MiB) and 2 GiB (198 MiB). That growth
 * was the run's length, not the object's size; a pipeline holding an object, or a part of it, shows in this one.
 */
const MiB = 1024 * 1024;
const SMALL = { count: 4, bytes: 64 * MiB };
const LARGE = { count: 1, bytes: 256 * MiB };
/** One object of 256 MiB held whole would add at least 192 MiB to the peak; the runs' own spread is ~25 MiB. */
const MARGIN = 48 * MiB;
/**
 * The bound for one object in flight to one destination: Node, the bundle and V8's heap (~100 MiB), the multipart
 * window (64 MiB), the stages' 1 MiB buffers, and up to ~64 MiB of spent buffers V8 has not freed yet.
 */
const BOUND = 256 * MiB;

let s3: TestS3;
let client: S3Client;
let keys: KeyPair;
/** bucket → key → sha256 of what was seeded. */
const seeded = new Map<string, Map<string, string>>();

beforeAll(async () => {
  [s3, keys] = await Promise.all([startTestS3('backups'), newKeyPair()]);
  client = testS3Client(s3.endpoint);
  for (const [bucket, { count, bytes }] of [
    ['quarters', SMALL],
    ['whole', LARGE],
  ] as const) {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const hashes = new Map<string, string>();
    for (let index = 0; index < count; index++) {
      const key = `videos/take-${index}.bin`; // .bin: through zstd, every stage of the pipeline
      const { body, sha256 } = incompressibleStream(bytes);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: bytes }));
      hashes.set(key, sha256());
    }
    seeded.set(bucket, hashes);
  }
}, 300_000);

afterAll(async () => {
  await s3?.stop();
});

/** Backs up one bucket with one object in flight; the peak RSS of the action's process. */
async function backUp(bucket: string): Promise<number> {
  const peak = watchPeakRss();
  const run = await runAction(
    'backup-files',
    {
      'source-url': `s3://${bucket}`,
      'source-endpoint-url': s3.endpoint,
      'source-access-key-id': 'S3RVER',
      'source-secret-access-key': 'S3RVER',
      name: bucket,
      'storage-url': 's3://backups',
      'encryption-recipients': keys.recipient,
      concurrency: '1',
    },
    { env: s3.env, onStart: peak.onStart },
  );
  expect(run.errors).toEqual([]);
  expect(run.code).toBe(0);
  const expected = seeded.get(bucket)!;
  expect(run.outputs['stored-objects']).toBe(String(expected.size));
  const response = await client.send(
    new GetObjectCommand({ Bucket: 'backups', Key: `${bucket}/${run.outputs['backup-id']}/manifest.json` }),
  );
  const manifest = JSON.parse(await response.Body!.transformToString()) as Manifest;
  expect(new Map(manifest.objects!.map((object) => [object.key, object.sha256]))).toEqual(expected);
  expect(manifest.objects!.every((object) => object.compression === 'zstd' && object.encryption === 'age')).toBe(true);
  expect(peak.bytes).toBeGreaterThan(0);
  return peak.bytes;
}

describe('backup-files memory', () => {
  it('peaks the same for one 256 MiB object as for four of 64 MiB, under the documented bound', async () => {
    const small = await backUp('quarters');
    const large = await backUp('whole');
    const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;
    console.log(`backup-files peak RSS: 4 × 64 MiB ${mib(small)}, 1 × 256 MiB ${mib(large)}`);
    expect(large).toBeLessThanOrEqual(small + MARGIN);
    expect(small).toBeLessThan(BOUND);
    expect(large).toBeLessThan(BOUND);
  }, 300_000);
});
