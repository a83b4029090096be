import { createReadStream, createWriteStream } from 'node:fs';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { Leftover, Store, StoredObject } from './types.ts';

/** Marks a file that is still being written; never listed, removed when its writer fails. */
const PARTIAL_MARK = '.partial-';

/** A local folder (or a mounted disk). Writes go to a partial file that is fsynced and renamed into place. */
export class LocalStore implements Store {
  readonly root: string;
  readonly displayUrl: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.displayUrl = pathToFileURL(this.root).href;
  }

  async put(key: string, body: Readable): Promise<void> {
    const target = this.pathOf(key);
    const partial = `${target}${PARTIAL_MARK}${randomBytes(4).toString('hex')}`;
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      const file = createWriteStream(partial, { flags: 'wx', highWaterMark: 1 << 20 });
      await pipeline(body, file);
      const handle = await fs.open(partial, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(partial, target);
      await syncDirectory(path.dirname(target));
    } catch (error) {
      await fs.rm(partial, { force: true });
      // Nor an empty folder: a failed backup leaves nothing in any destination.
      await this.removeEmptyParents(path.dirname(target));
      throw cannotWrite(this.urlOf(key), error);
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.pathOf(key);
    await fs.access(file);
    return createReadStream(file, { highWaterMark: 1 << 20 });
  }

  async head(key: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.pathOf(key))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const start = this.pathOf(prefix);
    yield* this.walk(start);
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) {
      await fs.rm(this.pathOf(key), { force: true });
      await this.removeEmptyParents(path.dirname(this.pathOf(key)));
    }
  }

  async exists(): Promise<boolean> {
    return (await fs.stat(this.root).catch(() => undefined))?.isDirectory() === true;
  }

  async *leftovers(prefix: string): AsyncIterable<Leftover> {
    for await (const file of this.walkFiles(this.pathOf(prefix))) {
      const mark = file.name.indexOf(PARTIAL_MARK);
      if (mark < 0) continue;
      const full = path.join(file.parentPath, file.name);
      const key = path.relative(this.root, path.join(file.parentPath, file.name.slice(0, mark)));
      const { mtime } = await fs.stat(full);
      yield { key: key.split(path.sep).join('/'), startedAt: mtime, handle: full };
    }
  }

  async removeLeftover(leftover: Leftover): Promise<void> {
    if (!path.basename(leftover.handle).includes(PARTIAL_MARK))
      throw new Error(`${leftover.handle} is not a partial file.`);
    await fs.rm(this.pathOf(path.relative(this.root, leftover.handle)), { force: true });
  }

  private async *walkFiles(dir: string): AsyncIterable<Dirent> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) yield* this.walkFiles(path.join(dir, entry.name));
      else if (entry.isFile()) yield entry;
    }
  }

  /** A pruned backup leaves no empty folders behind (up to, not including, the destination's root). */
  private async removeEmptyParents(dir: string): Promise<void> {
    for (let current = dir; current.startsWith(this.root + path.sep); current = path.dirname(current)) {
      try {
        await fs.rmdir(current);
      } catch {
        return; // not empty (or gone): stop climbing
      }
    }
  }

  urlOf(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  private async *walk(dir: string): AsyncIterable<StoredObject> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        yield* this.walk(full);
      } else if (entry.isFile() && !entry.name.includes(PARTIAL_MARK)) {
        const { size } = await fs.stat(full);
        yield { key: path.relative(this.root, full).split(path.sep).join('/'), bytes: size };
      }
    }
  }

  private pathOf(key: string): string {
    const full = path.resolve(this.root, key);
    if (full !== this.root && !full.startsWith(this.root + path.sep)) {
      throw new Error(`Storage key "${key}" escapes the destination folder ${this.root}.`);
    }
    return full;
  }
}

/** Errors of a folder that refuses to be written, with what to do about each. */
const REFUSALS: Record<string, [string, string]> = {
  EACCES: ['permission denied', 'check that the user running the job may write to this folder'],
  EPERM: ['operation not permitted', 'check that the user running the job may write to this folder'],
  EROFS: ['read-only file system', 'the disk is mounted read-only: choose a destination on a writable disk'],
  ENOSPC: ['no space left on device', 'free space on that disk or choose another destination'],
  EDQUOT: ['disk quota exceeded', 'free space within the quota or choose another destination'],
};

/** The OS error of a write, named with the object it was writing (Node's own message names only a syscall). */
function cannotWrite(url: string, error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const refusal = code ? REFUSALS[code] : undefined;
  if (!refusal) return error;
  return new Error(`Cannot write ${url} (${code}: ${refusal[0]}): ${refusal[1]}.`, { cause: error });
}

/** Makes a rename durable: without it a crash can forget the new name although the data was synced. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
