import { ConfigurationError } from '../action/errors.ts';
import type { InputReader } from '../action/input-reader.ts';
import { openStore, StorageUrlError, type S3Settings, type Store } from '../storage/index.ts';

/**
 * Every destination of a storage-url input (newline- or comma-separated). Storage knows nothing of inputs, so its
 * complaint about a URL is turned here into one line that names the input.
 */
export function readStores(
  inputs: InputReader,
  input: string,
  s3: S3Settings,
  options: { optional?: boolean } = {},
): Store[] {
  const urls = inputs.list(input);
  if (urls.length === 0 && options.optional) return [];
  const origin = inputs.origin(input);
  if (urls.length === 0) {
    throw new ConfigurationError(
      `${origin.title} is empty: give at least one destination, e.g. s3://my-bucket/backups or ./backups.`,
    );
  }
  return urls.map((url) => {
    try {
      return openStore(url, s3);
    } catch (error) {
      if (error instanceof StorageUrlError)
        throw new ConfigurationError(`${origin.title} has ${(error as Error).message}`);
      throw error;
    }
  });
}
