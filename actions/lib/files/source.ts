import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { parseS3Url, s3Client, type S3Location, type S3Settings } from '../storage/s3.ts';

/** Where each part of the source's settings came from, for the one line that names what to fix. */
export interface SourceOrigins {
  url: Origin;
  endpoint: Origin;
  accessKeyId: Origin;
  secretAccessKey: Origin;
}

export interface SourceSettings {
  /** s3://bucket/prefix */
  url: string;
  s3: S3Settings;
  origins: SourceOrigins;
}

/** One object as the listing shows it; `key` is relative to the source's prefix. */
export interface SourceEntry {
  key: string;
  bytes: number;
  etag: string;
  lastModified: string;
}

/** A download under way: the body, and what the server said the object is while it served it. */
export interface SourceDownload {
  body: Readable;
  entry: SourceEntry;
}

/**
 * The bucket being backed up, read with the AWS SDK (ListObjectsV2 page by page, GetObject streamed, HeadObject to
 * tell whether an object changed while it was read). Any S3-compatible service: Supabase Storage, R2, MinIO.
 */
export class FileSource {
  readonly url: string;
  readonly host: string;
  private readonly location: S3Location;
  private readonly client: S3Client;
  private readonly origins: SourceOrigins;

  constructor(settings: SourceSettings) {
    this.url = settings.url.replace(/\/+$/, '');
    this.location = parseS3Url(settings.url);
    this.client = s3Client(settings.s3);
    this.origins = settings.origins;
    this.host = settings.s3.endpoint ? new URL(settings.s3.endpoint).host : 's3.amazonaws.com';
  }

  /** Every object under the prefix, sorted by key (S3 lists in key order; sorted again for other servers). */
  async list(): Promise<SourceEntry[]> {
    const prefix = this.location.prefix ? `${this.location.prefix}/` : '';
    const entries: SourceEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.explained(
        'list',
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key) continue;
        entries.push({
          key: object.Key.slice(prefix.length),
          bytes: object.Size ?? 0,
          etag: object.ETag ?? '',
          lastModified: (object.LastModified ?? new Date(0)).toISOString(),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The object's body and what it is now; undefined when it was deleted since the listing. */
  async get(key: string): Promise<SourceDownload | undefined> {
    const response = await this.client
      .send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) }))
      .catch((error: unknown) => {
        if ((error as Error).name === 'NoSuchKey') return undefined;
        throw this.explain(`read ${key}`, error);
      });
    if (!response) return undefined;
    if (!(response.Body instanceof Readable)) throw new Error(`The source returned no body for ${this.urlOf(key)}.`);
    return {
      body: response.Body,
      entry: {
        key,
        bytes: response.ContentLength ?? 0,
        etag: response.ETag ?? '',
        lastModified: (response.LastModified ?? new Date(0)).toISOString(),
      },
    };
  }

  /** The object's ETag now, or undefined when it is gone. */
  async etagOf(key: string): Promise<string | undefined> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) }),
      );
      return response.ETag ?? '';
    } catch (error) {
      if (statusOf(error) === 404 || (error as Error).name === 'NotFound') return undefined;
      throw this.explain(`read ${key}`, error);
    }
  }

  urlOf(key: string): string {
    return `s3://${this.location.bucket}/${this.fullKey(key)}`;
  }

  private fullKey(key: string): string {
    return this.location.prefix ? `${this.location.prefix}/${key}` : key;
  }

  private async explained<T>(what: string, call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      throw this.explain(what, error);
    }
  }

  /** S3's refusals as one line naming the setting to fix; anything else (an outage) keeps its own message. */
  private explain(what: string, error: unknown): unknown {
    const name = (error as { name?: string } | null)?.name ?? '';
    const where = `the source ${this.url} at ${this.host}`;
    const { origins } = this;
    const refusals: Record<string, string> = {
      InvalidAccessKeyId:
        `${where} does not know the access key (InvalidAccessKeyId): set ${origins.accessKeyId} to a key of that ` +
        "service (Supabase: Project Settings → Storage → S3 access keys) and its secret to that key's secret.",
      SignatureDoesNotMatch:
        `${where} refused the signature (SignatureDoesNotMatch): ${origins.secretAccessKey} is not the secret of ` +
        `the access key in ${origins.accessKeyId}.`,
      AccessDenied:
        `${where} denied the access key the right to ${what} (AccessDenied): give the key read and list rights ` +
        `on the bucket, or set ${origins.accessKeyId} to one that has them.`,
      NoSuchBucket: `${where} has no bucket "${this.location.bucket}": check ${origins.url}.`,
    };
    const line = refusals[name];
    if (line) return new ConfigurationError(line, { cause: error });
    const code = (error as { code?: string } | null)?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new ConfigurationError(
        `${where} could not be reached (${code}): check ${origins.endpoint} and that this machine can reach it.`,
        { cause: error },
      );
    }
    return error;
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}
