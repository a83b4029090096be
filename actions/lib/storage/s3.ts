import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { PassThrough, Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { DEFAULT_TIMEOUTS, type Leftover, type Store, type StoredObject, type Timeouts } from './types.ts';

const MiB = 1024 * 1024;

/**
 * How a stream of unknown length is cut into multipart parts, and how much of it may be in memory at once. S3 allows
 * 10,000 parts of at most 5 GiB; parts start at 8 MiB and double every 1,000 up to 2 GiB, so a stream of up to
 * ~5.85 TiB fits (S3's own object limit is 5 TiB) while small backups keep small parts.
 */
export interface PartPlan {
  firstPartBytes: number;
  partsPerStep: number;
  maxPartBytes: number;
  maxParts: number;
  /**
   * The cap on bytes held per destination: the parts uploading plus the one being filled. Parts upload several at a
   * time while they are small; once a part is half the cap or more, one uploads while the next fills, so the bound
   * is max(cap, 2 × part size): see inFlightBound. The source is read only as fast as parts leave.
   */
  inFlightCap: number;
}

export const S3_PART_PLAN: PartPlan = {
  firstPartBytes: 8 * MiB,
  partsPerStep: 1000,
  maxPartBytes: 2 * 1024 * MiB,
  maxParts: 10_000,
  inFlightCap: 64 * MiB,
};

export function partSizeFor(partNumber: number, plan: PartPlan = S3_PART_PLAN): number {
  const step = Math.floor((partNumber - 1) / plan.partsPerStep);
  return Math.min(plan.firstPartBytes * 2 ** step, plan.maxPartBytes);
}

/**
 * The most bytes one destination holds while a part of this size fills: the parts uploading and that one. The cap,
 * or two parts once parts are half the cap or more (one uploading while the next fills).
 */
export function inFlightBound(partBytes: number, plan: PartPlan = S3_PART_PLAN): number {
  return Math.max(plan.inFlightCap, 2 * partBytes);
}

/**
 * The most parts of this size uploading at once: the queue depth, which shrinks as parts grow (never below two).
 * While the next part fills, one fewer uploads.
 */
export function uploadsAtOnce(partBytes: number, plan: PartPlan = S3_PART_PLAN): number {
  return Math.floor(inFlightBound(partBytes, plan) / partBytes);
}

/** The largest stream the part schedule can carry (for tests and docs). */
export function maxStreamBytes(plan: PartPlan = S3_PART_PLAN): number {
  let total = 0;
  for (let part = 1; part <= plan.maxParts; part++) total += partSizeFor(part, plan);
  return total;
}

/** The size of the part a stream of `bytes` ends in: what sets the memory its upload needs at the end. */
export function lastPartBytes(bytes: number, plan: PartPlan = S3_PART_PLAN): number {
  let total = 0;
  for (let part = 1; part <= plan.maxParts; part++) {
    total += partSizeFor(part, plan);
    if (total >= bytes) return partSizeFor(part, plan);
  }
  throw new Error(`A stream of ${bytes} bytes does not fit in ${plan.maxParts} parts.`);
}

/**
 * Upload checksums: the SDK's default (WHEN_SUPPORTED: a CRC32 with every PutObject and UploadPart, carried through
 * CompleteMultipartUpload) on AWS and every S3-compatible server that takes them (R2, MinIO, Ceph…); Object Lock
 * buckets refuse uploads without one. WHEN_REQUIRED only for the providers known to reject the headers.
 */
export type ChecksumMode = 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';

/** Hosts whose S3 API answers 400 to the x-amz-checksum-* headers (docs/storage.md lists the providers). */
const CHECKSUMS_REJECTED = [/\.backblazeb2\.com$/i, /\.supabase\.(co|in)$/i];

export function checksumModeFor(settings: Pick<S3Settings, 'endpoint' | 'checksums'>): ChecksumMode {
  if (settings.checksums) return settings.checksums;
  if (!settings.endpoint) return 'WHEN_SUPPORTED';
  let host: string;
  try {
    host = new URL(settings.endpoint).hostname;
  } catch {
    return 'WHEN_SUPPORTED';
  }
  return CHECKSUMS_REJECTED.some((pattern) => pattern.test(host)) ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
}

/** A part's CRC32 as S3 carries it (base64 of the big-endian value); Node's zlib computes it natively. */
function crc32Of(body: Buffer): string {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(body));
  return value.toString('base64');
}

