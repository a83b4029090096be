/**
 * Benchmark: backup-files against the stock tools doing the same copy plus encryption, same S3 server, same run.
 *
 *   node bench/backup-files.ts [--objects 2000] [--mib 2048] [--pairs 3] [--changed-percent 1]
 *
 * An in-process S3 server (s3rver, as the tests use) holds a source bucket of --objects objects, --mib MiB in all
 * (sizes spread around the mean, content half random and half text). Alternating pairs (bench/measure.ts):
 *
 * | measured | against |
 * |---|---|
 * | the backup-files bundle, a full backup: list → per object sha256 → zstd → age → sha256 → S3, 8 in flight, manifest | `aws s3 sync`'s equivalent with encryption: the AWS SDK listing, GetObject → `age -r` (the age CLI) → PutObject, 8 in flight (this script with --stock-copy: neither `aws s3 sync` nor rclone can encrypt with age on the way) |
 * | an incremental backup after --changed-percent of the objects changed | the full backup just before it |
 *
 * Targets (issue 16): full ≤ 1.0× the stock tools; incremental with 1% changed ≤ 0.05× of the full one.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { generateIdentity, recipientOf } from '../actions/lib/crypto/age.ts';
import { forEachAtMost } from '../actions/lib/files/pool.ts';
import { startTestS3, testS3Client } from '../test/harness/s3.ts';
import { alternatingPairs, describePairs, measure, type Measured } from './measure.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).join(' ');
const option = (name: string, fallback: number): number =>
  Number(new RegExp(`--${name}[= ](\\d+(?:\\.\\d+)?)`).exec(args)?.[1] ?? fallback);
const OBJECTS = option('objects', 2000);
const MIB = option('mib', 2048);
const PAIRS = option('pairs', 3);
const CHANGED_PERCENT = option('changed-percent', 1);
const CONCURRENCY = 8;

/** The stock side, run as its own process under GNU time: list, then GetObject → age CLI → PutObject, 8 at once. */
async function stockCopy(endpoint: string, recipient: string, target: string): Promise<void> {
  const client = testS3Client(endpoint);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'source', ContinuationToken: token }));
    for (const object of page.Contents ?? []) keys.push(object.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await forEachAtMost(keys, CONCURRENCY, async (key) => {
    const body = (await client.send(new GetObjectCommand({ Bucket: 'source', Key: key }))).Body as Readable;
    const age = spawn('age', ['-r', recipient], { stdio: ['pipe', 'pipe', 'inherit'] });
    body.pipe(age.stdin);
    const encrypted = await buffer(age.stdout);
    await client.send(new PutObjectCommand({ Bucket: 'backups', Key: `${target}/${key}.age`, Body: encrypted }));
  });
}

async function seed(client: S3Client): Promise<string[]> {
  const mean = (MIB * 1024 * 1024) / OBJECTS;
  const keys = Array.from(
    { length: OBJECTS },
    (_, index) => `uploads/${index % 50}/${index}.${index % 2 ? 'bin' : 'txt'}`,
  );
  await forEachAtMost(keys, 16, async (key) => {
    const index = Number(/(\d+)\.\w+$/.exec(key)![1]);
    await client.send(new PutObjectCommand({ Bucket: 'source', Key: key, Body: content(index, mean) }));
  });
  return keys;
}

/** Sizes from 0.5× to 1.5× the mean; odd objects random (incompressible), even ones text. */
function content(index: number, mean: number): Buffer {
  const size = Math.round(mean * (0.5 + ((index * 7919) % 1000) / 1000));
  if (index % 2) return randomBytes(size);
  return Buffer.from(`object ${index} line of text ${Date.now()}\n`.repeat(Math.ceil(size / 40))).subarray(0, size);
}

async function main(): Promise<void> {
  const s3 = await startTestS3('backups');
  const client = testS3Client(s3.endpoint);
  await client.send(new CreateBucketCommand({ Bucket: 'source' }));
  const recipient = recipientOf(generateIdentity());
  const keys = await seed(client);
  console.log(`seeded ${OBJECTS} objects, ${MIB} MiB`);
  const env = { ...process.env, ...s3.env };
  let run = 0;
  const ours = (name: string): Promise<Measured> =>
    measure(process.execPath, [path.join(ROOT, 'actions/backup-files/dist/index.js')], {
      env: {
        ...env,
        'INPUT_SOURCE-URL': 's3://source',
        'INPUT_SOURCE-ENDPOINT-URL': s3.endpoint,
        INPUT_NAME: name,
        'INPUT_STORAGE-URL': 's3://backups',
        'INPUT_ENCRYPTION-RECIPIENTS': recipient,
        INPUT_KIND: 'manual',
        INPUT_CONCURRENCY: String(CONCURRENCY),
      },
    });
  const stock = (): Promise<Measured> =>
    measure(
      process.execPath,
      [fileURLToPath(import.meta.url), '--stock-copy', s3.endpoint, recipient, `stock-${++run}`],
      {
        env,
      },
    );
  try {
    const full = await alternatingPairs(PAIRS, stock, () => ours(`bench-${++run}`));
    console.log(describePairs('full backup vs SDK + age CLI', full, '≤ 1.0×'));
    // Incremental: a full backup, then the same name again after CHANGED_PERCENT of the objects changed.
    const incremental: { stock: Measured; ours: Measured }[] = [];
    for (let round = 1; round <= PAIRS; round++) {
      const name = `bench-incremental-${round}`;
      const base = await ours(name);
      const changed = keys.filter((_, index) => index % Math.round(100 / CHANGED_PERCENT) === round % 7);
      await forEachAtMost(changed, 16, async (key) => {
        await client.send(new PutObjectCommand({ Bucket: 'source', Key: key, Body: randomBytes(4096) }));
      });
      incremental.push({ stock: base, ours: await ours(name) });
    }
    console.log(describePairs(`incremental (${CHANGED_PERCENT}% changed) vs full`, incremental, '≤ 0.05×'));
  } finally {
    await s3.stop();
  }
}

/**
 * s3rver pages listings past 1,000 keys with a DES-encrypted continuation token, which OpenSSL 3 offers only with
 * its legacy provider (the tests run with it too, vitest.config.ts): the server side runs again with it.
 */
function rerunWithLegacyProvider(): void {
  const run = spawnSync(process.execPath, ['--openssl-legacy-provider', ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(run.status ?? 1);
}

if (process.argv[2] === '--stock-copy') await stockCopy(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else if (!process.execArgv.includes('--openssl-legacy-provider')) rerunWithLegacyProvider();
else await main();
