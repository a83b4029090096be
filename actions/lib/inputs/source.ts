import { ConfigurationError } from '../action/errors.ts';
import type { InputReader } from '../action/input-reader.ts';
import type { Origin } from '../action/origin.ts';
import type { Runtime } from '../action/runtime.ts';
import { FileSource } from '../files/source.ts';
import type { Timeouts } from '../storage/index.ts';

/** The inputs of a bucket read as a source of files (backup-files, the files integrity check), one rule. */
export const SOURCE_INPUTS = {
  'source-endpoint-url': {
    description:
      "The source's S3 endpoint (Supabase: https://<ref>.storage.supabase.co/storage/v1/s3); path-style. Default: " +
      'AWS_ENDPOINT_URL_S3, else AWS.',
  },
  'source-access-key-id': {
    description: "The source's access key id (a secret); default: AWS_ACCESS_KEY_ID.",
    secret: true,
  },
  'source-secret-access-key': {
    description: "The source's secret access key (a secret); default: AWS_SECRET_ACCESS_KEY.",
    secret: true,
  },
  'source-region': { description: "The source's region (Supabase: the project's region); default: AWS_REGION." },
} as const;

const S3_URL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/|$)/;

/**
 * Opens source buckets with the source inputs' endpoint and keys; without keys, the SDK's chain (the standard AWS
 * variables). `url` is checked and named by its own origin (an input, or an entry of a config file).
 */
export function readSourceOpener(
  runtime: Runtime,
  inputs: InputReader,
  timeouts: Timeouts,
): (url: string, origin: Origin) => FileSource {
  const endpoint = inputs.optional('source-endpoint-url') ?? runtime.context.s3.endpoint;
  if (endpoint && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new ConfigurationError(
      `${inputs.origin('source-endpoint-url').title} is "${endpoint}", not an http(s):// URL: e.g. ` +
        'https://<ref>.storage.supabase.co/storage/v1/s3.',
    );
  }
  const accessKeyId = inputs.optional('source-access-key-id');
  const secretAccessKey = inputs.optional('source-secret-access-key');
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    const [missing, given] = accessKeyId
      ? ['source-secret-access-key', 'source-access-key-id']
      : ['source-access-key-id', 'source-secret-access-key'];
    throw new ConfigurationError(
      `${inputs.origin(missing).title} is empty while ${inputs.origin(given)} is set: give both, or neither to use ` +
        'the standard AWS variables.',
    );
  }
  const s3 = {
    endpoint,
    forcePathStyle: Boolean(endpoint) || runtime.context.s3.forcePathStyle,
    region: inputs.optional('source-region') ?? runtime.context.s3.region,
    timeouts,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
  return (url, origin) => {
    if (!S3_URL.test(url)) {
      throw new ConfigurationError(
        `${origin.title} is "${url}", not an s3://bucket or s3://bucket/prefix URL: for Supabase Storage the bucket ` +
          "is the storage bucket's name (s3://avatars).",
      );
    }
    return new FileSource({
      url,
      s3,
      origins: {
        url: origin,
        endpoint: inputs.origin('source-endpoint-url'),
        accessKeyId: inputs.origin('source-access-key-id'),
        secretAccessKey: inputs.origin('source-secret-access-key'),
      },
    });
  };
}
