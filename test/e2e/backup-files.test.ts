import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { startChangingProxy } from '../harness/changing-proxy.ts';
import { runAction, watchPeakRss } from '../harness/runner.ts';
import { incompressibleStream, startTestS3, testS3Client, type TestS3 } from '../harness/s3.ts';

/**
 * backup-files, its restore drill and pruning, run as bundles: the real AWS SDK against the in-process S3 server,
 * one bucket as the source (as Supabase Storage would be), another for the backups, a third to restore into.
 */
const MiB = 1024 * 1024;
const BIG_BYTES = 300 * MiB;
const BIG_KEY = 'videos/launch.bin';

let s3: TestS3;
let client: S3Client;
let keys: KeyPair;
let work: string;
/** key → sha256 of the source at the first backup, and now. */
let atFirst: Map<string, string>;
const ids: string[] = [];

beforeAll(async () => {
  [s3, keys] = await Promise.all([startTestS3('backups'), newKeyPair()]);
  client = testS3Client(s3.endpoint);
  for (const bucket of ['storage', 'restored', 'flappy', 'photos'])
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-files-'));
  await seedSource();
}, 300_000);

afterAll(async () => {
  await Promise.all([s3?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

/** 199 objects of mixed sizes and types (text, PNG-named, JPEG-named random bytes, nested keys, odd names) + 300 MB. */
async function seedSource(): Promise<void> {
  const objects: [string, Buffer][] = [];
  for (let index = 0; index < 199; index++) {
    const size = (index * 7919) % 180_000;
    const kind = index % 3;
    const key =
      kind === 0
        ? `avatars/user-${index}/avatar.png`
        : kind === 1
          ? `attachments/${index} invoice é.jpg`
          : `notes/${index}.txt`;
    const body =
      kind === 2 ? Buffer.from(`note ${index} `.repeat(Math.ceil(size / 10)).slice(0, size)) : randomBytes(size);
    objects.push([key, body]);
  }
  for (let start = 0; start < objects.length; start += 16) {
    await Promise.all(objects.slice(start, start + 16).map(([key, body]) => put('storage', key, body)));
  }
  await client.send(
    new PutObjectCommand({
      Bucket: 'storage',
      Key: BIG_KEY,
      Body: incompressibleStream(BIG_BYTES).body,
      ContentLength: BIG_BYTES,
    }),
  );
}

async function put(bucket: string, key: string, body: Buffer | string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function listKeys(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) keys.push(object.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function sha256Of(bucket: string, key: string): Promise<string> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const chunk of response.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** key (relative to prefix) → sha256, for every object under the prefix. */
async function hashes(bucket: string, prefix = ''): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for (const key of await listKeys(bucket, prefix)) result.set(key.slice(prefix.length), await sha256Of(bucket, key));
  return result;
}

async function manifestOf(id: string, name = 'storage-prod'): Promise<Manifest> {
  const response = await client.send(new GetObjectCommand({ Bucket: 'backups', Key: `${name}/${id}/manifest.json` }));
  return JSON.parse(await response.Body!.transformToString()) as Manifest;
}

function backupInputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'source-url': 's3://storage',
    'source-endpoint-url': s3.endpoint,
    'source-access-key-id': 'S3RVER',
    'source-secret-access-key': 'S3RVER',
    name: 'storage-prod',
    'storage-url': 's3://backups',
    'encryption-recipients': keys.recipient,
    kind: 'daily',
    ...extra,
  };
}

function drillInputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'storage-url': 's3://backups', name: 'storage-prod', 'encryption-identity': keys.identity, ...extra };
}

/** An endpoint that answers every request with S3's 403 error `code`. */
async function startRefusingServer(code: string): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(403, { 'content-type': 'application/xml' });
    response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>refused</Message></Error>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('backup-files: incremental by listing, restored as of each backup', () => {
  it('stores all 200 objects in the first backup, streaming the 300 MB one with flat memory', async () => {
    atFirst = await hashes('storage');
    expect(atFirst.size).toBe(200);
    const peak = watchPeakRss();
    const run = await runAction('backup-files', backupInputs(), { env: s3.env, onStart: peak.onStart });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ objects: '200', 'stored-objects': '200', full: 'true' });
    // A 300 MB object through zstd and age to S3, with 8 objects in flight: memory is the pipeline's buffers (up to
    // 64 MiB of multipart parts in flight, 1 MiB per stage) and what the GC has not collected yet, not the object.
    // Measured here: 237–248 MiB peak with the 300 MB object, against the bound below; backup-files-memory.test.ts
    // shows the peak does not follow the object's size.
    console.log(`backup-files peak RSS: ${(peak.bytes / MiB).toFixed(0)} MiB`);
    expect(peak.bytes).toBeGreaterThan(0);
    expect(peak.bytes).toBeLessThan(BIG_BYTES * 0.9);
    const id = run.outputs['backup-id']!;
    ids.push(id);
    const manifest = await manifestOf(id);
    expect(manifest.engine).toBe('files');
    expect(manifest.objects).toHaveLength(200);
    for (const object of manifest.objects!) {
      expect(object.backupId).toBe(id);
      expect(object.sha256).toBe(atFirst.get(object.key));
    }
    const big = manifest.objects!.find((object) => object.key === BIG_KEY)!;
    expect(big.bytes).toBe(BIG_BYTES);
    // Random bytes named .jpg are not compressed; the .png ones are (zstd gains on PNG, see compression.ts).
    expect(manifest.objects!.find((object) => object.key.endsWith('.jpg'))!.compression).toBe('none');
    expect(manifest.objects!.find((object) => object.key.endsWith('.png'))!.compression).toBe('zstd');
    expect(manifest.objects!.every((object) => object.encryption === 'age')).toBe(true);
    // Everything stored is encrypted: no object in the backups bucket holds a source object's bytes.
    expect((await listKeys('backups', `storage-prod/${id}/objects/`)).length).toBe(200);
  }, 600_000);

  it('change 3, add 2, delete 1: the second backup stores exactly those 5 and lists 201', async () => {
    await put('storage', 'notes/2.txt', 'changed two');
    await put('storage', 'notes/5.txt', 'changed five');
    await put('storage', 'avatars/user-0/avatar.png', randomBytes(5000));
    await put('storage', 'new/one.txt', 'new one');
    await put('storage', 'new/two.txt', 'new two');
    await client.send(new DeleteObjectCommand({ Bucket: 'storage', Key: 'notes/8.txt' }));
    const run = await runAction('backup-files', backupInputs(), { env: s3.env });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ objects: '201', 'stored-objects': '5', full: 'false' });
    const id = run.outputs['backup-id']!;
    ids.push(id);
    const manifest = await manifestOf(id);
    const storedHere = manifest.objects!.filter((object) => object.backupId === id).map((object) => object.key);
    expect(storedHere.sort()).toEqual(
      ['avatars/user-0/avatar.png', 'new/one.txt', 'new/two.txt', 'notes/2.txt', 'notes/5.txt'].sort(),
    );
    expect(manifest.objects!.filter((object) => object.backupId === ids[0])).toHaveLength(196);
    expect(manifest.objects!.some((object) => object.key === 'notes/8.txt')).toBe(false);
    expect(manifest.filesBackup).toMatchObject({ full: false, previous: ids[0], storedObjects: 5, reusedObjects: 196 });
    expect(await listKeys('backups', `storage-prod/${id}/objects/`)).toHaveLength(5);
  }, 600_000);

  it('restores the second backup into a bucket: the source exactly, every sha256', async () => {
    const run = await runAction(
      'restore-drill',
      drillInputs({ 'backup-id': ids[1]!, 'target-url': 's3://restored/second' }),
      { env: s3.env },
    );
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.verified).toBe('true');
    expect(run.summary).toContain('201 of 201');
    expect(await hashes('restored', 'second/')).toEqual(await hashes('storage'));
  }, 600_000);

  it('restores the first backup into a folder: the deleted object is back, the later ones are not there', async () => {
    const folder = path.join(work, 'first');
    const run = await runAction('restore-drill', drillInputs({ 'backup-id': ids[0]!, 'target-url': folder }), {
      env: s3.env,
    });
    expect(run.errors).toEqual([]);
    const restored = new Map<string, string>();
    for (const file of await fs.readdir(folder, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const full = path.join(file.parentPath, file.name);
      const hash = createHash('sha256');
      for await (const chunk of (await fs.open(full)).createReadStream()) hash.update(chunk as Buffer);
      restored.set(path.relative(folder, full), hash.digest('hex'));
    }
    expect(restored.get('notes/8.txt')).toBe(atFirst.get('notes/8.txt'));
    expect(restored.has('new/one.txt')).toBe(false);
    expect(restored).toEqual(atFirst);
  }, 600_000);

  it('a dry run verifies every object and writes nothing', async () => {
    const run = await runAction(
      'restore-drill',
      drillInputs({ 'target-url': 's3://restored/dry', 'dry-run': 'true' }),
      { env: s3.env },
    );
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ verified: 'true', engine: 'files', 'backup-id': ids[1] });
    expect(await listKeys('restored', 'dry/')).toEqual([]);
  }, 600_000);

  it('refuses to restore into a place that already holds objects', async () => {
    const run = await runAction('restore-drill', drillInputs({ 'target-url': 's3://restored/second' }), {
      env: s3.env,
    });
    expect(run.code).toBe(1);
    expect(run.errors.join('\n')).toMatch(/Input "target-url" \(s3:\/\/restored\/second\) already holds objects/);
  }, 120_000);

  it('a corrupted stored object fails the drill naming its key', async () => {
    const first = await manifestOf(ids[0]!);
    const victim = first.objects!.find((object) => object.key === 'notes/11.txt')!;
    const key = `storage-prod/${ids[0]}/${victim.storedPath}`;
    const original = Buffer.from(
      await (await client.send(new GetObjectCommand({ Bucket: 'backups', Key: key }))).Body!.transformToByteArray(),
    );
    const damaged = Buffer.from(original);
    damaged[damaged.length - 20]! ^= 0xff;
    await put('backups', key, damaged);
    try {
      const run = await runAction('restore-drill', drillInputs({ 'backup-id': ids[1]! }), { env: s3.env });
      expect(run.code).toBe(1);
      expect(run.outputs.verified).toBe('false');
      expect(run.errors.join('\n')).toContain('notes/11.txt: Checksum mismatch');
      expect(run.summary).toContain('200 of 201');
    } finally {
      await put('backups', key, original);
    }
  }, 600_000);

  it('prune of the first backup keeps the objects the second still references', async () => {
    // The corrupted drill above left the first backup as the newest verified one, which retention always keeps.
    const verified = await runAction('restore-drill', drillInputs({ 'backup-id': ids[1]! }), { env: s3.env });
    expect(verified.outputs.verified).toBe('true');
    const run = await runAction(
      'prune-backups',
      {
        'storage-url': 's3://backups',
        name: 'storage-prod',
        'keep-last': '1',
        'keep-hourly': '0',
        'keep-daily': '0',
        'keep-weekly': '0',
        'keep-monthly': '0',
        'keep-yearly': '0',
      },
      { env: s3.env },
    );
    expect(run.errors).toEqual([]);
    expect(run.outputs.deleted).toBe('1');
    expect(run.stdout).toContain(`${ids[0]} keeps 196 stored object(s) that ${ids[1]} still reference(s)`);
    const left = await listKeys('backups', `storage-prod/${ids[0]}/`);
    expect(left).toHaveLength(196);
    expect(left.some((key) => key.endsWith('manifest.json'))).toBe(false);
    const drill = await runAction('restore-drill', drillInputs(), { env: s3.env });
    expect(drill.errors).toEqual([]);
    expect(drill.outputs).toMatchObject({ verified: 'true', 'backup-id': ids[1] });
  }, 600_000);
});

