import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHybridIdentity, recipientOf } from '../../actions/lib/crypto/age.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import {
  embeddedServerBinDir,
  emptyDatabase,
  rowCounts,
  sampleDatabase,
  sql,
  startTestCluster,
  type ScratchCluster,
} from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';
import { startTestS3, type TestS3 } from '../harness/s3.ts';

/** The bundles, run as the runner runs them, against real PostgreSQL, real pg_dump/pg_restore and an S3 server. */
let cluster: ScratchCluster;
let s3: TestS3;
let keys: KeyPair;
let sourceUrl: string;
let work: string;
const TICKS = 500_000;
/** A PostgreSQL 18 without TimescaleDB, whatever this machine has installed. */

beforeAll(async () => {
  [cluster, s3, keys] = await Promise.all([startTestCluster(), startTestS3(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, TICKS);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-e2e-'));
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), s3?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

function dumpInputs(storageUrl: string, name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'database-url': sourceUrl,
    name,
    'storage-url': storageUrl,
    'encryption-recipients': keys.recipient,
    ...extra,
  };
}

describe('dump-postgres → restore-drill', () => {
  it('round-trips through S3 and a local folder at once, with exact row counts in the manifest and after restore', async () => {
    const local = path.join(work, 'roundtrip');
    const storage = `s3://${s3.bucket}/team/prod\n${local}`;
    const dump = await runAction('dump-postgres', dumpInputs(storage, 'prod-db', { kind: 'daily' }), { env: s3.env });
    expect(dump.stderr).toBe('');
    expect(dump.code, dump.stdout).toBe(0);
    expect(dump.outputs['backup-id']).toMatch(/^\d{8}T\d{6}Z-daily-[0-9a-f]{4}$/);
    expect(dump.outputs['manifest-url']).toBe(
      `s3://${s3.bucket}/team/prod/prod-db/${dump.outputs['backup-id']}/manifest.json`,
    );
    expect(Number(dump.outputs['size-bytes'])).toBeGreaterThan(8 * 1024 * 1024); // more than one multipart part
    expect(dump.outputs['server-version']).toMatch(/^\d+\.\d+/);
    expect(dump.summary).toContain('Tables / rows');

    // Both destinations hold identical bytes, and the manifest's counts are the source's exact counts.
    const folder = path.join(local, 'prod-db', dump.outputs['backup-id']!);
    const manifest = JSON.parse(await fs.readFile(path.join(folder, 'manifest.json'), 'utf8'));
    // The dump, then the roles file (pg_dumpall --roles-only), compressed and encrypted the same way.
    expect(manifest.files).toHaveLength(2);
    expect(manifest.files[0]).toMatchObject({
      path: 'postgres.dump.zst.age',
      compression: 'zstd',
      encryption: 'age',
      sha256: dump.outputs.sha256,
      contents: 'database',
    });
    expect(manifest.files[1]).toMatchObject({
      path: 'roles.sql.zst.age',
      compression: 'zstd',
      encryption: 'age',
      contents: 'roles',
    });
    const counted = Object.fromEntries(
      manifest.tables.map((t: { schema: string; name: string; rows: number }) => [`${t.schema}.${t.name}`, t.rows]),
    );
    expect(counted).toEqual(await rowCounts(sourceUrl));
    expect(counted['public.tick_data']).toBe(TICKS);
    const sha = spawnSync('sha256sum', [path.join(folder, 'postgres.dump.zst.age')], { encoding: 'utf8' }).stdout.split(
      ' ',
    )[0];
    expect(sha).toBe(dump.outputs.sha256);

    // Drill from S3 (the first destination) into a real, empty database.
    // An extension's own tables do not make a target "not empty" (TimescaleDB images install theirs everywhere).
    const target = await emptyDatabase(cluster);
    await sql(
      target,
      `CREATE EXTENSION pg_stat_statements;
      CREATE TABLE extension_catalog (id int);
      ALTER EXTENSION pg_stat_statements ADD TABLE extension_catalog;`,
    );
    const drill = await runAction(
      'restore-drill',
      {
        'storage-url': storage,
        name: 'prod-db',
        'encryption-identity': keys.identity,
        'target-url': target,
        'max-restore-seconds': '600',
        'max-age-hours': '1',
      },
      { env: s3.env },
    );
    expect(drill.code, drill.stdout).toBe(0);
    expect(drill.outputs).toMatchObject({ verified: 'true', 'backup-id': dump.outputs['backup-id'] });
    expect(Number(drill.outputs['restore-seconds'])).toBeGreaterThan(0);
    expect(drill.summary).toContain('✅ verified');
    const { 'public.extension_catalog': extensionTable, ...restored } = await rowCounts(target);
    expect(extensionTable).toBe(0);
    expect(restored).toEqual(await rowCounts(sourceUrl));
    // Content, not just counts: sums of numeric(20,8) and microsecond timestamps survive exactly.
    const fingerprint =
      'SELECT sum(last_price)::text AS p, sum(extract(epoch FROM time))::text AS t, count(bid_price) AS b, ' +
      'sum(volume)::text AS v, count(trade_id) AS trades FROM tick_data';
    expect(await sql(target, fingerprint)).toEqual(await sql(sourceUrl, fingerprint));

    // The drill left its record next to the backup, in every destination.
    const drills = await fs.readdir(path.join(folder, 'drills'));
    expect(drills).toHaveLength(1);
    const record = JSON.parse(await fs.readFile(path.join(folder, 'drills', drills[0]!), 'utf8'));
    expect(record).toMatchObject({
      verified: true,
      checksumsVerified: true,
      backupId: dump.outputs['backup-id'],
      problems: [],
    });
    expect(drill.summary).toContain('✅ sha256 of every file matches the manifest');
  });

  it('drills into a throwaway cluster when no target is given, and dry-runs without restoring', async () => {
    const storage = path.join(work, 'scratch');
    const dump = await runAction('dump-postgres', dumpInputs(storage, 'scratch-db'));
    expect(dump.code, dump.stdout).toBe(0);
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'scratch-db',
      'encryption-identity': keys.identity,
    });
    expect(drill.code, drill.stdout).toBe(0);
    expect(drill.outputs.verified).toBe('true');
    expect(drill.summary).toContain('a throwaway PostgreSQL');

    const dry = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'scratch-db',
      'encryption-identity': keys.identity,
      'dry-run': 'true',
    });
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.outputs.verified).toBe('true');
    expect(dry.summary).toMatch(/\d+ entries listed by pg_restore/);
    // What a workflow's plan job reads to pick the drill's service container.
    expect(dry.outputs.engine).toBe('postgres');
    expect(dry.outputs['server-major']).toBe(String(cluster.major));
    expect(dry.outputs['server-version']).toMatch(new RegExp(`^${cluster.major}\\.`));
    expect(dry.outputs.extensions!.split(',')).toContain('plpgsql');

    // plan-only reads the manifest alone: no identity, and the data file is never opened (here it is gone).
    const id = dump.outputs['backup-id']!;
    const folder = path.join(storage, 'scratch-db', id);
    for (const file of await fs.readdir(folder))
      if (file !== 'manifest.json' && file !== 'drills') await fs.rm(path.join(folder, file), { recursive: true });
    const plan = await runAction('restore-drill', { 'storage-url': storage, name: 'scratch-db', 'plan-only': 'true' });
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.outputs['backup-id']).toBe(id);
    expect(plan.outputs['server-major']).toBe(String(cluster.major));
    expect(plan.outputs.verified).toBeUndefined();
    expect(plan.summary).toContain('Nothing was downloaded or restored (plan-only).');
  });

  it('encrypts to a post-quantum recipient through S3 and drills with its identity, and only with it', async () => {
    const identity = generateHybridIdentity();
    const storage = `s3://${s3.bucket}/pq`;
    const inputs = dumpInputs(storage, 'pq-db', { 'encryption-recipients': recipientOf(identity) });
    const dump = await runAction('dump-postgres', inputs, { env: s3.env });
    expect(dump.code, dump.stdout).toBe(0);
    const drillWith = (key: string) =>
      runAction(
        'restore-drill',
        { 'storage-url': storage, name: 'pq-db', 'encryption-identity': key },
        { env: s3.env },
      );
    const drill = await drillWith(identity);
    expect(drill.code, drill.stdout).toBe(0);
    expect(drill.outputs.verified).toBe('true');
    const wrong = await drillWith(keys.identity);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toMatch(
      /Input "encryption-identity" does not match any recipient of \S+\.age: use the age key/,
    );
  });

  it('round-trips the directory format with parallel jobs', async () => {
    const storage = path.join(work, 'directory');
    const dump = await runAction('dump-postgres', dumpInputs(storage, 'dir-db', { format: 'directory', jobs: '2' }));
    expect(dump.code, dump.stdout).toBe(0);
    const manifest = JSON.parse(
      await fs.readFile(path.join(storage, 'dir-db', dump.outputs['backup-id']!, 'manifest.json'), 'utf8'),
    );
    expect(manifest.format).toBe('directory');
    expect(manifest.files.map((f: { path: string }) => f.path)).toContain('dump/toc.dat.age');
    const target = await emptyDatabase(cluster);
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'dir-db',
      'encryption-identity': keys.identity,
      'target-url': target,
      jobs: '2',
    });
    expect(drill.code, drill.stdout).toBe(0);
    expect(await rowCounts(target)).toEqual(await rowCounts(sourceUrl));
  });

  it('stores in the clear only with allow-unencrypted, and warns', async () => {
    const storage = path.join(work, 'clear');
    const refused = await runAction('dump-postgres', {
      'database-url': sourceUrl,
      name: 'clear-db',
      'storage-url': storage,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.errors).toEqual([expect.stringContaining('Input "encryption-recipients" is empty')]);
    await expect(fs.access(storage)).rejects.toThrow();

    const dump = await runAction('dump-postgres', {
      'database-url': sourceUrl,
      name: 'clear-db',
      'storage-url': storage,
      'allow-unencrypted': 'true',
    });
    expect(dump.code, dump.stdout).toBe(0);
    expect(dump.stdout).toContain('::warning::allow-unencrypted is set');
    expect(dump.summary).toContain('none (allow-unencrypted)');
    const drill = await runAction('restore-drill', { 'storage-url': storage, name: 'clear-db' });
    expect(drill.code, drill.stdout).toBe(0);
  });

  it('fails the drill on the RTO and RPO budgets', async () => {
    const storage = path.join(work, 'budgets');
    expect((await runAction('dump-postgres', dumpInputs(storage, 'budget-db'))).code).toBe(0);
    const slow = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'budget-db',
      'encryption-identity': keys.identity,
      'max-restore-seconds': '0.001',
    });
    expect(slow.code).not.toBe(0);
    expect(slow.outputs.verified).toBe('false');
    expect(slow.errors.join('\n')).toContain('over max-restore-seconds 0.001 (RTO)');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the backup is now surely older than 0.36 s
    const stale = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'budget-db',
      'encryption-identity': keys.identity,
      'max-age-hours': '0.0001',
      'dry-run': 'true',
    });
    expect(stale.code).not.toBe(0);
    expect(stale.outputs.verified).toBe('false');
    expect(stale.errors.join('\n')).toContain('over max-age-hours 0.0001 (RPO)');
  });

  it('refuses a TimescaleDB backup where TimescaleDB is missing, before restoring, naming the version', async () => {
    const storage = path.join(work, 'timescale');
    const dump = await runAction('dump-postgres', dumpInputs(storage, 'tsdb'));
    expect(dump.code).toBe(0);
    // Mark the backup as carrying TimescaleDB, as a dump of Tiger Cloud would. The servers below have none, whether
    // or not this machine has TimescaleDB: the embedded PostgreSQL 18 ships without it.
    const manifestPath = path.join(storage, 'tsdb', dump.outputs['backup-id']!, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
    manifest.source.extensions.push({ name: 'timescaledb', version: '2.24.0' });
    await fs.writeFile(manifestPath, JSON.stringify(manifest));
    const embedded = await startTestCluster({ binDir: embeddedServerBinDir() });
    try {
      const target = await emptyDatabase(embedded);
      const inputs = { 'storage-url': storage, name: 'tsdb', 'encryption-identity': keys.identity };
      const own = await runAction('restore-drill', { ...inputs, 'target-url': target });
      expect(own.code).toBe(1);
      expect(own.errors).toEqual([
        expect.stringContaining(
          `The backup needs TimescaleDB 2.24.0 and the target ${target} (input "target-url") has none: restore ` +
            `into a server running TimescaleDB 2.24.0 (e.g. timescale/timescaledb:2.24.0-pg${cluster.major})`,
        ),
      ]);
      expect(await rowCounts(target)).toEqual({});

      // No target: the newest local server (the embedded one, first on PATH) is started, and has no TimescaleDB.
      const throwaway = await runAction('restore-drill', inputs, {
        env: { PATH: `${embeddedServerBinDir()}${path.delimiter}${process.env.PATH ?? ''}` },
      });
      expect(throwaway.code).toBe(1);
      expect(throwaway.errors).toEqual([
        expect.stringContaining(
          `The backup needs TimescaleDB 2.24.0 and the local PostgreSQL ${embedded.major} has no TimescaleDB: ` +
            `install timescaledb-2-postgresql-${embedded.major} 2.24.0 from Timescale's package repository, or run ` +
            `timescale/timescaledb:2.24.0-pg${cluster.major} and give its empty database through input "target-url"`,
        ),
      ]);
    } finally {
      await embedded.stop();
    }
  });

  it('refuses to restore into a database that holds tables', async () => {
    const storage = path.join(work, 'occupied');
    expect((await runAction('dump-postgres', dumpInputs(storage, 'occupied-db'))).code).toBe(0);
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'occupied-db',
      'encryption-identity': keys.identity,
      'target-url': sourceUrl,
    });
    expect(drill.code).not.toBe(0);
    expect(drill.errors).toEqual([expect.stringMatching(/Input "target-url": .* already holds \d+ tables/)]);
    expect(await rowCounts(sourceUrl)).toMatchObject({ 'public.tick_data': TICKS });
  });
});
