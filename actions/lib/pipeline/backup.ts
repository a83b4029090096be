import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { encryptStream } from '../crypto/age.ts';
import { CountingStream, HashingStream } from '../crypto/hash.ts';
import type { ManifestFile } from '../manifest/schema.ts';
import type { Store } from '../storage/index.ts';
import { FanOut } from './fanout.ts';
import { reportProgress } from './progress.ts';

export interface StoreStreamOptions {
  /** The file's path inside the backup folder (what the manifest records). */
  path: string;
  /** The backup folder, e.g. `prod-db/20260118T030000Z-daily-3f9a`. */
  folder: string;
  compress: boolean;
  /** age recipients; null stores the stream unencrypted (allow-unencrypted). */
  recipients: string[] | null;
  log: (line: string) => void;
}

/** zstd level 3 is zstd's default: ~5× on tick data at well over 1 GB/s on one core. */
const ZSTD_LEVEL = 3;

export function zstdCompressor(): zlib.ZstdCompress {
  return zlib.createZstdCompress({
    params: {
      [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL,
      // A content checksum in every frame, so `zstd -t` and the stock tools can check a file on their own.
      [zlib.constants.ZSTD_c_checksumFlag]: 1,
    },
  });
}

/**
 * The backup pipeline: tool output → zstd → age → sha256 → every destination at once. Nothing is spooled:
 * memory is a few buffers per stage whatever the size. Resolves with the manifest entry once every destination
 * holds the complete object; rejects (after tearing every stage down) if any stage or destination fails.
 */
export async function storeStream(source: Readable, stores: Store[], options: StoreStreamOptions): Promise<ManifestFile> {
  const storedPath = options.path + (options.compress ? '.zst' : '') + (options.recipients ? '.age' : '');
  const key = `${options.folder}/${storedPath}`;
  const abort = new AbortController();
  const fail = (error: unknown): void => abort.abort(error);

  const raw = new CountingStream();
  const plain = new PassThrough({ highWaterMark: 1 << 20 });
  const compressing = options.compress
    ? pipeline(source, raw, zstdCompressor(), plain, { signal: abort.signal })
    : pipeline(source, raw, plain, { signal: abort.signal });
  compressing.catch(fail);

  const stored = new HashingStream();
  const fanOut = new FanOut(stores.length);
  const uploads = stores.map((store, index) => store.put(key, fanOut.outputs[index]!));
  for (const upload of uploads) upload.catch(fail);

  const stopProgress = reportProgress(`${storedPath}`, () => raw.bytes, options.log);
  try {
    const encrypted = options.recipients ? await encryptStream(plain, options.recipients) : plain;
    const storing = pipeline(encrypted, stored, fanOut, { signal: abort.signal });
    storing.catch(fail);
    await Promise.all([compressing, storing, ...uploads]);
  } catch (error) {
    fail(error);
    await Promise.allSettled([compressing, ...uploads]);
    throw abort.signal.reason ?? error;
  } finally {
    stopProgress();
  }
  return {
    path: storedPath,
    bytes: stored.bytes,
    sha256: stored.digest(),
    rawBytes: raw.bytes,
    compression: options.compress ? 'zstd' : 'none',
    encryption: options.recipients ? 'age' : 'none',
  };
}
