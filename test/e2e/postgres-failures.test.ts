import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../actions/lib/storage/s3.ts';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import {
  emptyDatabase,
  roleWithPassword,
  rowCounts,
  sampleDatabase,
  startPlainTestCluster,
  startTestCluster,
  type ScratchCluster,
} from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';
import { envS3Settings, startTestS3, useS3Environment, type TestS3 } from '../harness/s3.ts';

/** Every failure path of dump-postgres and restore-drill that the issue names, made to happen for real. */
let cluster: ScratchCluster;
let s3: TestS3;
let keys: KeyPair;
let sourceUrl: string;
let work: string;

beforeAll(async () => {
  [cluster, s3, keys] = await Promise.all([startTestCluster(), startTestS3(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, 500_000);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-failures-'));
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), s3?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

async function dumpTo(storage: string, name: string, extra: Record<string, string> = {}): Promise<string> {
  const dump = await runAction(
    'dump-postgres',
    { 'database-url': sourceUrl, name, 'storage-url': storage, 'encryption-recipients': keys.recipient, ...extra },
    { env: s3.env },
  );
  expect(dump.code, dump.stdout).toBe(0);
  return dump.outputs['backup-id']!;
}

async function flipByte(file: string, offset: number): Promise<void> {
  const handle = await fs.open(file, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, offset);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

describe('a damaged backup', () => {
  it.each([
    ['encrypted', 'postgres.dump.zst.age'],
    ['unencrypted', 'postgres.dump.zst'],
  ])(
    'one flipped byte (%s) fails the drill naming the file and the checksum, and leaves nothing restored',
    async (label, file) => {
      const storage = path.join(work, `flipped-${label}`);
      const id = await dumpTo(
        storage,
        'prod',
        label === 'encrypted' ? {} : { 'allow-unencrypted': 'true', 'encryption-recipients': '' },
      );
      const stored = path.join(storage, 'prod', id, file);
      const manifest = JSON.parse(await fs.readFile(path.join(storage, 'prod', id, 'manifest.json'), 'utf8'));
      await flipByte(stored, Math.floor((await fs.stat(stored)).size / 2));

      const target = await emptyDatabase(cluster);
      const drill = await runAction('restore-drill', {
        'storage-url': storage,
        name: 'prod',
        'encryption-identity': keys.identity,
        'target-url': target,
      });
      expect(drill.code).toBe(1);
      expect(drill.outputs.verified).toBe('false');
      expect(drill.errors).toHaveLength(1);
      expect(drill.errors[0]).toContain(`Checksum mismatch in prod/${id}/${file}`);
      expect(drill.errors[0]).toContain(manifest.files[0].sha256);
      expect(drill.summary).toContain('❌ NOT verified');
      expect(drill.summary).toContain('❌ mismatch (see problems)');
      // The restore ran in one transaction: the target holds nothing that could pass for a restored database.
      expect(await rowCounts(target)).toEqual({});
      const drills = await fs.readdir(path.join(storage, 'prod', id, 'drills'));
      const record = JSON.parse(await fs.readFile(path.join(storage, 'prod', id, 'drills', drills[0]!), 'utf8'));
      expect(record).toMatchObject({ verified: false, checksumsVerified: false });

      const dry = await runAction('restore-drill', {
        'storage-url': storage,
        name: 'prod',
        'encryption-identity': keys.identity,
        'dry-run': 'true',
      });
      expect(dry.code).toBe(1);
      expect(dry.errors[0]).toContain(`Checksum mismatch in prod/${id}/${file}`);
    },
  );

  it('a wrong identity fails with one clear line and restores nothing', async () => {
    const storage = path.join(work, 'wrong-key');
    await dumpTo(storage, 'prod');
    const other = await newKeyPair();
    const target = await emptyDatabase(cluster);
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'prod',
      'encryption-identity': other.identity,
      'target-url': target,
    });
    expect(drill.code).toBe(1);
    expect(drill.errors).toEqual([
      expect.stringContaining('Input "encryption-identity" does not match any recipient of prod/'),
    ]);
    expect(drill.outputs.verified).toBeUndefined();
    expect(drill.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain(other.identity);
    expect(await rowCounts(target)).toEqual({});

    const garbage = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'prod',
      'encryption-identity': 'AGE-SECRET-KEY-1NOTAKEY',
    });
    expect(garbage.errors).toEqual([expect.stringContaining('Input "encryption-identity" is not an age identity')]);
    expect(garbage.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain('NOTAKEY');

    const missing = await runAction('restore-drill', { 'storage-url': storage, name: 'prod' });
    expect(missing.errors).toEqual([expect.stringContaining('is age-encrypted: set input "encryption-identity"')]);
  });
});

describe('bad inputs and unreachable servers', () => {
  it('an unreachable database fails before anything is written', async () => {
    const storage = path.join(work, 'unreachable');
    const port = await freePort();
    const dump = await runAction('dump-postgres', {
      'database-url': `postgresql://backup:pw-unreachable@127.0.0.1:${port}/prod`,
      name: 'prod',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
    });
    expect(dump.code).toBe(1);
    expect(dump.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `Cannot connect to postgresql://backup:\\*\\*\\*@127.0.0.1:${port}/prod \\(input "database-url"\\): ` +
            `.*ECONNREFUSED`,
        ),
      ),
    ]);
    await expect(fs.access(storage)).rejects.toThrow();
  });

  it.each([
    [{ 'database-url': 'not a url' }, 'Input "database-url" is not a URL'],
    [{ 'database-url': 'mysql://u:p@h/db' }, 'Input "database-url" has scheme "mysql:"'],
    [{ name: '../escape' }, 'Input "name" is "../escape"'],
    [
      { 'encryption-recipients': 'age1nope' },
      'Input "encryption-recipients" has "age1nope", which is not an age recipient: Backstop encrypts to age X25519',
    ],
    [{ kind: 'yearly' }, 'Input "kind" is "yearly": use one of hourly, daily, weekly, monthly, manual, pre-migration.'],
    [{ jobs: 'many' }, 'Input "jobs" is "many", not a whole number'],
    [
      { 'storage-url': 'ftp://host/x' },
      'Input "storage-url" has "ftp://host/x": not a storage URL Backstop knows. Use s3://bucket/prefix, ' +
        'file:///absolute/path, or a path (absolute, or starting with ./).',
    ],
  ])('%o gives one line naming the input', async (bad, message) => {
    const storage = path.join(work, 'bad-input');
    const dump = await runAction('dump-postgres', {
      'database-url': sourceUrl,
      name: 'prod',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
      ...bad,
    });
    expect(dump.code).toBe(1);
    expect(dump.errors).toEqual([expect.stringContaining(message)]);
    await expect(fs.access(storage)).rejects.toThrow();
  });

  it('a server newer than pg_dump fails before dumping, naming both versions and what to install', async () => {
    const newer = await startPlainTestCluster();
    try {
      expect(newer.major).toBeGreaterThan(15);
      const storage = path.join(work, 'newer');
      const dump = await runAction('dump-postgres', {
        'database-url': newer.url,
        name: 'prod',
        'storage-url': storage,
        'encryption-recipients': keys.recipient,
      });
      expect(dump.code).toBe(1);
      expect(dump.errors).toHaveLength(1);
      expect(dump.errors[0]).toMatch(
        new RegExp(
          `pg_dump 1\\d\\.\\d+ \\(.*pg_dump\\) is older than the server \\(PostgreSQL ${newer.major}\\.\\d+\\)`,
        ),
      );
      expect(dump.errors[0]).toContain(`Install postgresql-client-${newer.major}`);
      await expect(fs.access(storage)).rejects.toThrow();
    } finally {
      await newer.stop();
    }
  });
});