export interface S3Location {
  bucket: string;
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match?.[1]) throw new Error(`"${url}" is not an s3://bucket/prefix URL.`);
  return { bucket: match[1], prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** What the S3 client takes from the environment (read by the caller); credentials stay with the SDK's own chain. */
export interface S3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Default: DEFAULT_TIMEOUTS. */
  timeouts?: Timeouts;
  /**
   * AWS_CA_BUNDLE: the CA file of an endpoint with a private certificate, for the tools that take one (pgBackRest's
   * repo1-storage-ca-file). Node's own TLS takes NODE_EXTRA_CA_CERTS.
   */
  caBundle?: string;
  /** AWS_REQUEST_CHECKSUM_CALCULATION (the SDK's own variable): overrides the choice checksumModeFor makes. */
  checksums?: ChecksumMode;
  /** Keys of their own (a backup source that is not the destinations' account); default: the SDK's chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * Attempts per request. The SDK's standard strategy retries only what is transient (timeouts, resets, 5xx,
 * throttling), with jittered exponential backoff; a peer that stays silent fails after this many idle timeouts.
 */
const MAX_ATTEMPTS = 3;

/**
 * Endpoint and region as the standard AWS environment gives them (AWS_ENDPOINT_URL_S3, AWS_REGION), credentials
 * from the SDK's chain (keys or OIDC role). Checksums as checksumModeFor chooses, for requests and responses alike
 * (the providers that reject checksum headers on uploads reject x-amz-checksum-mode on downloads too).
 * Every request has a connect and an idle (socket) timeout: the SDK's own default is to wait forever.
 */
export function s3Client(settings: S3Settings): S3Client {
  const timeouts = settings.timeouts ?? DEFAULT_TIMEOUTS;
  const checksums = checksumModeFor(settings);
  return new S3Client({
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    region: settings.region,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    retryMode: 'standard',
    maxAttempts: MAX_ATTEMPTS,
    // The NodeHttpHandler's options (connectionTimeout: to connect; socketTimeout: between two bytes once connected).
    requestHandler: { connectionTimeout: timeouts.connectMs, socketTimeout: timeouts.idleMs },
  });
}

/** The host requests go to, for messages: the custom endpoint's, or AWS's own for the bucket. */
function hostOf(settings: S3Settings, bucket: string): string {
  if (!settings.endpoint) return `${bucket}.s3.${settings.region}.amazonaws.com`;
  try {
    return new URL(settings.endpoint).host;
  } catch {
    return settings.endpoint;
  }
}

export class S3Store implements Store {
  readonly displayUrl: string;
  private readonly location: S3Location;
  private readonly client: S3Client;
  /** Where requests go and how long they may take, for the errors that say so. */
  private readonly peer: Peer;

  /** The part schedule and in-flight cap (S3_PART_PLAN; tests give smaller ones). */
  private readonly plan: PartPlan;

  constructor(url: string, settings: S3Settings | S3Client, plan: PartPlan = S3_PART_PLAN) {
    this.plan = plan;
    this.location = parseS3Url(url);
    this.client = settings instanceof S3Client ? settings : s3Client(settings);
    this.peer =
      settings instanceof S3Client
        ? { host: 'its endpoint', timeouts: DEFAULT_TIMEOUTS }
        : { host: hostOf(settings, this.location.bucket), timeouts: settings.timeouts ?? DEFAULT_TIMEOUTS };
    this.displayUrl = `s3://${this.location.bucket}/${this.location.prefix}`.replace(/\/$/, '');
  }

  async put(key: string, body: Readable): Promise<void> {
    await explained(this.peer, this.urlOf(key), this.upload(key, body));
  }

  private async upload(key: string, body: Readable): Promise<void> {
    const checksums = await this.checksums();
    const parts = readParts(body, this.plan);
    const first = await parts.next();
    const firstPart = first.done ? Buffer.alloc(0) : first.value;
    if (firstPart.length < partSizeFor(1, this.plan)) {
      // The whole stream fit in less than one part: one PUT, atomic by nature.
      await this.client.send(
        new PutObjectCommand({
          ...this.target(key),
          Body: firstPart,
          ContentLength: firstPart.length,
          ...(checksums && { ChecksumCRC32: crc32Of(firstPart) }),
        }),
      );
      return;
    }
    await this.putMultipart(key, firstPart, parts, checksums);
  }

  /** Whether uploads carry CRC32 checksums: the client's own setting, so a client made elsewhere is obeyed too. */
  private async checksums(): Promise<boolean> {
    return (await this.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  }

  async get(key: string): Promise<Readable> {
    const response = await explained(
      this.peer,
      this.urlOf(key),
      this.client.send(new GetObjectCommand(this.target(key))),
    );
    if (!(response.Body instanceof Readable)) throw new Error(`S3 returned no body for ${this.urlOf(key)}.`);
    return explainedBody(response.Body, this.peer, this.urlOf(key));
  }

  async head(key: string): Promise<number | undefined> {
    try {
      const response = await this.client.send(new HeadObjectCommand(this.target(key)));
      return response.ContentLength ?? 0;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === 'NotFound') return undefined;
      throw explainHead(this.peer, this.urlOf(key), error);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    const fullPrefix = this.fullKey(prefix);
    let token: string | undefined;
    do {
      const page = await explained(
        this.peer,
        `s3://${this.location.bucket}/${fullPrefix}`,
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: fullPrefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: this.relativeKey(object.Key), bytes: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(keys: string[]): Promise<void> {
    // One DeleteObject per key: DeleteObjects needs a Content-MD5 that several S3-compatible servers reject.
    for (const key of keys)
      await explained(this.peer, this.urlOf(key), this.client.send(new DeleteObjectCommand(this.target(key))));
  }

  urlOf(key: string): string {
    return `s3://${this.location.bucket}/${this.fullKey(key)}`;
  }

  async exists(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchBucket')
        return false;
      throw explain(this.peer, this.urlOf(''), error);
    }
  }

  async *leftovers(prefix: string): AsyncIterable<Leftover> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client
        .send(
          new ListMultipartUploadsCommand({
            Bucket: this.location.bucket,
            Prefix: this.fullKey(prefix),
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        )
        .catch((error: unknown) => {
          // Some S3-compatible servers cannot list uploads; the lifecycle rule AbortIncompleteMultipartUpload
          // (README, storage) then clears them instead.
          if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 501)
            return undefined;
          throw explain(this.peer, this.urlOf(prefix), error);
        });
      if (!page) return;
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId) continue;
        yield {
          key: this.relativeKey(upload.Key),
          startedAt: upload.Initiated ?? new Date(0),
          handle: upload.UploadId,
        };
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
  }

  async removeLeftover(leftover: Leftover): Promise<void> {
    await this.client.send(
      new AbortMultipartUploadCommand({ ...this.target(leftover.key), UploadId: leftover.handle }),
    );
  }

  /**
   * Parts upload while the next one fills, as many at once as uploadsAtOnce allows for their size, so one
   * destination never holds more than inFlightBound(size of the part filling). With checksums, the upload is created for CRC32,
   * each part carries its own, and CompleteMultipartUpload lists them (S3 checks each part and the whole).
   */
  private async putMultipart(
    key: string,
    firstPart: Buffer,
    rest: AsyncGenerator<Buffer>,
    checksums: boolean,
  ): Promise<void> {
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ ...this.target(key), ...(checksums && { ChecksumAlgorithm: 'CRC32' }) }),
    );
    if (!UploadId) throw new Error(`S3 gave no upload id for ${this.urlOf(key)}.`);
    const completed: CompletedPart[] = [];
    const inFlight = new Set<Promise<void>>();
    let inFlightBytes = 0;
    let failure: unknown;
    const upload = (partNumber: number, body: Buffer): void => {
      const checksum = checksums ? { ChecksumCRC32: crc32Of(body) } : {};
      inFlightBytes += body.length;
      const sent = this.client
        .send(new UploadPartCommand({ ...this.target(key), UploadId, PartNumber: partNumber, Body: body, ...checksum }))
        .then((response) => {
          completed.push({ PartNumber: partNumber, ETag: response.ETag, ...checksum });
        })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => {
          inFlightBytes -= body.length;
          inFlight.delete(sent);
        });
      inFlight.add(sent);
    };
    try {
      let partNumber = 1;
      let part = firstPart;
      for (;;) {
        upload(partNumber, part);
        // The next part fills only once it fits beside the uploads: the bound holds across a change of part size.
        const next = partSizeFor(partNumber + 1, this.plan);
        while (inFlight.size > 0 && inFlightBytes + next > inFlightBound(next, this.plan) && !failure) {
          await Promise.race(inFlight);
        }
        if (failure) break;
        const read = await rest.next();
        if (read.done) break;
        partNumber += 1;
        if (partNumber > this.plan.maxParts) {
          throw new Error(`${this.urlOf(key)} would need more than ${this.plan.maxParts} parts.`);
        }
        part = read.value;
      }
      await Promise.all(inFlight);
      if (failure) throw failure;
      completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      await this.client.send(
        new CompleteMultipartUploadCommand({ ...this.target(key), UploadId, MultipartUpload: { Parts: completed } }),
      );
    } catch (error) {
      await Promise.allSettled(inFlight);
      // Abort so no half-uploaded parts linger (and cost money); a failed abort must not hide the first error.
      await this.client.send(new AbortMultipartUploadCommand({ ...this.target(key), UploadId })).catch(() => undefined);
      throw error;
    }
  }

  private target(key: string): { Bucket: string; Key: string } {
    return { Bucket: this.location.bucket, Key: this.fullKey(key) };
  }

  private fullKey(key: string): string {
    return this.location.prefix ? `${this.location.prefix}/${key}` : key;
  }

  private relativeKey(fullKey: string): string {
    return this.location.prefix ? fullKey.slice(this.location.prefix.length + 1) : fullKey;
  }
}

