import { PassThrough, Writable } from 'node:stream';

/**
 * Writes every chunk to several streams (one per destination) and waits for the slowest: backpressure from any
 * destination slows the whole pipeline instead of buffering the dump in memory.
 */
export class FanOut extends Writable {
  readonly outputs: PassThrough[];

  constructor(count: number) {
    super({ highWaterMark: 1 << 20 });
    this.outputs = Array.from({ length: count }, () => {
      const output = new PassThrough({ highWaterMark: 1 << 20 });
      // Each destination's put() sees a failure through its own listener or iterator; this one only keeps an error
      // that arrives after a destination has already let go (the source cut mid-stream) from crashing the process.
      output.on('error', () => undefined);
      return output;
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const waits: Promise<void>[] = [];
    for (const output of this.outputs) {
      if (!output.write(chunk)) waits.push(drained(output));
    }
    if (waits.length === 0) callback();
    else Promise.all(waits).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    for (const output of this.outputs) output.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Also called after a normal finish (autoDestroy): the outputs are ended then and must drain, not break.
    if (error) for (const output of this.outputs) output.destroy(error);
    callback(error);
  }
}

function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      stream.off('close', onClose);
      resolve();
    };
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      reject(error);
    };
    const onClose = (): void => onError(new Error('A destination closed before the backup stream ended.'));
    stream.once('drain', onDrain);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}