describe('secrets', () => {
  it('a password in the database URL never appears in logs, outputs, summary, manifest or object keys', async () => {
    const password = 'Canary-7f3a/p@ss:word';
    const encoded = encodeURIComponent(password);
    const secretUrl = await roleWithPassword(cluster, sourceUrl.split('/').pop()!, 'canary_role', password);
    const secretTarget = (await emptyDatabase(cluster)).replace('postgres@', `canary_role:${encoded}@`);
    const local = path.join(work, 'canary');
    const storage = `s3://${s3.bucket}/canary\n${local}`;
    const dump = await runAction(
      'dump-postgres',
      { 'database-url': secretUrl, name: 'prod', 'storage-url': storage, 'encryption-recipients': keys.recipient },
      { env: s3.env },
    );
    expect(dump.code, dump.stdout).toBe(0);
    const drill = await runAction(
      'restore-drill',
      { 'storage-url': storage, name: 'prod', 'encryption-identity': keys.identity, 'target-url': secretTarget },
      { env: s3.env },
    );
    expect(drill.code, drill.stdout).toBe(0);
    const failing = await runAction('dump-postgres', {
      'database-url': secretUrl.replace(/\/[^/]+$/, '/no_such_db'),
      name: 'prod',
      'storage-url': local,
      'encryption-recipients': keys.recipient,
    });
    expect(failing.code).toBe(1);

    // The runner's own ::add-mask:: lines are the only place the secret may appear (that is how it learns to mask).
    const masked = (text: string): string => text.replace(/^::add-mask::.*$/gm, '');
    const everything = [dump, drill, failing].flatMap((run) => [
      masked(run.stdout),
      run.stderr,
      run.summary,
      JSON.stringify(run.outputs),
    ]);
    const restore = useS3Environment(s3);
    try {
      const keysInS3 = await s3Client(envS3Settings()).send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'canary/' }),
      );
      everything.push(JSON.stringify(keysInS3.Contents?.map((object) => object.Key)));
    } finally {
      restore();
    }
    for (const file of await fs.readdir(local, { recursive: true })) {
      everything.push(String(file));
      const full = path.join(local, String(file));
      if ((await fs.stat(full)).isFile() && full.endsWith('.json')) everything.push(await fs.readFile(full, 'utf8'));
    }
    // @actions/core escapes % as %25 in workflow commands.
    expect(dump.stdout).toContain(`::add-mask::${secretUrl.replace(/%/g, '%25')}`);
    expect(everything.join('\n')).toContain('canary_role'); // the user name is not secret: we did look in the right places
    for (const secret of [password, encoded, 'Canary-7f3a']) expect(everything.join('\n')).not.toContain(secret);
  });
});

