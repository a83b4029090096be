import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { maxStreamBytes, partSizeFor, S3Store, s3Client } from '../../actions/lib/storage/s3.ts';
import { envS3Settings, startTestS3, useS3Environment, type TestS3 } from '../harness/s3.ts';

const MiB = 1024 * 1024;

/** A stream of `size` pseudo-random bytes in 1 MiB chunks, failing after `failAfter` bytes when given. */
function randomStream(size: number, failAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (failAfter !== undefined && sent >= failAfter) {
        this.destroy(new Error('source died'));
        return;
      }
      if (sent >= size) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(MiB, size - sent));
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

describe('multipart part sizes', () => {
  it('grow so a 5 TiB stream fits in 10,000 parts, starting at 8 MiB', () => {
    expect(partSizeFor(1)).toBe(8 * MiB);
    expect(partSizeFor(1000)).toBe(8 * MiB);
    expect(partSizeFor(1001)).toBe(16 * MiB);
    expect(partSizeFor(10_000)).toBeLessThanOrEqual(5 * 1024 * MiB);
    expect(maxStreamBytes()).toBeGreaterThan(5 * 1024 ** 4);
  });
});

describe('LocalStore', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-local-'));
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('writes atomically: a failing stream leaves no object (nor its folder), a good one appears whole', async () => {
    const store = new LocalStore(root);
    await expect(store.put('a/b/broken', randomStream(4 * MiB, 2 * MiB))).rejects.toThrow('source died');
    expect(await store.head('a/b/broken')).toBeUndefined();
    expect(await fs.readdir(root)).toEqual([]);
    await store.put('a/b/good', randomStream(3 * MiB));
    expect(await store.head('a/b/good')).toBe(3 * MiB);
    const listed = [];
    for await (const object of store.list('a/')) listed.push(object);
    expect(listed).toEqual([{ key: 'a/b/good', bytes: 3 * MiB }]);
    expect(() => store.urlOf('../outside')).toThrow('escapes the destination folder');
  });
});

describe('S3Store against an S3-compatible server', () => {
  let s3: TestS3;
  let restore: () => void;
  beforeAll(async () => {
    s3 = await startTestS3();
    restore = useS3Environment(s3);
  });
  afterAll(async () => {
    restore();
    await s3.stop();
  });

  it('uploads a stream larger than one part as a multipart upload, byte for byte', async () => {
    const store = new S3Store(`s3://${s3.bucket}/unit`, envS3Settings());
    const hash = createHash('sha256');
    const source = randomStream(21 * MiB);
    source.on('data', (chunk: Buffer) => hash.update(chunk));
    await store.put('big.bin', source);
    expect(await store.head('big.bin')).toBe(21 * MiB);
    const back = await buffer(await store.get('big.bin'));
    expect(createHash('sha256').update(back).digest('hex')).toBe(hash.digest('hex'));
    expect(store.urlOf('big.bin')).toBe(`s3://${s3.bucket}/unit/big.bin`);
  });

  it('aborts the multipart upload when the stream fails: no object, no open upload', async () => {
    const store = new S3Store(`s3://${s3.bucket}/unit`, envS3Settings());
    await expect(store.put('dead.bin', randomStream(40 * MiB, 20 * MiB))).rejects.toThrow('source died');
    expect(await store.head('dead.bin')).toBeUndefined();
    const uploads = await s3Client(envS3Settings())
      .send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }))
      .catch(() => undefined);
    expect(uploads?.Uploads ?? []).toEqual([]);
  });

  it('stores a small stream with one PUT, and an empty one too', async () => {
    const store = new S3Store(`s3://${s3.bucket}/unit`, envS3Settings());
    await store.put('small.txt', Readable.from([Buffer.from('hello')]));
    await store.put('empty.txt', Readable.from([]));
    expect(String(await buffer(await store.get('small.txt')))).toBe('hello');
    expect(await store.head('empty.txt')).toBe(0);
  });
});
