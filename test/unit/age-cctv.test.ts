import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AgeIdentityError, createDecryptStream } from '../../actions/lib/crypto/age.ts';

/**
 * The official age test vectors (C2SP CCTV, vendored in test/fixtures/age-cctv with their license note): every
 * vector that applies to what we implement must succeed or fail exactly as it says, the failure of the kind it
 * names, and the plaintext released before a payload failure must be the one it hashes.
 */
const FOLDER = path.join(import.meta.dirname, '..', 'fixtures', 'age-cctv');

type Expect = 'success' | 'no match' | 'HMAC failure' | 'header failure' | 'payload failure' | 'armor failure';

interface Vector {
  name: string;
  expect: Expect;
  payload: string | undefined;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  file: Buffer;
}

function readVector(name: string): Vector {
  const bytes = fs.readFileSync(path.join(FOLDER, name));
  const split = bytes.indexOf('\n\n');
  const fields = bytes
    .subarray(0, split)
    .toString('utf8')
    .split('\n')
    .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)] as const);
  const values = (key: string): string[] => fields.filter(([k]) => k === key).map(([, value]) => value);
  const body = bytes.subarray(split + 2);
  return {
    name,
    expect: values('expect')[0] as Expect,
    payload: values('payload')[0],
    identities: values('identity'),
    passphrases: values('passphrase'),
    armored: values('armored')[0] === 'yes',
    file: values('compressed')[0] === 'zlib' ? inflateSync(body) : body,
  };
}

/** Why a vector does not apply to Backstop; undefined when it runs. */
function skipReason(vector: Vector): string | undefined {
  if (vector.armored || vector.expect === 'armor failure') {
    return 'ASCII armor: Backstop writes and reads binary age files only';
  }
  if (vector.identities.length === 0 && vector.passphrases.length > 0) {
    return 'scrypt (passphrase) recipients: not implemented, backups are encrypted to public keys';
  }
  return undefined;
}

/**
 * Feeds the file in 1 KiB pieces, a turn each, so what the stream releases before an error reaches us (a
 * pipeline would drop what was still buffered when the error came).
 */
async function decrypt(vector: Vector): Promise<{ plaintext: Buffer; error: Error | undefined }> {
  const chunks: Buffer[] = [];
  let error: Error | undefined;
  let stream: ReturnType<typeof createDecryptStream>;
  try {
    stream = createDecryptStream(vector.identities);
  } catch (caught) {
    return { plaintext: Buffer.alloc(0), error: caught as Error };
  }
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => {
    stream.on('error', (caught) => {
      error = caught;
      resolve();
    });
    stream.on('end', resolve);
  });
  for (let offset = 0; offset < vector.file.length && !error; offset += 1024) {
    await new Promise<void>((resolve) => stream.write(vector.file.subarray(offset, offset + 1024), () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!error) stream.end();
  await ended;
  return { plaintext: Buffer.concat(chunks), error };
}

function outcome(error: Error | undefined): Expect {
  if (!error) return 'success';
  if (error instanceof AgeIdentityError) return 'no match';
  if (/MAC does not match/.test(error.message)) return 'HMAC failure';
  if (/^(Damaged age header|Not an age)/.test(error.message)) return 'header failure';
  if (/^age: /.test(error.message)) return 'payload failure';
  throw error;
}

const vectors = fs
  .readdirSync(FOLDER)
  .filter((name) => name !== 'README.md')
  .sort()
  .map(readVector);
const skipped = vectors.filter((vector) => skipReason(vector));
const applicable = vectors.filter((vector) => !skipReason(vector));

describe('the C2SP CCTV age test vectors', () => {
  it('skips only the armored and passphrase-only vectors, and says which', () => {
    const reasons = new Map<string, string[]>();
    for (const vector of skipped)
      reasons.set(skipReason(vector)!, [...(reasons.get(skipReason(vector)!) ?? []), vector.name]);
    console.info(
      [...reasons].map(([reason, names]) => `skipped ${names.length} (${reason}): ${names.join(' ')}`).join('\n'),
    );
    expect(skipped.every((vector) => vector.name.startsWith('armor_') || vector.name.startsWith('scrypt'))).toBe(true);
    // Both recipient types we implement are covered, successes and failures alike.
    expect(applicable.filter((vector) => vector.name.startsWith('hybrid')).length).toBeGreaterThan(15);
    expect(applicable.filter((vector) => vector.name.startsWith('x25519')).length).toBeGreaterThan(10);
    expect(applicable.length).toBe(vectors.length - skipped.length);
  });

  it.each(applicable.map((vector) => [vector.name, vector] as const))('%s', async (_name, vector) => {
    const { plaintext, error } = await decrypt(vector);
    expect(outcome(error), error?.message).toBe(vector.expect);
    if (vector.expect === 'success' || vector.expect === 'payload failure') {
      expect(createHash('sha256').update(plaintext).digest('hex')).toBe(vector.payload);
    } else {
      expect(plaintext.length).toBe(0);
    }
  });
});
