import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { decryptStream } from '../crypto/age.ts';
import { HashingStream } from '../crypto/hash.ts';
import { ConfigurationError, VerificationError } from '../errors.ts';
import type { ManifestFile } from '../manifest/schema.ts';
import type { Store } from '../storage/index.ts';
import { reportProgress } from './progress.ts';

export interface FetchOptions {
  /** age identities; required when the file is encrypted. */
  identities: string[] | null;
  log: (line: string) => void;
}

/**
 * The reverse pipeline: destination → sha256 → age → zstd → sink, checksum verified while streaming. A file whose
 * stored bytes do not hash to the manifest's sha256 always fails with a ChecksumError naming the file, even when
 * decryption or decompression tripped over the damage first (we hash the stored object again to tell).
 */
export async function fetchFile(store: Store, folder: string, file: ManifestFile, sink: Writable, options: FetchOptions): Promise<void> {
  const key = `${folder}/${file.path}`;
  try {
    await streamVerified(store, key, file, sink, options);
  } catch (error) {
    // Close the sink whatever happened: a tool reading it (pg_restore) would otherwise wait for input forever.
    sink.destroy();
    if (error instanceof ChecksumError || error instanceof ConfigurationError) throw error;
    await assertStoredChecksum(store, key, file);
    throw error;
  }
}

export class ChecksumError extends VerificationError {
  override name = 'ChecksumError';
}

async function streamVerified(store: Store, key: string, file: ManifestFile, sink: Writable, options: FetchOptions): Promise<void> {
  const abort = new AbortController();
  const fail = (error: unknown): void => abort.abort(error);
  const hashed = new HashingStream();
  const ciphertext = new PassThrough({ highWaterMark: 1 << 20 });
  const downloading = pipeline(await store.get(key), hashed, ciphertext, { signal: abort.signal });
  downloading.catch(fail);
  const stopProgress = reportProgress(`${file.path}`, () => hashed.bytes, options.log);
  try {
    const plain = file.encryption === 'age' ? await decrypt(ciphertext, key, options.identities) : ciphertext;
    const restoring = pipeline(plain, decompressor(file), sink, { signal: abort.signal });
    restoring.catch(fail);
    await Promise.all([downloading, restoring]);
  } catch (error) {
    fail(error);
    await downloading.catch(() => undefined);
    throw abort.signal.reason ?? error;
  } finally {
    stopProgress();
  }
  checkDigest(key, file, hashed.bytes, hashed.digest());
}

function decompressor(file: ManifestFile): NodeJS.ReadWriteStream {
  if (file.compression === 'zstd') return zlib.createZstdDecompress();
  if (file.compression === 'gzip') return zlib.createGunzip();
  return new PassThrough({ highWaterMark: 1 << 20 });
}

async function decrypt(ciphertext: Readable, key: string, identities: string[] | null): Promise<Readable> {
  if (!identities) {
    throw new ConfigurationError(
      `${key} is age-encrypted: set input "encryption-identity" to the age key that matches the backup's recipients.`,
    );
  }
  try {
    return await decryptStream(ciphertext, identities);
  } catch (error) {
    if (/no identity matched/i.test((error as Error).message)) {
      throw new ConfigurationError(
        `Input "encryption-identity" does not match any recipient of ${key}: use the age key whose public key is ` +
          "listed under encryption.recipients in the backup's manifest.json.",
      );
    }
    throw error;
  }
}

/** Hashes the stored object from scratch; throws ChecksumError when it differs from the manifest. */
export async function assertStoredChecksum(store: Store, key: string, file: ManifestFile): Promise<void> {
  const hashed = new HashingStream();
  await pipeline(await store.get(key), hashed, discard());
  checkDigest(key, file, hashed.bytes, hashed.digest());
}

function checkDigest(key: string, file: ManifestFile, bytes: number, sha256: string): void {
  if (sha256 !== file.sha256 || bytes !== file.bytes) {
    throw new ChecksumError(
      `Checksum mismatch in ${key}: the manifest says sha256 ${file.sha256} (${file.bytes} bytes), the stored file ` +
        `hashes to ${sha256} (${bytes} bytes). The file was altered or truncated: do not restore it; use another ` +
        'destination or an older backup.',
    );
  }
}

export function discard(): Writable {
  return new PassThrough().resume();
}
