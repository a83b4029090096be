import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStore } from './local.ts';
import { S3Store, type S3Settings } from './s3.ts';
import type { Store } from './types.ts';

export type { ChecksumMode, S3Settings } from './s3.ts';
export type { Leftover, Store, StoredObject, Timeouts } from './types.ts';
export { DEFAULT_TIMEOUTS } from './types.ts';

/** A storage URL that names no destination we can open; the message says what is wrong, the caller names the input. */
export class StorageUrlError extends Error {
  override name = 'StorageUrlError';
}

/**
 * Opens one destination: s3://bucket/prefix, file:///abs/path, or a path that is plainly one (absolute, or starting
 * with ./ or ../). Anything else is refused rather than guessed: `s3:/bucket` or `s3//bucket` taken as a local folder
 * would "succeed" into a runner's disk that is thrown away. Every destination gets every byte; restores read the
 * first that has it.
 */
export function openStore(url: string, s3: S3Settings): Store {
  if (url.startsWith('s3://')) {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(url)) {
      throw new StorageUrlError(`"${url}": the bucket name is not valid (s3://bucket/prefix).`);
    }
    return new S3Store(url, s3);
  }
  if (url.startsWith('file://')) return new LocalStore(localPathOf(url));
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    throw new StorageUrlError(
      `"${url.replace(/\/\/[^@/]*@/, '//***@')}": not a storage URL Backstop knows. Use s3://bucket/prefix, ` +
        'file:///absolute/path, or a path (absolute, or starting with ./).',
    );
  }
  if (!path.isAbsolute(url) && !/^\.\.?\//.test(url)) {
    throw new StorageUrlError(
      `"${url}": a local folder must be an absolute path or start with ./ (or ../), so a mistyped URL is never ` +
        `taken for one; write ./${url} if a folder here is meant.`,
    );
  }
  return new LocalStore(path.resolve(url));
}

/** file:///abs/path only: `file://relative` puts "relative" where a host goes, and a host is not a local folder. */
function localPathOf(url: string): string {
  if (!url.startsWith('file:///')) {
    throw new StorageUrlError(`"${url}": a file URL needs three slashes and an absolute path (file:///srv/backups).`);
  }
  return fileURLToPath(url);
}

/** Removes every object under a folder, in every destination (best effort: used while failing anyway). */
export async function removeFolder(stores: Store[], folder: string): Promise<void> {
  await Promise.allSettled(
    stores.map(async (store) => {
      const keys: string[] = [];
      for await (const object of store.list(`${folder}/`)) keys.push(object.key);
      await store.delete(keys);
    }),
  );
}
