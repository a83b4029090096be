import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSqlFile } from '../../actions/lib/catalog/ddl.ts';
import { CatalogMirror } from '../../actions/lib/catalog/mirror.ts';
import { Origin } from '../../actions/lib/action/origin.ts';
import { parseDatabaseUrl } from '../../actions/lib/pg/connection.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { startQdrantStandin } from '../harness/qdrant/standin.ts';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import {
  emptyDatabase,
  roleWithPassword,
  sampleDatabase,
  sql,
  startTestCluster,
  type ScratchCluster,
} from '../harness/postgres.ts';
import { archivingSetup, TEST_PASSPHRASE, type ArchivingSetup } from '../harness/pitr.ts';
import { ROOT, runAction } from '../harness/runner.ts';

const PGBACKREST = existsSync('/usr/bin/pgbackrest');

const KEEP_ONLY_LAST = {
  'keep-last': '1',
  'keep-hourly': '0',
  'keep-daily': '0',
  'keep-weekly': '0',
  'keep-monthly': '0',
  'keep-quarterly': '0',
  'keep-yearly': '0',
};

/**
 * backstop.backup_logs (TD-102) as the actions mirror into it, against a real PostgreSQL: created on first use,
 * running → completed or failed, drills, purges; catalog-sync rebuilds it from storage; a dead catalog is a warning.
 */
let cluster: ScratchCluster;
let keys: KeyPair;
let sourceUrl: string;
let catalogUrl: string;
let work: string;

const CATALOG_PASSWORD = 'Catalog-Secret-77x';