/**
 * Error codes of credentials that were valid and have run out. The SDK re-reads credentials that can refresh (a web
 * identity token file, an instance or container role, an SSO or assume-role profile) before they expire; the
 * static keys that aws-actions/configure-aws-credentials exports cannot refresh, so they must outlast the job.
 */
const EXPIRED_CREDENTIALS = new Set(['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired']);

interface Peer {
  host: string;
  timeouts: Timeouts;
}

/** Network errors the SDK passes on as Node gave them (after its retries), and what they mean here. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ENOTFOUND: 'could not be resolved (DNS)',
  EAI_AGAIN: 'could not be resolved (DNS)',
  ECONNRESET: 'dropped the connection',
  EPIPE: 'closed the connection mid-request',
  ETIMEDOUT: 'did not accept the connection in time',
  EHOSTUNREACH: 'is unreachable from here',
  ENETUNREACH: 'is unreachable from here',
};

/**
 * The error S3 gave, or one line that says what happened and what to change: expired credentials, a peer that did
 * not connect or went silent (after the SDK's retries), a host that cannot be reached.
 */
function explain(peer: Peer, url: string, error: unknown): unknown {
  const { name, code, message } = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  const attempts = (error as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts ?? 1;
  const tries = attempts > 1 ? `, ${attempts} attempts` : '';
  if (typeof name === 'string' && EXPIRED_CREDENTIALS.has(name)) {
    return new Error(`S3 refused ${url}: the AWS credentials expired (${name}) before the job was done. ${RENEW}`, {
      cause: error,
    });
  }
  // The SDK names socket errors (ECONNRESET, EPIPE, …) TimeoutError too, so that they are retried: the code decides.
  const problem = typeof code === 'string' ? UNREACHABLE[code] : undefined;
  if (problem) {
    return new Error(
      `S3 at ${peer.host} ${problem} (${code}${tries}) for ${url}: check the endpoint and that this machine can ` +
        'reach it.',
      { cause: error },
    );
  }
  if (name === 'TimeoutError') {
    const connecting = typeof message === 'string' && message.includes('establish a connection');
    const [limit, what] = connecting
      ? [peer.timeouts.connectMs, 'accepted no connection']
      : [peer.timeouts.idleMs, 'went silent'];
    return new Error(
      `S3 at ${peer.host} ${what} within ${seconds(limit)} (${connecting ? 'connect' : 'idle'} timeout${tries}) ` +
        `for ${url}: check that the endpoint is an S3 service this machine can reach` +
        `${peer.timeouts.setBy ? `, or raise ${peer.timeouts.setBy[connecting ? 'connect' : 'idle']}` : ''}.`,
      { cause: error },
    );
  }
  return error;
}

/**
 * A download that fails mid-body (the socket timeout firing while the body stalls, a dropped connection) fails the
 * body stream with the SDK's raw error; it gets the same one line as a failed request.
 */
function explainedBody(body: Readable, peer: Peer, url: string): Readable {
  const explainedStream = new PassThrough();
  body.once('error', (error) => explainedStream.destroy(explain(peer, url, error) as Error));
  explainedStream.once('close', () => body.destroy());
  return body.pipe(explainedStream);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** A HEAD answer has no body, so S3's error code is lost: a bare 400 is most often an expired session token. */
function explainHead(peer: Peer, url: string, error: unknown): unknown {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== 400) return explain(peer, url, error);
  return new Error(
    `S3 answered 400 Bad Request to a HEAD of ${url}, which carries no error code; late in a job this is most ` +
      `often AWS credentials that expired (ExpiredToken). ${RENEW}`,
    { cause: error },
  );
}

const RENEW =
  'Credentials that cannot refresh (the keys aws-actions/configure-aws-credentials exports, or static keys with a ' +
  "session token) must last the whole job: set that step's role-duration-seconds to at least the job's " +
  "timeout-minutes × 60, and the IAM role's maximum session duration (1 h by default, up to 12 h) to at least as " +
  'much.';

async function explained<T>(peer: Peer, url: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw explain(peer, url, error);
  }
}

/** Cuts a stream into parts of at least partSizeFor(n) bytes (the last one may be shorter). */
async function* readParts(body: Readable, plan: PartPlan): AsyncGenerator<Buffer> {
  let partNumber = 1;
  let chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= partSizeFor(partNumber, plan)) {
      yield Buffer.concat(chunks, size);
      chunks = [];
      size = 0;
      partNumber += 1;
    }
  }
  if (size > 0 || partNumber === 1) yield Buffer.concat(chunks, size);
}
