import { PassThrough, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { AgeIdentityError, createDecryptStream, type Identities } from '../crypto/age.ts';
import { HashingStream } from '../crypto/hash.ts';
import { ConfigurationError, VerificationError } from '../action/errors.ts';
import type { ManifestFile } from '../manifest/schema.ts';
import type { Store } from '../storage/index.ts';
import { ZSTD_CHUNK_BYTES } from './backup.ts';
import { Coalesce } from './coalesce.ts';
import { reportProgress } from './progress.ts';

export interface FetchOptions {
  /** age identities; the keys are required when the file is encrypted. */
  identities: Identities;
  log: (line: string) => void;
}

export class ChecksumError extends VerificationError {
  override name = 'ChecksumError';
}

/**
 * The reverse pipeline: destination → sha256 → age → zstd → sink, checksum verified while streaming. A file whose
 * stored bytes do not hash to the manifest's sha256 always fails with a ChecksumError naming the file, even when
 * decryption or decompression tripped over the damage first (we hash the stored object again to tell).
 */
export async function fetchFile(
  store: Store,
  folder: string,
  file: ManifestFile,
  sink: Writable,
  options: FetchOptions,
): Promise<void> {
  const key = `${folder}/${file.path}`;
  if (file.encryption === 'age' && !options.identities.keys) {
    sink.destroy();
    throw new ConfigurationError(
      `${key} is age-encrypted: set ${options.identities.origin} to the age key that matches the backup's recipients.`,
    );
  }
  const hashed = new HashingStream();
  const stages: Transform[] = [hashed];
  if (file.encryption === 'age') stages.push(createDecryptStream(options.identities.keys!));
  if (file.compression === 'zstd')
    stages.push(new Coalesce(ZSTD_CHUNK_BYTES), zlib.createZstdDecompress({ chunkSize: ZSTD_CHUNK_BYTES }));
  else if (file.compression === 'gzip') stages.push(zlib.createGunzip());
  const stopProgress = reportProgress(file.path, () => hashed.bytes, options.log, file.bytes);
  try {
    await pipeline([await store.get(key), ...stages, sink]);
  } catch (error) {
    // Close the sink whatever happened: a tool reading it (pg_restore) would otherwise wait for input forever.
    sink.destroy();
    if (error instanceof AgeIdentityError) {
      throw new ConfigurationError(
        `${options.identities.origin.title} does not match any recipient of ${key}: use the age key whose ` +
          "public key is listed under encryption.recipients in the backup's manifest.json.",
      );
    }
    await assertPresent(store, key, file);
    await assertStoredChecksum(store, key, file);
    throw error;
  } finally {
    stopProgress();
  }
  checkDigest(key, file, hashed.bytes, hashed.digest());
}

/** The manifest lists the file but the destination has no such object: the backup is damaged there. */
async function assertPresent(store: Store, key: string, file: ManifestFile): Promise<void> {
  if ((await store.head(key).catch(() => 0)) !== undefined) return;
  throw new ChecksumError(
    `${file.path} is missing: the manifest lists it (${file.bytes} bytes) at ${store.urlOf(key)}, but that ` +
      'destination has no such file. Restore from another destination, or choose another backup (backup-id).',
  );
}

/** Hashes the stored object from scratch; throws ChecksumError when it differs from the manifest. */
export async function assertStoredChecksum(store: Store, key: string, file: ManifestFile): Promise<void> {
  const hashed = new HashingStream();
  await pipeline(await store.get(key), hashed, new PassThrough().resume());
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
