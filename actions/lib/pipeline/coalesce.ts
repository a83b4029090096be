import { Transform, type TransformCallback } from 'node:stream';

/**
 * Gathers small chunks (64 KiB from a pipe or a socket) into chunks of at least `bytes`, so each call into a
 * per-chunk stage (zstd on the thread pool) does real work. One extra copy; memory stays at one chunk.
 */
export class Coalesce extends Transform {
  private readonly bytes: number;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(bytes: number) {
    super({ readableHighWaterMark: bytes, writableHighWaterMark: bytes });
    this.bytes = bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.bytes) this.release();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.size > 0) this.release();
    callback();
  }

  private release(): void {
    this.push(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size));
    this.chunks = [];
    this.size = 0;
  }
}