describe('the catalog', () => {
  it('pages through more than 1,000 objects to find the newest complete backup', async () => {
    const storage = `s3://${s3.bucket}/many`;
    const id = await dumpTo(storage, 'prod');
    const restore = useS3Environment(s3);
    try {
      const client = s3Client(envS3Settings());
      // 1,050 folders of later (incomplete) backups: without paging, listing would stop before the real one.
      for (let start = 0; start < 1050; start += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            client.send(
              new PutObjectCommand({
                Bucket: s3.bucket,
                Key: `many/prod/29990101T${String(start + i).padStart(6, '0')}Z-daily-abcd/postgres.dump.zst.age`,
                Body: 'partial',
              }),
            ),
          ),
        );
      }
    } finally {
      restore();
    }
    const drill = await runAction(
      'restore-drill',
      { 'storage-url': storage, name: 'prod', 'encryption-identity': keys.identity, 'dry-run': 'true' },
      { env: s3.env },
    );
    expect(drill.errors).toEqual([]);
    expect(drill.code).toBe(0);
    expect(drill.outputs['backup-id']).toBe(id);
  });

  it('a backup killed mid-upload leaves no manifest and is never picked as newest', async () => {
    const local = path.join(work, 'killed');
    const storage = `s3://${s3.bucket}/killed\n${local}`;
    const good = await dumpTo(storage, 'prod');
    // Ids carry whole seconds; start the killed backup in a later second so it is the newer id.
    await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
    let killedId = '';
    const killed = await runAction(
      'dump-postgres',
      { 'database-url': sourceUrl, name: 'prod', 'storage-url': storage, 'encryption-recipients': keys.recipient },
      {
        env: s3.env,
        onStart: (child) => {
          child.stdout!.on('data', (text: Buffer) => {
            const match = /Backup (\S+): \d+ tables/.exec(String(text));
            if (match) {
              killedId = match[1]!;
              // Wait until the upload is under way (a partial file exists), then SIGKILL: no cleanup code runs.
              const poll = setInterval(async () => {
                const entries = await fs.readdir(path.join(local, 'prod', killedId)).catch(() => [] as string[]);
                if (entries.some((entry) => entry.includes('.partial-'))) {
                  clearInterval(poll);
                  child.kill('SIGKILL');
                }
              }, 5);
            }
          });
        },
      },
    );
    expect(killed.code).toBeNull();
    expect(killedId).not.toBe('');
    const leftovers = await fs.readdir(path.join(local, 'prod', killedId));
    expect(leftovers.some((entry) => entry.includes('.partial-'))).toBe(true);
    expect(leftovers).not.toContain('manifest.json');
    const drill = await runAction(
      'restore-drill',
      { 'storage-url': storage, name: 'prod', 'encryption-identity': keys.identity, 'dry-run': 'true' },
      { env: s3.env },
    );
    expect(drill.code, drill.stdout).toBe(0);
    expect(drill.outputs['backup-id']).toBe(good);
    expect(killedId > good).toBe(true);
  });
});
