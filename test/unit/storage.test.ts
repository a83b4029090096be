import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runContext } from '../../actions/lib/action/env.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import {
  checksumModeFor,
  inFlightBound,
  lastPartBytes,
  maxStreamBytes,
  type PartPlan,
  partSizeFor,
  S3_PART_PLAN,
  S3Store,
  s3Client,
  uploadsAtOnce,
} from '../../actions/lib/storage/s3.ts';
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

const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe('multipart part sizes and the memory they take', () => {
  it('grow so a 5 TiB stream fits in 10,000 parts, starting at 8 MiB and never past 2 GiB', () => {
    expect(partSizeFor(1)).toBe(8 * MiB);
    expect(partSizeFor(1000)).toBe(8 * MiB);
    expect(partSizeFor(1001)).toBe(16 * MiB);
    expect(partSizeFor(10_000)).toBe(2 * GiB);
    expect(maxStreamBytes()).toBeGreaterThan(5 * TiB);
    expect(() => lastPartBytes(maxStreamBytes() + 1)).toThrow('does not fit in 10000 parts');
  });

  it('shrink the queue as parts grow: max(64 MiB, 2 parts) in flight per destination, for any part', () => {
    for (let part = 1; part <= S3_PART_PLAN.maxParts; part++) {
      const bytes = partSizeFor(part);
      expect(uploadsAtOnce(bytes)).toBeGreaterThanOrEqual(2);
      expect(inFlightBound(bytes)).toBe(Math.max(64 * MiB, 2 * bytes));
    }
    expect([8, 16, 32, 64, 128].map((size) => uploadsAtOnce(size * MiB))).toEqual([8, 4, 2, 2, 2]);
  });

  // The table in docs/storage.md: the most one destination holds, by the size of the whole stream.
  it.each([
    [1 * GiB, 8 * MiB, 64 * MiB],
    [54 * GiB, 32 * MiB, 64 * MiB],
    [100 * GiB, 64 * MiB, 128 * MiB],
    [117 * GiB, 64 * MiB, 128 * MiB],
    [200 * GiB, 128 * MiB, 256 * MiB],
    [1 * TiB, 1 * GiB, 2 * GiB],
    [2 * TiB, 2 * GiB, 4 * GiB],
    [5 * TiB, 2 * GiB, 4 * GiB],
  ])('a stream of %i bytes ends in parts of %i bytes, holding at most %i', (stream, part, held) => {
    expect(lastPartBytes(stream)).toBe(part);
    expect(inFlightBound(lastPartBytes(stream))).toBe(held);
  });
});