describe('backup-files failures', () => {
  it('a source refusing the key or the secret fails with one line naming the input', async () => {
    const wrongKey = await runAction('backup-files', backupInputs({ 'source-access-key-id': 'NOT-A-KEY' }), {
      env: s3.env,
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.errors).toHaveLength(1);
    expect(wrongKey.errors[0]).toContain(
      'does not know the access key (InvalidAccessKeyId): set input "source-access-key-id"',
    );
    // Masked before the first log line, and never shown anywhere else.
    expect(wrongKey.stdout.startsWith('::add-mask::NOT-A-KEY\n')).toBe(true);
    expect(wrongKey.stdout.split('\n').filter((line) => line.includes('NOT-A-KEY'))).toHaveLength(1);
    // s3rver does not check SigV4 signatures: a server that refuses every signature, as S3 does a wrong secret.
    const refusing = await startRefusingServer('SignatureDoesNotMatch');
    try {
      const wrongSecret = await runAction(
        'backup-files',
        backupInputs({ 'source-endpoint-url': refusing.endpoint, 'source-secret-access-key': 'wrong' }),
        { env: s3.env },
      );
      expect(wrongSecret.code).toBe(1);
      expect(wrongSecret.errors).toHaveLength(1);
      expect(wrongSecret.errors[0]).toContain(
        '(SignatureDoesNotMatch): input "source-secret-access-key" is not the secret',
      );
    } finally {
      await refusing.stop();
    }
  }, 120_000);

  it('an object that changes while being read is read again once, then reported and left out', async () => {
    await put('flappy', 'steady.txt', 'steady');
    await put('flappy', 'once.txt', 'once, first version');
    await put('flappy', 'always.txt', 'always, version 0');
    const gets = new Map<string, number>();
    const proxy = await startChangingProxy(s3.endpoint, async (requested) => {
      const key = requested.replace(/^\/flappy\//, '');
      const count = (gets.get(key) ?? 0) + 1;
      gets.set(key, count);
      if (key === 'always.txt') await put('flappy', key, `always, version ${count}`);
      if (key === 'once.txt' && count === 1) await put('flappy', key, 'once, second version');
    });
    try {
      const run = await runAction(
        'backup-files',
        backupInputs({ 'source-url': 's3://flappy', 'source-endpoint-url': proxy.endpoint, name: 'flappy' }),
        { env: s3.env },
      );
      expect(run.code).toBe(1);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toContain('except 1 object(s) that changed while being read, twice: always.txt');
      expect(gets.get('always.txt')).toBe(2);
      const manifest = await manifestOf(run.outputs['backup-id']!, 'flappy');
      expect(manifest.objects!.map((object) => object.key)).toEqual(['once.txt', 'steady.txt']);
      const once = manifest.objects!.find((object) => object.key === 'once.txt')!;
      expect(once.sha256).toBe(createHash('sha256').update('once, second version').digest('hex'));
      expect(manifest.filesBackup!.skipped.map((entry) => entry.key)).toEqual(['always.txt']);
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it('SIGKILL mid-backup leaves no manifest, and the next run completes', async () => {
    for (let index = 0; index < 12; index++) await put('photos', `raw/${index}.bin`, randomBytes(8 * MiB));
    const inputs = backupInputs({ 'source-url': 's3://photos', name: 'photos', concurrency: '1' });
    let killedId: string | undefined;
    const killed = await runAction('backup-files', inputs, {
      env: s3.env,
      onStart: (child) => {
        const timer = setInterval(async () => {
          const stored = (await listKeys('backups', 'photos/').catch(() => [])).filter((key) =>
            key.includes('/objects/'),
          );
          if (stored.length === 0) return;
          clearInterval(timer);
          killedId = stored[0]!.split('/')[1];
          child.kill('SIGKILL');
        }, 50);
        child.once('exit', () => clearInterval(timer));
      },
    });
    expect(killed.code).toBe(null);
    expect(killedId).toBeDefined();
    expect((await listKeys('backups', `photos/${killedId}/`)).some((key) => key.endsWith('manifest.json'))).toBe(false);
    const next = await runAction('backup-files', inputs, { env: s3.env });
    expect(next.errors).toEqual([]);
    // Nothing complete before it: a full backup of all 12.
    expect(next.outputs).toMatchObject({ objects: '12', 'stored-objects': '12', full: 'true' });
    expect(next.outputs['backup-id']).not.toBe(killedId);
  }, 300_000);
});
