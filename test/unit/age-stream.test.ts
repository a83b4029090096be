import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecryptStream,
  createEncryptStream,
  generateIdentity,
  recipientOf,
} from '../../actions/lib/crypto/age.ts';
import { Handoff } from '../../actions/lib/pipeline/handoff.ts';

const BLOCK = 64 * 1024;
let identity: string;
let work: string;
let keyFile: string;

beforeAll(async () => {
  identity = generateIdentity();
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-age-stream-'));
  keyFile = path.join(work, 'key.txt');
  await fs.writeFile(keyFile, `${identity}\n`, { mode: 0o600 });
});

afterAll(() => fs.rm(work, { recursive: true, force: true }));

/** The plaintext cut into the given chunk sizes (the last chunk takes the rest). */
function chunked(plaintext: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const size of sizes) {
    chunks.push(plaintext.subarray(offset, Math.min(offset + size, plaintext.length)));
    offset = Math.min(offset + size, plaintext.length);
  }
  chunks.push(plaintext.subarray(offset));
  return chunks;
}

function randomSizes(total: number): number[] {
  const sizes: number[] = [];
  for (let sum = 0; sum < total; ) {
    // Empty chunks, small ones, exact blocks and chunks spanning many blocks.
    const size = [0, randomInt(1, 100), BLOCK, BLOCK - 1, BLOCK + 1, randomInt(1, 3 * 1024 * 1024)][randomInt(0, 6)]!;
    sizes.push(size);
    sum += size;
  }
  return sizes;
}

/** The age file's size: header, 16-byte nonce, then every 64 KiB block (at least one) with a 16-byte tag. */
function payloadBytes(plaintextBytes: number): number {
  return 16 + plaintextBytes + 16 * Math.max(1, Math.ceil(plaintextBytes / BLOCK));
}

describe('age encryption of chunked input', () => {
  const cases: [string, number, number[]][] = [
    ['empty input', 0, []],
    ['empty chunks only', 0, [0, 0, 0]],
    ['one block in two halves', BLOCK, [BLOCK / 2]],
    ['two blocks exactly, one chunk', 2 * BLOCK, [2 * BLOCK]],
    ['a block, then one byte', BLOCK + 1, [BLOCK]],
    ['blocks split at every boundary ±1', 5 * BLOCK + 3, [BLOCK - 1, 2, BLOCK - 1, 0, 2 * BLOCK, 1]],
    ['1 MiB chunks, as zstd gives them', 3 * 1024 * 1024 + 17, [1 << 20, 1 << 20, 1 << 20]],
    ['random chunk sizes', 9 * 1024 * 1024 + 5, randomSizes(9 * 1024 * 1024 + 5)],
  ];

  it.each(cases)('the age CLI and our decrypter read it back (%s)', async (_name, size, sizes) => {
    const plaintext = randomBytes(size);
    const encrypted = await buffer(
      Readable.from(chunked(plaintext, sizes)).pipe(createEncryptStream([recipientOf(identity)])),
    );
    const headerEnd = encrypted.indexOf('\n', encrypted.indexOf('\n--- ') + 1) + 1;
    expect(encrypted.length - headerEnd).toBe(payloadBytes(size));

    const file = path.join(work, 'chunked.age');
    await fs.writeFile(file, encrypted);
    const byAge = execFileSync('age', ['--decrypt', '--identity', keyFile, file], { maxBuffer: 64 * 1024 * 1024 });
    expect(byAge.equals(plaintext)).toBe(true);
    const byUs = await buffer(Readable.from([encrypted]).pipe(createDecryptStream([identity])));
    expect(byUs.equals(plaintext)).toBe(true);
  });
});

describe('Handoff', () => {
  it('forwards every chunk unchanged and in order, a later turn each', async () => {
    const plaintext = randomBytes(4 * 1024 * 1024 + 7);
    const chunks = chunked(plaintext, randomSizes(plaintext.length));
    const out = await buffer(Readable.from(chunks).pipe(new Handoff(1 << 20)));
    expect(out.equals(plaintext)).toBe(true);
  });
});