describe('upload checksums by provider', () => {
  it.each([
    [undefined, 'WHEN_SUPPORTED'], // AWS
    ['https://0123abcd.r2.cloudflarestorage.com', 'WHEN_SUPPORTED'],
    ['http://minio.internal:9000', 'WHEN_SUPPORTED'],
    ['https://s3.us-west-004.backblazeb2.com', 'WHEN_REQUIRED'],
    ['https://abcdefgh.supabase.co/storage/v1/s3', 'WHEN_REQUIRED'],
    ['https://abcdefgh.storage.supabase.co/storage/v1/s3', 'WHEN_REQUIRED'],
  ])('endpoint %s: %s', (endpoint, mode) => {
    expect(checksumModeFor({ endpoint })).toBe(mode);
  });

  it('AWS_REQUEST_CHECKSUM_CALCULATION overrides the choice, and a wrong value gets one line', () => {
    const settings = (variables: Record<string, string>) => runContext(variables).s3;
    expect(checksumModeFor(settings({ AWS_ENDPOINT_URL_S3: 'http://minio:9000' }))).toBe('WHEN_SUPPORTED');
    expect(
      checksumModeFor(
        settings({ AWS_ENDPOINT_URL_S3: 'http://minio:9000', AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required' }),
      ),
    ).toBe('WHEN_REQUIRED');
    expect(
      checksumModeFor(
        settings({
          AWS_ENDPOINT_URL_S3: 'https://s3.backblazeb2.com',
          AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_SUPPORTED',
        }),
      ),
    ).toBe('WHEN_SUPPORTED');
    expect(() => settings({ AWS_REQUEST_CHECKSUM_CALCULATION: 'always' })).toThrow(
      'AWS_REQUEST_CHECKSUM_CALCULATION is "always": use WHEN_SUPPORTED (checksums on every upload, the default) ' +
        'or WHEN_REQUIRED (for an S3-compatible endpoint that rejects them).',
    );
  });
});

interface SentRequest {
  command: string;
  headers: Record<string, string>;
  body: unknown;
}

/** Every request the client sends, as it leaves (after the SDK added its checksums and signature). */
function recordRequests(client: S3Client): SentRequest[] {
  const sent: SentRequest[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers: Record<string, string>; body: unknown };
      sent.push({ command: context.commandName ?? '', headers: { ...request.headers }, body: request.body });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordRequests' },
  );
  return sent;
}

function crc32Base64(body: Buffer): string {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(body));
  return value.toString('base64');
}

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

  it('sends a CRC32 with every upload and carries each part’s through CompleteMultipartUpload', async () => {
    const client = s3Client(envS3Settings());
    const sent = recordRequests(client);
    const store = new S3Store(`s3://${s3.bucket}/sums`, client);
    const hash = createHash('sha256');
    const source = randomStream(21 * MiB);
    source.on('data', (chunk: Buffer) => hash.update(chunk));
    await store.put('big.bin', source);
    await store.put('small.txt', Readable.from([Buffer.from('hello')]));

    const create = sent.find((request) => request.command === 'CreateMultipartUploadCommand')!;
    expect(create.headers['x-amz-checksum-algorithm']).toBe('CRC32');
    const parts = sent.filter((request) => request.command === 'UploadPartCommand');
    expect(parts.map((part) => (part.body as Buffer).length)).toEqual([8 * MiB, 8 * MiB, 5 * MiB]);
    const bodies = parts.map((part) => part.body as Buffer);
    expect(createHash('sha256').update(Buffer.concat(bodies)).digest('hex')).toBe(hash.digest('hex'));
    const partSums = parts.map((part) => part.headers['x-amz-checksum-crc32']);
    expect(partSums).toEqual(bodies.map(crc32Base64));
    const complete = String(sent.find((request) => request.command === 'CompleteMultipartUploadCommand')!.body);
    expect([...complete.matchAll(/<ChecksumCRC32>([^<]+)<\/ChecksumCRC32>/g)].map((match) => match[1])).toEqual(
      partSums,
    );
    const put = sent.find((request) => request.command === 'PutObjectCommand')!;
    expect(put.headers['x-amz-checksum-crc32']).toBe(crc32Base64(Buffer.from('hello')));
    expect(await store.head('big.bin')).toBe(21 * MiB);
  });

  it('sends no checksum header at all where they are rejected (WHEN_REQUIRED)', async () => {
    const client = s3Client({ ...envS3Settings(), checksums: 'WHEN_REQUIRED' });
    const sent = recordRequests(client);
    const store = new S3Store(`s3://${s3.bucket}/nosums`, client);
    await store.put('big.bin', randomStream(9 * MiB));
    await store.put('small.txt', Readable.from([Buffer.from('hello')]));
    expect(String(await buffer(await store.get('small.txt')))).toBe('hello');
    expect(sent.map((request) => request.command)).toContain('UploadPartCommand');
    for (const request of sent) {
      expect(Object.keys(request.headers).filter((name) => /checksum|content-md5/i.test(name))).toEqual([]);
      expect(String(request.body ?? '')).not.toContain('Checksum');
    }
  });

  it('holds no more than the in-flight bound while a long stream uploads, several parts at a time while small', async () => {
    // A small plan, so parts grow through three sizes within 60 MiB: 1 MiB (4 uploading at most), 2 and 4 MiB.
    const plan: PartPlan = {
      firstPartBytes: MiB,
      partsPerStep: 12,
      maxPartBytes: 4 * MiB,
      maxParts: 100,
      inFlightCap: 4 * MiB,
    };
    const client = s3Client(envS3Settings());
    let uploading = 0;
    let mostUploading = 0;
    let stored = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'UploadPartCommand') return next(args);
        uploading += 1;
        mostUploading = Math.max(mostUploading, uploading);
        await new Promise((resolve) => setTimeout(resolve, 40)); // a slow link: parts queue up
        try {
          return await next(args);
        } finally {
          uploading -= 1;
          stored += (args.input as { Body: Buffer }).Body.length;
        }
      },
      { step: 'initialize', name: 'slowParts' },
    );
    const CHUNK = 256 * 1024;
    let pulled = 0;
    const held: { pulled: number; held: number }[] = [];
    const source = new Readable({
      highWaterMark: CHUNK,
      read() {
        if (pulled >= 60 * MiB) return void this.push(null);
        pulled += CHUNK;
        held.push({ pulled, held: pulled - stored });
        this.push(randomBytes(CHUNK));
      },
    });
    await new S3Store(`s3://${s3.bucket}/bounded`, client, plan).put('long.bin', source);
    expect(await new S3Store(`s3://${s3.bucket}/bounded`, client).head('long.bin')).toBe(60 * MiB);
    // What the source gave and S3 has not stored is what the store holds (plus the source's own buffer).
    const slack = 2 * CHUNK;
    const whileParts = (from: number, to: number): number =>
      Math.max(...held.filter((point) => point.pulled > from && point.pulled <= to).map((point) => point.held));
    expect(whileParts(0, 12 * MiB)).toBeLessThanOrEqual(inFlightBound(MiB, plan) + slack); // 4 MiB
    // Across the change to 2 MiB parts too: the next part waits until it fits beside the 1 MiB ones.
    expect(whileParts(12 * MiB, 36 * MiB)).toBeLessThanOrEqual(inFlightBound(2 * MiB, plan) + slack); // 4 MiB
    expect(whileParts(0, 60 * MiB)).toBeLessThanOrEqual(inFlightBound(4 * MiB, plan) + slack); // 8 MiB
    expect(whileParts(36 * MiB, 60 * MiB)).toBeGreaterThan(inFlightBound(2 * MiB, plan)); // 4 MiB parts: more held
    expect(mostUploading).toBe(uploadsAtOnce(MiB, plan)); // 4: small parts do upload side by side
  });
});
