import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStore } from './local.ts';
import { S3Store, type S3Settings } from './s3.ts';
import type { Store } from './types.ts';

export type { S3Settings } from './s3.ts';
export type { Store, StoredObject } from './types.ts';

/** A storage URL that names no destination we can open; the message says what is wrong, the caller names the input. */
export class StorageUrlError extends Error {
  override name = 'StorageUrlError';
}

/**
 * Opens one destination: s3://bucket/prefix, file:///abs/path, or a plain path (relative to the working directory).
 * Every destination gets every byte; restores read the first that has it.
 */
export function openStore(url: string, s3: S3Settings): Store {
  if (url.startsWith('s3://')) {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(url)) {
      throw new StorageUrlError(`"${url}": the bucket name is not valid (s3://bucket/prefix).`);
    }
    return new S3Store(url, s3);
  }
  if (url.startsWith('file://')) return new LocalStore(fileURLToPath(url));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new StorageUrlError(
      `"${url.replace(/\/\/[^@/]*@/, '//***@')}": only s3:// URLs and local paths are supported.`,
    );
  }
  return new LocalStore(path.resolve(url));
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
