import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { runContext } from '../../actions/lib/action/env.ts';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import type { S3Settings } from '../../actions/lib/storage/index.ts';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** The AWS environment the actions read (standard variable names). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** An S3-compatible server (s3rver) in the test process, for the real AWS SDK in the bundles. */
export async function startTestS3(bucket = 'backups'): Promise<TestS3> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-s3-'));
  const port = await freePort();
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    directory,
    silent: process.env.S3RVER_VERBOSE !== '1',
    configureBuckets: [{ name: bucket }],
  });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    },
    stop: async () => {
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * An AWS SDK client for the test server, for seeding and reading buckets. s3rver would store the aws-chunked framing
 * of a streamed upload's default checksum as the object's bytes, hence checksums only when required.
 */
export function testS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

/** Sets the AWS environment in this process too (for tests that use the library directly). */
export function useS3Environment(s3: TestS3): () => void {
  const saved = Object.fromEntries(Object.keys(s3.env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, s3.env);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** The S3 settings the actions derive from the environment the test process has now (after `env` is applied). */
export function envS3Settings(): S3Settings {
  return runContext(process.env).s3;
}

const MiB = 1024 * 1024;

/**
 * `bytes` of random bytes made as they are read, 1 MiB at a time (one random block, numbered, so no two are alike
 * and zstd finds nothing to shrink): a big object the test never holds. `sha256()` once the body has been read.
 */
export function incompressibleStream(bytes: number): { body: Readable; sha256: () => string } {
  const block = randomBytes(MiB);
  const hash = createHash('sha256');
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= bytes) return void this.push(null);
      const next = Buffer.from(block.subarray(0, Math.min(MiB, bytes - sent)));
      next.writeUInt32LE(sent / MiB);
      sent += next.length;
      hash.update(next);
      this.push(next);
    },
  });
  return { body, sha256: () => hash.digest('hex') };
}
