import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { storeStream } from '../../actions/lib/pipeline/backup.ts';
import type { Leftover, Store, StoredObject } from '../../actions/lib/storage/index.ts';

/**
 * Which failure storeStream reports when several things break at once: the first destination that failed on its
 * own (named), or the source, never a destination that only went down with the source.
 */

/** A destination in memory that can fail after `failAfterBytes` bytes, or once it has read the whole stream. */
class MemoryStore implements Store {
  readonly displayUrl: string;
  private readonly failure: { afterBytes?: number; atEnd?: boolean; message: string } | undefined;
  received = 0;
  stored = false;

  constructor(name: string, failure?: { afterBytes?: number; atEnd?: boolean; message: string }) {
    this.displayUrl = `mem://${name}`;
    this.failure = failure;
  }

  async put(_key: string, body: Readable): Promise<void> {
    for await (const chunk of body) {
      this.received += (chunk as Buffer).length;
      if (this.failure?.afterBytes !== undefined && this.received >= this.failure.afterBytes)
        throw new Error(this.failure.message);
    }
    if (this.failure?.atEnd) throw new Error(this.failure.message);
    this.stored = true;
  }

  urlOf(key: string): string {
    return `${this.displayUrl}/${key}`;
  }

  async exists(): Promise<boolean> {
    return true;
  }

  async *leftovers(): AsyncIterable<Leftover> {}

  async removeLeftover(): Promise<void> {}

  get(): Promise<Readable> {
    throw new Error('not used');
  }

  async head(): Promise<number | undefined> {
    return undefined;
  }

  async *list(): AsyncIterable<StoredObject> {}

  async delete(): Promise<void> {}
}

/** `megabytes` MiB of data in 64 KiB chunks; with `failAt`, the source errors after that many MiB instead. */
function source(megabytes: number, failAt?: number): Readable {
  return Readable.from(
    (function* () {
      for (let index = 0; index < megabytes * 16; index++) {
        if (failAt !== undefined && index === failAt * 16) throw new Error('the tool died');
        yield Buffer.alloc(64 * 1024, index);
      }
    })(),
  );
}

const OPTIONS = {
  path: 'data.bin',
  folder: 'prod/20260101T000000Z-manual-0000',
  compress: true,
  recipients: null,
  log: () => undefined,
};

describe('storeStream failures', () => {
  it('names the destination that failed mid-stream, and tears the others down', async () => {
    const good = new MemoryStore('good');
    const bad = new MemoryStore('bad', { afterBytes: 1, message: 'socket hang up' });
    await expect(storeStream(source(32), [good, bad], OPTIONS)).rejects.toThrow(
      /^Could not write mem:\/\/bad\/prod\/20260101T000000Z-manual-0000\/data\.bin\.zst: socket hang up$/,
    );
    expect(good.stored).toBe(false);
  });

  it('names a destination that fails after the whole stream arrived (fsync, completing an upload)', async () => {
    const good = new MemoryStore('good');
    const bad = new MemoryStore('bad', { atEnd: true, message: 'EIO: i/o error, fsync' });
    await expect(storeStream(source(2), [good, bad], OPTIONS)).rejects.toThrow(
      /^Could not write mem:\/\/bad\/\S+: EIO: i\/o error, fsync$/,
    );
  });

  it('reports the source failing as itself, not as the destinations it took down', async () => {
    const first = new MemoryStore('first');
    const second = new MemoryStore('second');
    await expect(storeStream(source(32, 4), [first, second], OPTIONS)).rejects.toThrow(/^the tool died$/);
    expect(first.stored || second.stored).toBe(false);
  });

  it('reports a source that closed early (no error of its own) as a premature close, not as a destination failing', async () => {
    const cut = source(32);
    cut.once('data', () => cut.destroy());
    const store = new MemoryStore('only');
    await expect(storeStream(cut, [store], OPTIONS)).rejects.toThrow(/^Premature close$/);
    expect(store.stored).toBe(false);
  });
});
