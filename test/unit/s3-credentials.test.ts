import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Store } from '../../actions/lib/storage/s3.ts';
import { envS3Settings, startTestS3, useS3Environment, type TestS3 } from '../harness/s3.ts';

/**
 * Credentials that run out in the middle of a job: an HTTP proxy in front of a real S3-compatible server forwards
 * until told the session expired, then answers every request as S3 does for an expired session token (HTTP 400,
 * code ExpiredToken). The real AWS SDK must surface one clear error that says the credentials expired and what to
 * change, naming the object.
 */
const EXPIRED_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code>' +
  '<Message>The provided token has expired.</Message><RequestId>R1</RequestId></Error>';

interface ExpiringProxy {
  endpoint: string;
  /** Requests forwarded so far (the expiry can be set to hit after the first ones). */
  forwarded: number;
  expireAfter: number;
  close(): Promise<void>;
}

async function startExpiringProxy(upstream: string): Promise<ExpiringProxy> {
  const target = new URL(upstream);
  const proxy: ExpiringProxy = { endpoint: '', forwarded: 0, expireAfter: Number.POSITIVE_INFINITY, close: noop };
  const server = http.createServer((request, response) => {
    if (proxy.forwarded >= proxy.expireAfter) {
      request.resume();
      response.writeHead(400, { 'content-type': 'application/xml' }).end(EXPIRED_BODY);
      return;
    }
    proxy.forwarded += 1;
    const forward = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
      },
    );
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise((resolve) => server.close(() => resolve()));
  return proxy;
}

async function noop(): Promise<void> {}

/** The error a call fails with (the test fails if it succeeds). */
async function failure(call: Promise<unknown>): Promise<Error> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught as Error,
  );
  if (!error) throw new Error('expected the call to fail');
  return error;
}

const MiB = 1024 * 1024;
const EXPIRED = /^S3 refused s3:\/\/backups\/unit\/(\S+): the AWS credentials expired \(ExpiredToken\)/;

describe('S3 credentials that expire during a job', () => {
  let s3: TestS3;
  let restore: () => void;
  let proxy: ExpiringProxy;
  let store: S3Store;

  beforeAll(async () => {
    s3 = await startTestS3();
    restore = useS3Environment(s3);
    proxy = await startExpiringProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    restore();
    await s3.stop();
  });
  beforeEach(() => {
    proxy.expireAfter = Number.POSITIVE_INFINITY;
    store = new S3Store(`s3://${s3.bucket}/unit`, { ...envS3Settings(), endpoint: proxy.endpoint });
  });

  it('a multipart upload cut by the expiry fails with the fix in its message and leaves no object', async () => {
    proxy.expireAfter = proxy.forwarded + 2; // CreateMultipartUpload and the first part get through
    const body = Readable.from([Buffer.alloc(9 * MiB, 1), Buffer.alloc(9 * MiB, 2), Buffer.alloc(9 * MiB, 3)]);
    const error = await failure(store.put('big.bin', body));
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(EXPIRED);
    expect(error.message).toContain('unit/big.bin');
    expect(error.message).toContain('credentials expired');
    expect(error.message).toContain("role-duration-seconds to at least the job's timeout-minutes × 60");
    expect(error.message).toContain('maximum session duration');
    expect((error.cause as Error).name).toBe('ExpiredToken');
    proxy.expireAfter = Number.POSITIVE_INFINITY;
    expect(await store.head('big.bin')).toBeUndefined();
  });

  it('every other operation says the same, naming what it was reading', async () => {
    await store.put('small.json', Readable.from([Buffer.from('{}')]));
    proxy.expireAfter = proxy.forwarded;
    for (const [what, call] of [
      ['small.json', () => store.get('small.json')],
      ['small.json', () => store.delete(['small.json'])],
      [
        'prefix/',
        async () => {
          for await (const object of store.list('prefix/')) void object;
        },
      ],
    ] as const) {
      const error = await failure(call());
      expect(error.message, what).toMatch(EXPIRED);
      expect(EXPIRED.exec(error.message)?.[1], what).toBe(what);
    }
  });

  it('a HEAD, whose answer carries no error code, names expired credentials as the likely cause', async () => {
    proxy.expireAfter = proxy.forwarded;
    const error = await failure(store.head('small.json'));
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(
      /^S3 answered 400 Bad Request to a HEAD of s3:\/\/backups\/unit\/small\.json, .* credentials that expired/,
    );
    expect(error.message).toContain("role-duration-seconds to at least the job's timeout-minutes × 60");
  });

  it('other S3 errors keep their own name and message', async () => {
    const missing = new S3Store('s3://no-such-bucket/x', { ...envS3Settings(), endpoint: proxy.endpoint });
    const error = await failure(missing.get('nothing'));
    expect(error.name).toBe('NoSuchBucket');
    expect(error.message).not.toContain('credentials expired');
  });
});
