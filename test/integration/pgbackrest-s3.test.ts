import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import { sql, type ScratchCluster } from '../harness/postgres.ts';
import {
  backstop,
  pgbackrestByHandAsync,
  reconfigure,
  sharedFolder,
  startArchivingCluster,
  TEST_PASSPHRASE,
} from '../harness/pitr.ts';
import { ROOT } from '../harness/runner.ts';
import { selfSignedCertificate } from '../harness/tls.ts';

/**
 * pgBackRest speaks only HTTPS to S3: the in-process S3 server listens with a self-signed certificate, which the
 * repository trusts through AWS_CA_BUNDLE (pgBackRest's repo1-storage-ca-file) and Node through NODE_EXTRA_CA_CERTS.
 */
const PGBACKREST = existsSync('/usr/bin/pgbackrest');

let cluster: ScratchCluster;
let folder: string;
let server: S3rver;
let env: Record<string, string>;

/** The CLI from source in a process of its own, so Node trusts the test certificate from its start. */
function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'actions/cli/src/index.ts'), ...args], {
      env: { PATH: process.env.PATH, ...env, NODE_EXTRA_CA_CERTS: env.AWS_CA_BUNDLE },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.on('close', (code) => resolve({ code, out }));
  });
}

function storedKeys(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) =>
    statSync(path.join(root, file)).isFile(),
  );
}

describe.runIf(PGBACKREST)('pgBackRest with an S3 repository over TLS', () => {
  beforeAll(async () => {
    [cluster, folder] = await Promise.all([startArchivingCluster(), sharedFolder('backstop-pitr-s3-')]);
    const { key, cert } = selfSignedCertificate(folder);
    await fs.chmod(cert, 0o644);
    const port = await freePort();
    server = new S3rver({
      // HTTPS: s3rver hands these to https.createServer (its type declaration here lists only what other tests use).
      ...({ key: await fs.readFile(key), cert: await fs.readFile(cert) } as object),
      address: '127.0.0.1',
      port,
      directory: path.join(folder, 'data'),
      silent: true,
      configureBuckets: [{ name: 'backups' }],
    });
    await server.run();
    env = {
      AWS_ENDPOINT_URL_S3: `https://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_CA_BUNDLE: cert,
      BACKSTOP_ENCRYPTION_PASSPHRASE: TEST_PASSPHRASE,
    };
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
    await fs.rm(folder, { recursive: true, force: true });
  });

  it('archives WAL, backs up and drills to a time, all in s3://backups/pg/tls/pgbackrest', async () => {
    const configFile = path.join(folder, 'backstop-tls.conf');
    const configured = await backstop(
      'archive-config',
      [
        '--name=tls',
        '--storage-url=s3://backups/pg',
        `--pg-data=${cluster.dataDir}`,
        `--database-url=${cluster.url}`,
        `--config=${configFile}`,
      ],
      env,
    );
    expect(configured.err).toBe('');
    expect(configured.code).toBe(0);
    await reconfigure(
      cluster,
      configured.out.split('\n').filter((line) => /^archive_|^wal_level/.test(line)),
    );
    const check = await pgbackrestByHandAsync([`--config=${configFile}`, '--stanza=tls', 'check'], TEST_PASSPHRASE);
    expect(check.out).toBe('');
    expect(check.status).toBe(0);

    await sql(cluster.url, 'CREATE TABLE canary (id int PRIMARY KEY)');
    await sql(cluster.url, 'INSERT INTO canary VALUES (1)');
    const backupArgs = [
      '--name=tls',
      '--storage-url=s3://backups/pg',
      `--pg-data=${cluster.dataDir}`,
      `--database-url=${cluster.url}`,
    ];
    const backup = await cli(['backup-physical', ...backupArgs]);
    expect(backup.out).not.toMatch(/error/);
    expect(backup.code).toBe(0);
    await sql(cluster.url, 'INSERT INTO canary VALUES (2)');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t = (await sql<{ t: Date }>(cluster.url, 'SELECT clock_timestamp() AS t'))[0]!.t;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sql(cluster.url, 'INSERT INTO canary VALUES (3)');
    await pgbackrestByHandAsync([`--config=${configFile}`, '--stanza=tls', 'check'], TEST_PASSPHRASE);

    const keys = storedKeys(path.join(folder, 'data', 'backups'));
    expect(keys.some((key) => key.startsWith('pg/tls/pgbackrest/archive/tls/'))).toBe(true);
    expect(keys.some((key) => /^pg\/tls\/\d{8}T\d{6}Z-manual-[0-9a-f]{4}\/manifest\.json/.test(key))).toBe(true);

    const drill = await cli([
      'restore-drill',
      '--name=tls',
      '--storage-url=s3://backups/pg',
      `--to-time=${t.toISOString()}`,
      "--verify-sql=SELECT array_agg(id ORDER BY id) = '{1,2}' FROM canary",
    ]);
    expect(drill.out).toMatch(/verified=true/);
    expect(drill.code).toBe(0);
  });
});
