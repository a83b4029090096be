import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { createEncryptStream } from '../crypto/age.ts';
import { onInterrupt } from '../interrupt.ts';
import type { ToolExitError } from '../process.ts';
import { errorMessage } from '../action/errors.ts';
import { CountingStream, HashingStream } from '../crypto/hash.ts';
import { Coalesce } from './coalesce.ts';
import type { ManifestFile } from '../manifest/schema.ts';
import type { Store } from '../storage/index.ts';
import { FanOut } from './fanout.ts';
import { Handoff } from './handoff.ts';
import { reportProgress } from './progress.ts';

export interface StoreStreamOptions {
  /** The file's path inside the backup folder, before the .zst/.age suffixes. */
  path: string;
  /** The backup folder, e.g. `prod-db/20260118T030000Z-daily-3f9a`. */
  folder: string;
  compress: boolean;
  /** age recipients; null stores the stream unencrypted (allow-unencrypted). */
  recipients: string[] | null;
  /** Also hash the tool's output before compression (manifest rawSha256): costs one more sha256 pass. */
  hashRaw?: boolean;
  /** Sees every chunk of the tool's output as it passes (e.g. to count rows); it must not keep or change them. */
  observe?: (chunk: Buffer) => void;
  log: (line: string) => void;
}

/**
 * zstd level 1: on tick data it compresses ~4× at several hundred MB/s on one core. Level 3 (zstd's default)
 * saved a few percent of bytes and cost 0.7 s per 5 million ticks, on machines where pg_dump and the server
 * already use the other cores.
 */
const ZSTD_LEVEL = 1;

/**
 * Node's zlib works one write at a time on its thread pool, with 16 KiB output buffers by default: fed 64 KiB pipe
 * chunks that way, zstd ran at ~300 MB/s. 1 MiB inputs (see Coalesce) and 1 MiB output buffers make it ~8× faster.
 */
export const ZSTD_CHUNK_BYTES = 1 << 20;

export function zstdCompressor(): zlib.ZstdCompress {
  return zlib.createZstdCompress({
    chunkSize: ZSTD_CHUNK_BYTES,
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
export async function storeStream(
  source: Readable,
  stores: Store[],
  options: StoreStreamOptions,
): Promise<ManifestFile> {
  const storedPath = options.path + (options.compress ? '.zst' : '') + (options.recipients ? '.age' : '');
  const key = `${options.folder}/${storedPath}`;
  const raw = options.hashRaw ? new HashingStream() : new CountingStream();
  const stored = new HashingStream();
  const fanOut = new FanOut(stores.length);
  const stages: Transform[] = [raw];
  if (options.observe) stages.push(new Observe(options.observe));
  if (options.compress) stages.push(new Coalesce(ZSTD_CHUNK_BYTES), zstdCompressor(), new Handoff(ZSTD_CHUNK_BYTES));
  if (options.recipients) stages.push(createEncryptStream(options.recipients));
  stages.push(stored);

  // The first destination to fail on its own, named: a bare "socket hang up" does not say which of several it was.
  // Once the pipeline has torn the fan-out down with an error (the source or a stage failed), uploads fail only as
  // echoes of that. A destination failing after the stream ended (fsync, completing a multipart upload) is its own.
  let destinationFailure: Error | undefined;
  const uploads = stores.map((store, index) =>
    store.put(key, fanOut.outputs[index]!).catch((error: unknown) => {
      if (fanOut.errored) throw error;
      destinationFailure ??= namingTheObject(store.urlOf(key), error);
      // A destination that fails tears the whole pipeline down (and with it every other upload).
      fanOut.destroy(destinationFailure);
      throw destinationFailure;
    }),
  );
  const stopProgress = reportProgress(storedPath, () => raw.bytes, options.log);
  // Interrupted: fail the stream, so each destination removes its partial file or aborts its multipart upload.
  const forget = onInterrupt(`aborted the unfinished ${storedPath} in every destination`, async () => {
    fanOut.destroy(new Error('interrupted'));
    await Promise.allSettled(uploads);
  });
  try {
    await Promise.all([pipeline([source, ...stages, fanOut]), ...uploads]);
  } catch (error) {
    fanOut.destroy(error as Error);
    await Promise.allSettled(uploads);
    throw destinationFailure ?? error;
  } finally {
    forget();
    stopProgress();
  }
  return {
    path: storedPath,
    bytes: stored.bytes,
    sha256: stored.digest(),
    rawBytes: raw.bytes,
    ...(raw instanceof HashingStream ? { rawSha256: raw.digest() } : {}),
    compression: options.compress ? 'zstd' : 'none',
    encryption: options.recipients ? 'age' : 'none',
  };
}

/** A pass-through that shows every chunk to a function (which must not keep or change it). */
class Observe extends Transform {
  private readonly see: (chunk: Buffer) => void;

  constructor(see: (chunk: Buffer) => void) {
    super();
    this.see = see;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.see(chunk);
    callback(null, chunk);
  }
}

/**
 * What a tool writing into storeStream and the store came to. The tool's exit decides (a dump that stopped early
 * still ends its stdout cleanly), except when it died of SIGPIPE: we stopped reading because storing failed, and
 * that failure (a destination that refused the write) is the cause to report.
 */
export function toolAndStore<T>(stored: PromiseSettledResult<T>, exited: PromiseSettledResult<void>): T {
  const brokenPipe = exited.status === 'rejected' && (exited.reason as ToolExitError).signal === 'SIGPIPE';
  if (stored.status === 'rejected' && brokenPipe) throw stored.reason;
  if (exited.status === 'rejected') throw exited.reason;
  if (stored.status === 'rejected') throw stored.reason;
  return stored.value;
}

/** The destination's error, prefixed with the object it was writing unless it already names that object. */
function namingTheObject(url: string, error: unknown): Error {
  const message = errorMessage(error);
  if (message.includes(url) && error instanceof Error) return error;
  return new Error(`Could not write ${url}: ${message}`, { cause: error });
}