beforeAll(async () => {
  [cluster, keys] = await Promise.all([startTestCluster(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, 2_000);
  const catalogDb = await emptyDatabase(cluster);
  catalogUrl = await roleWithPassword(cluster, catalogDb.split('/').pop()!, 'catalog_writer', CATALOG_PASSWORD);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-catalog-'));
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

interface Row {
  backup_id: string;
  name: string;
  engine: string;
  backup_type: string;
  backup_timestamp: string;
  backup_size_bytes: string | null;
  checksum_md5: string | null;
  checksum_sha256: string | null;
  location_local: string | null;
  location_s3: string | null;
  status: string;
  recovery_tested: boolean;
  test_timestamp: string | null;
  recovery_time_seconds: number | null;
  verified_at: string | null;
  purged_at: string | null;
  error_message: string | null;
}

/** Every column but the row id and created_at (which a rebuild renews), times as text. */
async function rows(name: string): Promise<Row[]> {
  return sql<Row>(
    catalogUrl,
    `SELECT backup_id, name, engine, backup_type, backup_timestamp::text, backup_size_bytes::text, checksum_md5,
       checksum_sha256, location_local, location_s3, status, recovery_tested, test_timestamp::text,
       recovery_time_seconds, verified_at::text, purged_at::text, error_message
     FROM backstop.backup_logs WHERE name = $1 ORDER BY backup_id`,
    [name],
  );
}

function dump(name: string, storage: string, extra: Record<string, string> = {}) {
  return runAction('dump-postgres', {
    'database-url': sourceUrl,
    name,
    'storage-url': storage,
    'encryption-recipients': keys.recipient,
    'catalog-url': catalogUrl,
    kind: 'daily',
    ...extra,
  });
}

function backstop(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [path.join(ROOT, 'actions/cli/dist/index.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: work, ...env },
    encoding: 'utf8',
    cwd: work,
  });
}

describe('the backup_logs catalog', () => {
  it('sql/catalog/backup_logs.sql runs twice, every column has a comment, TD-102 columns and indexes', async () => {
    const db = await emptyDatabase(cluster);
    const { content } = catalogSqlFile();
    expect(await fs.readFile(path.join(ROOT, 'sql/catalog/backup_logs.sql'), 'utf8')).toBe(content);
    await sql(db, content);
    await sql(db, content);
    const columns = await sql<{ name: string; comment: string | null }>(
      db,
      `SELECT a.attname AS name, col_description(a.attrelid, a.attnum) AS comment FROM pg_attribute a
       WHERE a.attrelid = 'backstop.backup_logs'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    );
    expect(columns.map((column) => column.name)).toEqual([
      'id',
      'backup_id',
      'backup_type',
      'backup_timestamp',
      'backup_size_bytes',
      'checksum_md5',
      'checksum_sha256',
      'location_local',
      'location_s3',
      'status',
      'recovery_tested',
      'test_timestamp',
      'recovery_time_seconds',
      'created_at',
      'verified_at',
      'purged_at',
      'error_message',
      'name',
      'engine',
    ]);
    expect(columns.filter((column) => !column.comment)).toEqual([]);
    const indexes = await sql<{ indexname: string }>(
      db,
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'backstop' AND indexname LIKE 'idx_%' ORDER BY 1",
    );
    expect(indexes.map((index) => index.indexname)).toEqual([
      'idx_backup_logs_status',
      'idx_backup_logs_timestamp',
      'idx_backup_logs_type',
    ]);
  });

  it('a dump creates the table and writes its row completed; a drill, its verdict; prune, purged_at', async () => {
    const storage = path.join(work, 'mirror');
    const first = await dump('mirrored', storage);
    expect(first.errors).toEqual([]);
    expect(first.stdout).not.toContain('::warning::The catalog');
    const second = await dump('mirrored', storage);
    expect(second.errors).toEqual([]);
    const [row] = (await rows('mirrored')).filter((candidate) => candidate.backup_id === first.outputs['backup-id']);
    expect(row).toMatchObject({
      name: 'mirrored',
      engine: 'postgres',
      backup_type: 'daily',
      status: 'completed',
      backup_size_bytes: first.outputs['size-bytes'],
      checksum_sha256: first.outputs.sha256,
      checksum_md5: null,
      location_s3: null,
      recovery_tested: false,
      error_message: null,
      purged_at: null,
    });
    expect(row!.location_local).toBe(`${new URL(`file://${storage}/mirrored/${first.outputs['backup-id']}`).href}`);
    // TIMESTAMP without time zone, holding UTC: the id's own stamp, whatever the machine's time zone.
    const stamp = `${row!.backup_timestamp.slice(0, 19).replace(/[-:]/g, '').replace(' ', 'T')}Z`;
    expect(first.outputs['backup-id']!.slice(0, 16)).toBe(stamp);

    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'mirrored',
      'backup-id': first.outputs['backup-id']!,
      'encryption-identity': keys.identity,
      'catalog-url': catalogUrl,
    });
    expect(drill.errors).toEqual([]);
    const [drilled] = (await rows('mirrored')).filter(
      (candidate) => candidate.backup_id === first.outputs['backup-id'],
    );
    expect(drilled).toMatchObject({ recovery_tested: true, error_message: null, status: 'completed' });
    // Whole seconds, rounded up, of the time the output gives to a tenth.
    const rto = Number(drill.outputs['restore-seconds']);
    expect(drilled!.recovery_time_seconds).toBeGreaterThanOrEqual(Math.floor(rto));
    expect(drilled!.recovery_time_seconds).toBeLessThanOrEqual(Math.ceil(rto + 0.05));
    expect(drilled!.test_timestamp).not.toBeNull();
    expect(drilled!.verified_at! >= drilled!.test_timestamp!).toBe(true);

    // Keep only the newest by policy: the rules that protect the newest and the newest verified decide the rest.
    const pruneToLast = () =>
      runAction('prune-backups', {
        'storage-url': storage,
        name: 'mirrored',
        ...KEEP_ONLY_LAST,
        'catalog-url': catalogUrl,
      });
    const prune = await pruneToLast();
    expect(prune.errors).toEqual([]);
    // The newest verified backup (the first) and the newest (the second) are kept whatever the policy.
    expect((await rows('mirrored')).map((candidate) => candidate.purged_at)).toEqual([null, null]);
    const third = await dump('mirrored', storage);
    await pruneToLast();
    const purged = Object.fromEntries((await rows('mirrored')).map((r) => [r.backup_id, r.purged_at !== null]));
    expect(purged).toEqual({
      [first.outputs['backup-id']!]: false,
      [second.outputs['backup-id']!]: true,
      [third.outputs['backup-id']!]: false,
    });
  });

  it('a backup that has its id but no manifest yet has its row running, in every destination it writes', async () => {
    const warnings: string[] = [];
    const mirror = new CatalogMirror({
      database: parseDatabaseUrl(catalogUrl, Origin.input('catalog-url')),
      warn: (line) => warnings.push(line),
      redact: (text) => text,
    });
    const store = new LocalStore(path.join(work, 'running'));
    const id = '20261202T010203Z-hourly-0a1b';
    mirror.backupStarted({ id, name: 'running', engine: 'qdrant', kind: 'hourly', createdAt: new Date() }, [store]);
    await mirror.close();
    expect(warnings).toEqual([]);
    expect(await rows('running')).toMatchObject([
      {
        backup_id: id,
        engine: 'qdrant',
        backup_type: 'hourly',
        status: 'running',
        backup_size_bytes: null,
        checksum_sha256: null,
        location_local: store.urlOf(`running/${id}`),
      },
    ]);
  });

  it('snapshot-qdrant writes its row completed: engine qdrant, the sha256 of the snapshot file, no S3 location', async () => {
    const qdrant = await startQdrantStandin({
      collections: [{ name: 'trades', points: 843, vectors: { size: 384, distance: 'Cosine' } }],
      aliases: [],
    });
    try {
      const storage = path.join(work, 'qdrant');
      const run = await runAction('snapshot-qdrant', {
        'qdrant-url': qdrant.url,
        name: 'vectors',
        'storage-url': storage,
        'encryption-recipients': keys.recipient,
        kind: 'weekly',
        'catalog-url': catalogUrl,
      });
      expect(run.errors).toEqual([]);
      const id = run.outputs['backup-id']!;
      const manifest = JSON.parse(await fs.readFile(path.join(storage, 'vectors', id, 'manifest.json'), 'utf8'));
      expect(await rows('vectors')).toMatchObject([
        {
          backup_id: id,
          engine: 'qdrant',
          backup_type: 'weekly',
          status: 'completed',
          backup_size_bytes: run.outputs['size-bytes'],
          checksum_sha256: manifest.files[0].sha256,
          location_s3: null,
        },
      ]);
      expect(qdrant.violations).toEqual([]);
    } finally {
      await qdrant.stop();
    }
  });

  it('a failed dump writes its row failed with the one-line error, its secret masked', async () => {
    const deadPort = await freePort();
    const secret = 'Source-Secret-42q';
    const failed = await dump('failing', path.join(work, 'failing'), {
      'database-url': `postgresql://someone:${secret}@127.0.0.1:${deadPort}/nowhere`,
    });
    expect(failed.code).not.toBe(0);
    const [row] = await rows('failing');
    expect(row).toMatchObject({ status: 'failed', engine: 'postgres', backup_type: 'daily', checksum_sha256: null });
    expect(row!.error_message).toContain(`127.0.0.1:${deadPort}`);
    expect(row!.error_message).not.toContain(secret);
    expect(row!.error_message).not.toContain('\n');
  });

  it('a catalog that is down gives one warning line, never a failed backup, and no secret', async () => {
    const deadPort = await freePort();
    const dead = `postgresql://catalog_writer:${CATALOG_PASSWORD}@127.0.0.1:${deadPort}/catalog`;
    const run = await dump('dead-catalog', path.join(work, 'dead'), { 'catalog-url': dead });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs['backup-id']).toMatch(/-daily-/);
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning::The catalog'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`127.0.0.1:${deadPort}`);
    expect(warnings[0]).toContain('catalog-sync');
    // The runner masks what ::add-mask:: registers; every other line must not hold the password at all.
    const printed = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    expect(printed.join('\n')).not.toContain(CATALOG_PASSWORD);
  });

  it('backstop catalog-sync rebuilds the rows from storage: delete them, sync, the same rows (twice)', async () => {
    const storage = path.join(work, 'sync');
    const made = [await dump('synced', storage), await dump('synced', storage)];
    expect(made.flatMap((run) => run.errors)).toEqual([]);
    const drill = await runAction('restore-drill', {
      'storage-url': storage,
      name: 'synced',
      'encryption-identity': keys.identity,
      'catalog-url': catalogUrl,
    });
    expect(drill.errors).toEqual([]);
    const before = await rows('synced');
    expect(before.map((row) => row.recovery_tested)).toEqual([false, true]);

    await sql(catalogUrl, "DELETE FROM backstop.backup_logs WHERE name = 'synced'");
    expect(await rows('synced')).toEqual([]);
    const env = { BACKSTOP_CATALOG_URL: catalogUrl };
    const sync = backstop(['catalog-sync', '--storage-url', storage], env);
    expect(sync.stderr).not.toContain(CATALOG_PASSWORD);
    expect(sync.status, sync.stderr).toBe(0);
    expect(await rows('synced')).toEqual(before);
    expect(backstop(['catalog-sync', '--storage-url', storage, '--name', 'synced'], env).status).toBe(0);
    expect(await rows('synced')).toEqual(before);
  });

  it('catalog-sync names every bad input at once, a line each, and touches no catalog', async () => {
    const run = backstop(
      ['catalog-sync', '--storage-url', 's3:/bucket', '--catalog-url', 'mysql://catalog', '--name', '../up'],
      {},
    );
    expect(run.status).toBe(1);
    const errors = run.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(/^error: Input "catalog-url" has scheme "mysql:"/);
    expect(errors[1]).toMatch(/^error: Input "storage-url" has "s3:\/bucket": not a storage URL/);
    expect(errors[2]).toMatch(/^error: Input "name" is "\.\.\/up"/);
  });

  it('catalog-sync marks purged a completed row whose backup is gone from storage', async () => {
    const storage = path.join(work, 'gone');
    const kept = await dump('gone', storage);
    const removed = await dump('gone', storage);
    await fs.rm(path.join(storage, 'gone', removed.outputs['backup-id']!), { recursive: true });
    const sync = backstop(['catalog-sync', '--storage-url', storage], { BACKSTOP_CATALOG_URL: catalogUrl });
    expect(sync.status, sync.stderr).toBe(0);
    const purged = Object.fromEntries((await rows('gone')).map((r) => [r.backup_id, r.purged_at !== null]));
    expect(purged).toEqual({ [kept.outputs['backup-id']!]: false, [removed.outputs['backup-id']!]: true });
  });
});

describe.runIf(PGBACKREST)('backup-physical and its drill in backup_logs (real pgBackRest repository)', () => {
  let setup: ArchivingSetup;
  let physicalCatalog: string;

  beforeAll(async () => {
    setup = await archivingSetup('shop');
    await sql(setup.cluster.url, 'CREATE TABLE canary (id int PRIMARY KEY)');
    await sql(setup.cluster.url, 'INSERT INTO canary VALUES (1), (2)');
    // A catalog whose sessions are far from UTC: every time column must still hold UTC.
    const db = (await emptyDatabase(cluster)).split('/').pop()!;
    await sql(cluster.url, `ALTER DATABASE ${db} SET timezone TO 'Pacific/Kiritimati'`);
    physicalCatalog = catalogUrl.replace(/\/[^/]+$/, `/${db}`);
  }, 60_000);
  afterAll(async () => {
    await setup?.stop();
  });

  function physical(name: string) {
    return runAction('backup-physical', {
      name,
      'storage-url': `file://${setup.storage}`,
      'pg-data': setup.cluster.dataDir,
      'database-url': setup.cluster.url,
      'encryption-passphrase': TEST_PASSPHRASE,
      kind: 'weekly',
      'catalog-url': physicalCatalog,
    });
  }

  async function physicalRows(name: string) {
    return sql<Row & { created_at: string }>(
      physicalCatalog,
      `SELECT backup_id, name, engine, backup_type, backup_timestamp::text, backup_size_bytes::text, checksum_md5,
         checksum_sha256, location_local, location_s3, status, recovery_tested, test_timestamp::text,
         recovery_time_seconds, verified_at::text, purged_at::text, error_message, created_at::text
       FROM backstop.backup_logs WHERE name = $1 ORDER BY backup_id`,
      [name],
    );
  }

  /** A TIMESTAMP column's text (UTC by contract) as milliseconds since the epoch. */
  const utc = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`);

  it('a backup writes its row completed: engine pgbackrest, the bytes it added, its folder; times in UTC', async () => {
    const before = Date.now();
    const run = await physical('shop');
    expect(run.errors).toEqual([]);
    expect(run.stdout).not.toContain('::warning::The catalog');
    const id = run.outputs['backup-id']!;
    const [row, ...others] = await physicalRows('shop');
    expect(others).toEqual([]);
    expect(row).toMatchObject({
      backup_id: id,
      name: 'shop',
      engine: 'pgbackrest',
      backup_type: 'weekly',
      status: 'completed',
      backup_size_bytes: run.outputs['size-bytes'],
      checksum_md5: null,
      // pgBackRest checksums every file in its own repository (verify checks them): no one data file to hash.
      checksum_sha256: null,
      location_local: `file://${setup.storage}/shop/${id}`,
      location_s3: null,
      recovery_tested: false,
      test_timestamp: null,
      verified_at: null,
      purged_at: null,
      error_message: null,
    });
    expect(Number(row!.backup_size_bytes)).toBeGreaterThan(1_000_000);
    // The folder holds the manifest that names the repository's backup set.
    const manifest = JSON.parse(await fs.readFile(path.join(setup.storage, 'shop', id, 'manifest.json'), 'utf8'));
    expect(manifest.pgbackrest.label).toBe(run.outputs.label);
    expect(utc(row!.backup_timestamp)).toBe(Date.parse(manifest.createdAt));
    const written = utc(row!.created_at);
    expect(written).toBeGreaterThanOrEqual(Date.parse(manifest.createdAt));
    expect(written).toBeLessThanOrEqual(Date.now());
    expect(written).toBeGreaterThanOrEqual(before - 1000);
  }, 120_000);

  it('its drills: one that fails says why; one that verifies sets recovery_tested, RTO and verified_at', async () => {
    const [row] = await physicalRows('shop');
    const drillWith = (verifySql: string) =>
      runAction('restore-drill', {
        name: 'shop',
        'storage-url': `file://${setup.storage}`,
        'backup-id': row!.backup_id,
        'verify-sql': verifySql,
        'encryption-passphrase': TEST_PASSPHRASE,
        'catalog-url': physicalCatalog,
      });
    const failing = await drillWith("SELECT array_agg(id ORDER BY id) = '{1,2,3}' FROM canary");
    expect(failing.code).toBe(1);
    expect(failing.outputs.verified).toBe('false');
    const [failed] = await physicalRows('shop');
    expect(failed).toMatchObject({ status: 'completed', recovery_tested: false, verified_at: null });
    expect(failed!.test_timestamp).not.toBeNull();
    expect(failed!.error_message).toContain('Input "verify-sql" returned false');
    expect(failed!.error_message).not.toContain(TEST_PASSPHRASE);

    const drill = await drillWith("SELECT array_agg(id ORDER BY id) = '{1,2}' FROM canary");
    expect(drill.errors).toEqual([]);
    expect(drill.outputs).toMatchObject({ verified: 'true', engine: 'pgbackrest' });
    const [drilled] = await physicalRows('shop');
    expect(drilled).toMatchObject({ status: 'completed', recovery_tested: true, error_message: null });
    const rto = Number(drill.outputs['restore-seconds']);
    expect(drilled!.recovery_time_seconds).toBeGreaterThanOrEqual(Math.floor(rto));
    expect(drilled!.recovery_time_seconds).toBeLessThanOrEqual(Math.ceil(rto + 0.05));
    expect(utc(failed!.test_timestamp!)).toBeGreaterThan(utc(drilled!.created_at));
    expect(utc(drilled!.test_timestamp!)).toBeGreaterThan(utc(failed!.test_timestamp!));
    expect(utc(drilled!.verified_at!)).toBeGreaterThanOrEqual(utc(drilled!.test_timestamp!));
    expect(utc(drilled!.verified_at!)).toBeLessThanOrEqual(Date.now());
  }, 180_000);

  it('a repository it cannot write: the running row turns failed, one line, no passphrase', async () => {
    const sets = path.join(setup.storage, 'shop/pgbackrest/backup/shop');
    const { mode } = await fs.stat(sets);
    await fs.chmod(sets, 0o555);
    try {
      const run = await physical('shop');
      expect(run.code).toBe(1);
      const failed = (await physicalRows('shop')).filter((row) => row.status !== 'completed');
      expect(failed).toMatchObject([{ engine: 'pgbackrest', backup_type: 'weekly', status: 'failed' }]);
      const [row] = failed;
      // The id the backup had when it started (its running row), not one made up after the failure.
      expect(run.stdout).toContain(`Backup ${row!.backup_id}: pgbackrest backup --type=incr`);
      expect(row!.location_local).toBe(`file://${setup.storage}/shop/${row!.backup_id}`);
      // pgBackRest's own words, the path and the OS's reason included.
      const error = row!.error_message!;
      expect(error).toMatch(/^pgbackrest backup failed \(error 047\): unable to create path '/);
      expect(error).toContain(`'${sets}/`);
      expect(error).toContain("': [13] Permission denied");
      expect(error).not.toContain('\n');
      expect(error).not.toContain(TEST_PASSPHRASE);
      expect(run.errors.join('\n')).toContain(error);
    } finally {
      await fs.chmod(sets, mode);
    }
  }, 120_000);

  it('a stanza the repository does not have: a failed row of its own, one line, no passphrase', async () => {
    const run = await physical('nostanza');
    expect(run.code).toBe(1);
    const [row, ...others] = await physicalRows('nostanza');
    expect(others).toEqual([]);
    expect(row).toMatchObject({ engine: 'pgbackrest', status: 'failed', backup_size_bytes: null });
    expect(row!.backup_id).toMatch(/^\d{8}T\d{6}Z-weekly-/);
    expect(row!.error_message).toMatch(/nostanza/);
    expect(row!.error_message).not.toContain('\n');
    expect(row!.error_message).not.toContain(TEST_PASSPHRASE);
  }, 60_000);
});
