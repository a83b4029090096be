import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Origin } from '../../actions/lib/action/origin.ts';
import { backupFiles } from '../../actions/lib/files/backup.ts';
import { FileSource } from '../../actions/lib/files/source.ts';
import { checkFiles } from '../../actions/lib/integrity/files.ts';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { newKeyPair } from '../harness/age.ts';
import { startTestS3, testS3Client, type TestS3 } from '../harness/s3.ts';

/** The files integrity check: a real bucket (the in-process S3 server, real SDK) against a real files backup. */
let s3: TestS3;
let client: S3Client;
let work: string;
let source: FileSource;

beforeAll(async () => {
  s3 = await startTestS3('avatars');
  client = testS3Client(s3.endpoint);
  await client.send(new CreateBucketCommand({ Bucket: 'other' }));
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-files-integrity-'));
  source = new FileSource({
    url: 's3://avatars',
    s3: {
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    },
    origins: {
      url: Origin.internal('the source'),
      endpoint: Origin.internal('the endpoint'),
      accessKeyId: Origin.internal('the key'),
      secretAccessKey: Origin.internal('the secret'),
    },
  });
});

afterAll(async () => {
  await Promise.all([s3?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

const put = (key: string, body: string) =>
  client.send(new PutObjectCommand({ Bucket: 'avatars', Key: key, Body: body }));

it('names objects the backup missed, objects changed since and objects deleted since', async () => {
  for (const index of [1, 2, 3, 4]) await put(`u${index}.png`, `avatar ${index}`);
  const store = new LocalStore(path.join(work, 'backups'));
  const { manifest } = await backupFiles({
    source,
    name: 'avatars',
    kind: 'daily',
    recipients: [(await newKeyPair()).recipient],
    stores: [store],
    fullEveryDays: 7,
    concurrency: 4,
    log: () => {},
    warn: () => {},
  });
  expect((await checkFiles(source, store, 'avatars')).status).toBe('pass');

  // A backup that lacks an object older than itself (as one left out after changing while read): a failure.
  const file = path.join(work, 'backups', 'avatars', manifest.id, 'manifest.json');
  const edited = JSON.parse(await fs.readFile(file, 'utf8')) as Manifest;
  edited.objects = edited.objects!.filter((object) => object.key !== 'u2.png');
  await fs.writeFile(file, JSON.stringify(edited));
  // Changed after the backup (S3 times have whole seconds), and one deleted from the source.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await put('u3.png', 'avatar 3, new');
  await put('u5.png', 'avatar 5');
  await client.send(new DeleteObjectCommand({ Bucket: 'avatars', Key: 'u4.png' }));

  const result = await checkFiles(source, store, 'avatars');
  expect(result.status).toBe('fail');
  expect(result.finding).toContain('missing from the backup or different in it, though older than it: u2.png (');
  expect(result.finding).toContain('new or changed since: u3.png, u5.png');
  expect(result.finding).toContain('deleted from the source since (the backup keeps them): u4.png');
  expect(result.details).toMatchObject({ source: 4, backup: 3 });
});

it('fails when the name has no complete files backup', async () => {
  const result = await checkFiles(source, new LocalStore(path.join(work, 'none')), 'avatars');
  expect(result).toMatchObject({ status: 'fail', finding: expect.stringContaining('no complete files backup') });
});
