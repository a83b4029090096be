import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../action/errors.ts';
import { LocalStore } from './local.ts';
import { S3Store } from './s3.ts';
import type { Store } from './types.ts';

export type { Store, StoredObject } from './types.ts';

/**
 * Opens every destination of a `storage-url` input: s3://bucket/prefix, file:///abs/path, or a plain path
 * (relative to the working directory). Every destination gets every byte; restores read the first that has it.
 */
export function openStores(inputName: string, urls: string[]): Store[] {
  if (urls.length === 0) {
    throw new ConfigurationError(
      `Input "${inputName}" is empty: give at least one destination, e.g. s3://my-bucket/backups or ./backups.`,
    );
  }
  return urls.map((url) => openStore(inputName, url));
}

function openStore(inputName: string, url: string): Store {
  if (url.startsWith('s3://')) {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/.test(url)) {
      throw new ConfigurationError(`Input "${inputName}" has "${url}": the bucket name is not valid (s3://bucket/prefix).`);
    }
    return new S3Store(url);
  }
  if (url.startsWith('file://')) return new LocalStore(fileURLToPath(url));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ConfigurationError(
      `Input "${inputName}" has "${url.replace(/\/\/[^@/]*@/, '//***@')}": only s3:// URLs and local paths are supported.`,
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
