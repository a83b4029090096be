import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptStream, encryptStream } from '../../actions/lib/crypto/age.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { emptyDatabase, rowCounts, sampleDatabase, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';

/** What we write, the stock tools read; what the stock tools write, we read. No Backstop needed to restore. */
let keys: KeyPair;
let work: string;
let keyFile: string;

beforeAll(async () => {
  keys = await newKeyPair();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-stock-'));
  keyFile = path.join(work, 'backstop.key');
  await fs.writeFile(keyFile, `# created: by the test\n# public key: ${keys.recipient}\n${keys.identity}\n`, { mode: 0o600 });
});

afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe('age interoperability with the age CLI', () => {
  const plaintext = randomBytes(3 * 1024 * 1024 + 17); // several 64 KiB age chunks and a partial last one

  it('the age CLI decrypts what we encrypt', async () => {
    const encrypted = await buffer(await encryptStream(Readable.from([plaintext]), [keys.recipient]));
    const file = path.join(work, 'ours.age');
    await fs.writeFile(file, encrypted);
    const decrypted = execFileSync('age', ['--decrypt', '--identity', keyFile, file], { maxBuffer: 64 * 1024 * 1024 });
    expect(decrypted.equals(plaintext)).toBe(true);
  });

  it('we decrypt what the age CLI encrypts', async () => {
    const encrypted = execFileSync('age', ['--encrypt', '--recipient', keys.recipient], { input: plaintext, maxBuffer: 64 * 1024 * 1024 });
    const decrypted = await buffer(await decryptStream(Readable.from([encrypted]), [keys.identity]));
    expect(decrypted.equals(plaintext)).toBe(true);
  });
});

describe('restoring with only age, zstd and pg_restore (runbooks/restore-postgres.md)', () => {
  let cluster: ScratchCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
  });
  afterAll(() => cluster?.stop());

  it('sha256sum, age -d, zstd -d and pg_restore bring back every row', async () => {
    const source = await sampleDatabase(cluster, 50_000);
    const storage = path.join(work, 'backups');
    const dump = await runAction('dump-postgres', { 'database-url': source, name: 'prod', 'storage-url': storage, 'encryption-recipients': keys.recipient });
    expect(dump.code, dump.stdout).toBe(0);
    const folder = path.join(storage, 'prod', dump.outputs['backup-id']!);
    const manifest = JSON.parse(await fs.readFile(path.join(folder, 'manifest.json'), 'utf8'));
    const file = path.join(folder, manifest.files[0].path);

    // Step 1 of the runbook: check the checksum against the manifest.
    expect(execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]).toBe(manifest.files[0].sha256);
    // Step 2: the pipe, exactly as the runbook prints it.
    const target = await emptyDatabase(cluster);
    const restore = spawnSync('bash', ['-o', 'pipefail', '-c', `age -d -i "$KEY" "$FILE" | zstd -d | pg_restore --no-owner --no-acl --exit-on-error -d "$TARGET"`], {
      env: { ...process.env, KEY: keyFile, FILE: file, TARGET: target },
      encoding: 'utf8',
    });
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(await rowCounts(target)).toEqual(await rowCounts(source));
    // zstd frames carry their own checksum: `zstd -t` checks a decrypted file on its own.
    const test = spawnSync('bash', ['-o', 'pipefail', '-c', 'age -d -i "$KEY" "$FILE" | zstd -t'], { env: { ...process.env, KEY: keyFile, FILE: file } });
    expect(test.status).toBe(0);
  });
});
