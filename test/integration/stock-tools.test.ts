import { execFileSync, spawnSync } from 'node:child_process';
import { Origin } from '../../actions/lib/action/origin.ts';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Decrypter as AgeDecrypter,
  Encrypter as AgeEncrypter,
  generateHybridIdentity as generateTheirHybridIdentity,
  identityToRecipient,
} from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgeIdentityError,
  createDecryptStream,
  createEncryptStream,
  generateHybridIdentity,
  parseIdentities,
  recipientOf,
} from '../../actions/lib/crypto/age.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import {
  emptyDatabase,
  rowCounts,
  sampleDatabase,
  startTestCluster,
  type ScratchCluster,
} from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';

/** What we write, the stock tools read; what the stock tools write, we read. No Backstop needed to restore. */
let keys: KeyPair;
let work: string;
let keyFile: string;

beforeAll(async () => {
  keys = await newKeyPair();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-stock-'));
  keyFile = path.join(work, 'backstop.key');
  await fs.writeFile(keyFile, `# created: by the test\n# public key: ${keys.recipient}\n${keys.identity}\n`, {
    mode: 0o600,
  });
});

afterAll(() => fs.rm(work, { recursive: true, force: true }));

describe('age interoperability', () => {
  const sizes = [0, 1, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 17];

  it.each(sizes)('the age CLI decrypts what we encrypt (%i bytes)', async (size) => {
    const plaintext = randomBytes(size);
    const file = path.join(work, `ours-${size}.age`);
    await pipeline(Readable.from([plaintext]), createEncryptStream([keys.recipient]), createWriteStream(file));
    const decrypted = execFileSync('age', ['--decrypt', '--identity', keyFile, file], { maxBuffer: 64 * 1024 * 1024 });
    expect(decrypted.equals(plaintext)).toBe(true);
  });

  it.each(sizes)('we decrypt what the age CLI encrypts (%i bytes)', async (size) => {
    const plaintext = randomBytes(size);
    const encrypted = execFileSync('age', ['--encrypt', '--recipient', keys.recipient], {
      input: plaintext,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect((await decrypt(encrypted, [keys.identity])).equals(plaintext)).toBe(true);
  });

  it('a second implementation (the age-encryption package) agrees both ways', async () => {
    const plaintext = randomBytes(200_000);
    const theirs = new AgeDecrypter();
    theirs.addIdentity(keys.identity);
    expect(Buffer.from(await theirs.decrypt(await encrypt(plaintext, [keys.recipient]))).equals(plaintext)).toBe(true);
    const encrypter = new AgeEncrypter();
    encrypter.addRecipient(keys.recipient);
    expect((await decrypt(Buffer.from(await encrypter.encrypt(plaintext)), [keys.identity])).equals(plaintext)).toBe(
      true,
    );
  });

  it.each([0, 1, 64 * 1024, 200_000])(
    'post-quantum hybrid recipients: the age-encryption package and we agree both ways (%i bytes)',
    async (size) => {
      const plaintext = randomBytes(size);
      const ours = generateHybridIdentity();
      const theirs = await generateTheirHybridIdentity();
      expect(recipientOf(theirs)).toBe(await identityToRecipient(theirs));
      expect(recipientOf(ours)).toBe(await identityToRecipient(ours));
      // Ours to two hybrid recipients: each identity opens it in their implementation.
      const encrypted = await encrypt(plaintext, [recipientOf(ours), recipientOf(theirs)]);
      expect(encrypted.subarray(0, 200).toString('latin1')).toContain('\n-> mlkem768x25519 ');
      for (const identity of [ours, theirs]) {
        const decrypter = new AgeDecrypter();
        decrypter.addIdentity(identity);
        expect(Buffer.from(await decrypter.decrypt(encrypted)).equals(plaintext)).toBe(true);
      }
      // Theirs: we open it with either identity, and refuse an X25519 key.
      const encrypter = new AgeEncrypter();
      encrypter.addRecipient(recipientOf(ours));
      encrypter.addRecipient(await identityToRecipient(theirs));
      const theirFile = Buffer.from(await encrypter.encrypt(plaintext));
      expect((await decrypt(theirFile, [ours])).equals(plaintext)).toBe(true);
      expect((await decrypt(theirFile, [keys.identity, theirs])).equals(plaintext)).toBe(true);
      await expect(decrypt(theirFile, [keys.identity])).rejects.toThrow(AgeIdentityError);
    },
  );

  it('a file the age-encryption package writes to both kinds opens with either; we refuse to write one', async () => {
    const plaintext = randomBytes(70_000);
    const hybrid = generateHybridIdentity();
    const encrypter = new AgeEncrypter();
    encrypter.addRecipient(keys.recipient);
    encrypter.addRecipient(recipientOf(hybrid));
    const mixed = Buffer.from(await encrypter.encrypt(plaintext));
    expect((await decrypt(mixed, [hybrid])).equals(plaintext)).toBe(true);
    expect((await decrypt(mixed, [keys.identity])).equals(plaintext)).toBe(true);
    expect(() => createEncryptStream([keys.recipient, recipientOf(hybrid)])).toThrow(
      /mixes post-quantum \(age1pq1…\) and X25519 \(age1…\) recipients/,
    );
  });

  it('refuses a hybrid file with a flipped byte in its stanza, its payload or its last chunk dropped', async () => {
    const hybrid = generateHybridIdentity();
    const plaintext = randomBytes(3 * 64 * 1024 + 5);
    const encrypted = await encrypt(plaintext, [recipientOf(hybrid)]);
    const inEnc = Buffer.from(encrypted);
    inEnc[encrypted.indexOf('mlkem768x25519 ') + 100]! ^= 1; // base64 of the ML-KEM ciphertext
    await expect(decrypt(inEnc, [hybrid])).rejects.toThrow(/no identity matched|Damaged age header/);
    const inPayload = Buffer.from(encrypted);
    inPayload[inPayload.length - 1000]! ^= 1;
    await expect(decrypt(inPayload, [hybrid])).rejects.toThrow(/chunk 2 failed to decrypt and authenticate/);
    await expect(decrypt(encrypted.subarray(0, encrypted.length - 21), [hybrid])).rejects.toThrow(/truncated/);
  });

  it('keys made by age-keygen work, and each of several recipients can decrypt', async () => {
    const keygen = path.join(work, 'keygen.key');
    execFileSync('age-keygen', ['-o', keygen], { stdio: 'ignore' });
    const text = await fs.readFile(keygen, 'utf8');
    const identity = parseIdentities(text, Origin.input('encryption-identity'))[0]!;
    const recipient = execFileSync('age-keygen', ['-y', keygen], { encoding: 'utf8' }).trim();
    expect(recipientOf(identity)).toBe(recipient);
    const plaintext = randomBytes(100_000);
    const encrypted = await encrypt(plaintext, [keys.recipient, recipient]);
    expect((await decrypt(encrypted, [identity])).equals(plaintext)).toBe(true);
    expect((await decrypt(encrypted, [keys.identity])).equals(plaintext)).toBe(true);
    expect(execFileSync('age', ['-d', '-i', keygen], { input: encrypted }).equals(plaintext)).toBe(true);
  });

  it('refuses a wrong key, a truncated file, a dropped last chunk and a flipped byte', async () => {
    const plaintext = randomBytes(3 * 64 * 1024 + 5);
    const encrypted = await encrypt(plaintext, [keys.recipient]);
    await expect(decrypt(encrypted, [(await newKeyPair()).identity])).rejects.toThrow(AgeIdentityError);
    await expect(decrypt(encrypted.subarray(0, encrypted.length - 10), [keys.identity])).rejects.toThrow(
      /the file is truncated/,
    );
    await expect(decrypt(encrypted.subarray(0, encrypted.length - 3), [keys.identity])).rejects.toThrow(
      /failed to decrypt and authenticate/,
    );
    const lastChunkBytes = 5 + 16;
    await expect(decrypt(encrypted.subarray(0, encrypted.length - lastChunkBytes), [keys.identity])).rejects.toThrow(
      /failed to decrypt|truncated/,
    );
    const flipped = Buffer.from(encrypted);
    flipped[flipped.length >> 1]! ^= 1;
    await expect(decrypt(flipped, [keys.identity])).rejects.toThrow(/chunk \d+ failed to decrypt and authenticate/);
    await expect(decrypt(Buffer.from('not an age file'), [keys.identity])).rejects.toThrow(/Not an age/);
  });
});

async function encrypt(plaintext: Buffer, recipients: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from([plaintext]), createEncryptStream(recipients), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

async function decrypt(ciphertext: Buffer, identities: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  // Small pieces, so the header and chunk boundaries fall anywhere.
  const pieces = Array.from({ length: Math.ceil(ciphertext.length / 7001) }, (_, i) =>
    ciphertext.subarray(i * 7001, (i + 1) * 7001),
  );
  await pipeline(Readable.from(pieces), createDecryptStream(identities), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

describe('restoring with only age, zstd and pg_restore (runbooks/restore-postgres.md)', () => {
  let cluster: ScratchCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
  });
  afterAll(() => cluster?.stop());

  it('sha256sum, age -d, zstd -d and pg_restore bring back every row', async () => {
    const source = await sampleDatabase(cluster, 50_000);
    const storage = path.join(work, 'backups');
    const dump = await runAction('dump-postgres', {
      'database-url': source,
      name: 'prod',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
    });
    expect(dump.code, dump.stdout).toBe(0);
    const folder = path.join(storage, 'prod', dump.outputs['backup-id']!);
    const manifest = JSON.parse(await fs.readFile(path.join(folder, 'manifest.json'), 'utf8'));
    const file = path.join(folder, manifest.files[0].path);

    // Step 1 of the runbook: check the checksum against the manifest.
    expect(execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]).toBe(manifest.files[0].sha256);
    // Step 2: the pipe, exactly as the runbook prints it.
    const target = await emptyDatabase(cluster);
    const restore = spawnSync(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `age -d -i "$KEY" "$FILE" | zstd -d | pg_restore --no-owner --no-acl --exit-on-error -d "$TARGET"`,
      ],
      {
        env: { ...process.env, KEY: keyFile, FILE: file, TARGET: target },
        encoding: 'utf8',
      },
    );
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(await rowCounts(target)).toEqual(await rowCounts(source));
    // zstd frames carry their own checksum: `zstd -t` checks a decrypted file on its own.
    const test = spawnSync('bash', ['-o', 'pipefail', '-c', 'age -d -i "$KEY" "$FILE" | zstd -t'], {
      env: { ...process.env, KEY: keyFile, FILE: file },
    });
    expect(test.status).toBe(0);
  });
});
