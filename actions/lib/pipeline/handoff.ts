import { Transform, type TransformCallback } from 'node:stream';

/**
 * Forwards each chunk on a later turn of the event loop. Node's zlib pushes a finished chunk downstream and only
 * then gives its thread-pool worker the next input; everything downstream (encryption, hashing, writes) runs inside
 * that push, so compression and the main thread took turns instead of working at once. After this stage the push
 * returns at once, zstd starts on the next input, and the main thread encrypts the previous output meanwhile.
 */
export class Handoff extends Transform {
  constructor(highWaterMark: number) {
    super({ readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    setImmediate(callback, null, chunk);
  }
}
