import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Origin } from '../../actions/lib/action/origin.ts';
import { checkWalArchive } from '../../actions/lib/integrity/wal-archive.ts';
import { connect, parseDatabaseUrl } from '../../actions/lib/pg/connection.ts';
import { sql, type ScratchCluster } from '../harness/postgres.ts';
import { ROOT } from '../harness/runner.ts';
import { backstop, pgbackrestByHand, reconfigure, sharedFolder, startArchivingCluster } from '../harness/pitr.ts';

const PASSPHRASE = 'pitr-test-passphrase-0123456789';
const PGBACKREST = existsSync('/usr/bin/pgbackrest');

let cluster: ScratchCluster;
let storage: string;
let configFile: string;
const env = { BACKSTOP_ENCRYPTION_PASSPHRASE: PASSPHRASE };

describe.runIf(PGBACKREST)('archive-config with the real pgBackRest', () => {
  beforeAll(async () => {
    [cluster, storage] = await Promise.all([startArchivingCluster(), sharedFolder('backstop-pitr-')]);
    configFile = path.join(storage, 'etc', 'backstop-prod.conf');
  });
  afterAll(async () => {
    await cluster?.stop();
    await fs.rm(storage, { recursive: true, force: true });
  });

  const args = (): string[] => [
    '--name=prod',
    `--storage-url=file://${storage}`,
    `--pg-data=${cluster.dataDir}`,
    `--database-url=${cluster.url}`,
    `--config=${configFile}`,
  ];

  it('writes the configuration, creates the stanza and prints the postgresql.conf lines; WAL then archives', async () => {
    const first = await backstop('archive-config', args(), env);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({ changed: 'true', archiving: 'false', stanza: 'prod' });
    const text = readFileSync(configFile, 'utf8');
    expect(text).toContain(`repo1-path=${storage}/prod/pgbackrest`);
    expect(text).toContain('repo1-cipher-type=aes-256-cbc');
    expect(text).toContain('compress-type=zst');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    // The passphrase is in the file the archive_command reads, and nowhere in what was printed.
    expect(first.out).not.toContain(PASSPHRASE);
    const lines = first.out.split('\n').filter((line) => /^archive_|^wal_level/.test(line));
    expect(lines).toEqual([
      'archive_mode = on',
      `archive_command = 'pgbackrest --config=${configFile} --stanza=prod archive-push %p'`,
      'archive_timeout = 60',
      'wal_level = replica',
    ]);
    await reconfigure(cluster, lines);
    const check = pgbackrestByHand([`--config=${configFile}`, '--stanza=prod', 'check'], PASSPHRASE);
    expect(check.out).toBe('');
    expect(check.status).toBe(0);
    expect(await fs.readdir(path.join(storage, 'prod/pgbackrest/archive/prod'))).toContain('15-1');
  });

  it('changes nothing when run again, and then says that WAL archives', async () => {
    const before = statSync(configFile).mtimeMs;
    const again = await backstop('archive-config', args(), env);
    expect(again.err).toBe('');
    expect(again.outputs).toMatchObject({ changed: 'false', archiving: 'true' });
    expect(statSync(configFile).mtimeMs).toBe(before);
  });

  it('refuses a wrong passphrase for the existing repository in one line', async () => {
    const wrong = await backstop('archive-config', [...args().slice(0, -1), `--config=${configFile}.other`], {
      BACKSTOP_ENCRYPTION_PASSPHRASE: 'another-passphrase-0123456789',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.err.trim().split('\n')).toHaveLength(1);
    expect(wrong.err).toMatch(/passphrase does not open the pgBackRest repository/);
  });

  it('never overwrites a pgBackRest configuration it did not write', async () => {
    const foreign = path.join(storage, 'etc', 'pgbackrest.conf');
    await fs.writeFile(foreign, '[global]\nrepo1-path=/var/lib/pgbackrest\n');
    const run = await backstop('archive-config', [...args().slice(0, -1), `--config=${foreign}`], env);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^error: Input "config" is .*pgbackrest\.conf, a pgBackRest configuration Backstop did/);
    expect(readFileSync(foreign, 'utf8')).toBe('[global]\nrepo1-path=/var/lib/pgbackrest\n');
  });

  const backupArgs = (type = 'auto'): string[] => [
    '--name=prod',
    `--storage-url=file://${storage}`,
    `--pg-data=${cluster.dataDir}`,
    `--database-url=${cluster.url}`,
    `--type=${type}`,
    '--kind=hourly',
  ];

  async function manifests(): Promise<string[]> {
    const folders = (await fs.readdir(path.join(storage, 'prod'))).filter((entry) => entry !== 'pgbackrest');
    return folders.filter((folder) => existsSync(path.join(storage, 'prod', folder, 'manifest.json'))).sort();
  }

  it('backup-physical: a full backup first (auto), verified, recorded in a manifest written last', async () => {
    await sql(
      cluster.url,
      'CREATE TABLE canary (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())',
    );
    await sql(cluster.url, 'INSERT INTO canary (id) SELECT generate_series(1, 1000)');
    const run = await backstop('backup-physical', backupArgs(), env);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs.type).toBe('full');
    expect(run.outputs.label).toMatch(/^\d{8}-\d{6}F$/);
    expect(Number(run.outputs['size-bytes'])).toBeGreaterThan(100_000);
    expect(run.out).not.toContain(PASSPHRASE);
    const manifest = JSON.parse(
      readFileSync(path.join(storage, 'prod', run.outputs['backup-id']!, 'manifest.json'), 'utf8'),
    );
    expect(manifest).toMatchObject({ engine: 'pgbackrest', kind: 'hourly', name: 'prod' });
    expect(manifest.pgbackrest).toMatchObject({
      stanza: 'prod',
      label: run.outputs.label,
      type: 'full',
      prior: null,
      cipher: 'aes-256-cbc',
      pgbackrestVersion: '2.45',
    });
    expect(manifest.pgbackrest.lsn.start).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(manifest.pgbackrest.wal.start).toMatch(/^[0-9A-F]{24}$/);
    expect(Date.parse(manifest.pgbackrest.stoppedAt)).toBeGreaterThan(Date.parse(manifest.pgbackrest.startedAt) - 1);
    expect(manifest.source.serverVersionNum).toBeGreaterThanOrEqual(150000);
    expect(manifest.files).toEqual([
      expect.objectContaining({ path: 'pgbackrest-info.json', contents: 'pgbackrest-info' }),
    ]);
  });

  it('backup-physical: auto makes an incremental one on the full', async () => {
    await sql(cluster.url, 'INSERT INTO canary (id) SELECT generate_series(1001, 2000)');
    const run = await backstop('backup-physical', backupArgs(), env);
    expect(run.err).toBe('');
    expect(run.outputs.type).toBe('incr');
    expect(run.outputs.label).toMatch(/^\d{8}-\d{6}F_\d{8}-\d{6}I$/);
  });

  it('backup-physical: a wrong passphrase fails in one line and records nothing', async () => {
    const before = await manifests();
    const run = await backstop('backup-physical', backupArgs(), {
      BACKSTOP_ENCRYPTION_PASSPHRASE: 'not-the-passphrase-0123456789',
    });
    expect(run.code).toBe(1);
    expect(run.err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^error: The encryption passphrase does not open the pgBackRest repository .*prod\/pgbackrest/,
      ),
    ]);
    expect(await manifests()).toEqual(before);
  });

  it('backup-physical: SIGKILL mid-run leaves no manifest, and the next run succeeds', async () => {
    const before = await manifests();
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'actions/cli/src/index.ts'), 'backup-physical', ...backupArgs('full')],
      { env: { PATH: process.env.PATH, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        out += text;
        if (out.includes('pgbackrest backup --type=full')) resolve();
      });
      child.once('close', () => resolve());
    });
    // The whole process group, as a runner that loses the machine or an OOM kill of the job would.
    process.kill(-child.pid!, 'SIGKILL');
    await closed;
    expect(out).toContain('pgbackrest backup --type=full');
    expect(await manifests()).toEqual(before);
    const next = await backstop('backup-physical', backupArgs('full'), env);
    expect(next.err).toBe('');
    expect(next.code).toBe(0);
    expect(await manifests()).toEqual([...before, next.outputs['backup-id']].sort());
  });

  it('validate-integrity wal-archive: the newest archived segment is fresh, and a failing archive_command fails', async () => {
    const db = await connect(parseDatabaseUrl(cluster.url, Origin.internal('the test cluster')));
    try {
      const fresh = await checkWalArchive(db, { name: 'prod', maxAgeHours: 1, maxWalAgeMinutes: 5 });
      expect(fresh).toMatchObject({ status: 'pass', name: 'wal archive: prod' });
      expect(fresh.finding).toMatch(/^newest archived WAL [0-9A-F]{24}\S*, \d+\.\d min old; \d+ archived, no failure$/);
      expect((await checkWalArchive(db, { name: 'prod', maxAgeHours: 1, maxWalAgeMinutes: 0.0001 })).status).toBe(
        'fail',
      );
      await db.query("ALTER SYSTEM SET archive_command = 'false'");
      await db.query('SELECT pg_reload_conf()');
      await db.query('CREATE TABLE wal_filler AS SELECT generate_series(1, 1000) AS n');
      await db.query('SELECT pg_switch_wal()');
      let failing = await checkWalArchive(db, { name: 'prod', maxAgeHours: 1, maxWalAgeMinutes: 5 });
      for (let tries = 0; failing.status !== 'fail' && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        failing = await checkWalArchive(db, { name: 'prod', maxAgeHours: 1, maxWalAgeMinutes: 5 });
      }
      expect(failing.status).toBe('fail');
      expect(failing.finding).toMatch(/^archive_command is failing: \d+ failure\(s\), the last on [0-9A-F]{24} at /);
    } finally {
      await db.query('ALTER SYSTEM RESET archive_command').catch(() => undefined);
      await db.query('SELECT pg_reload_conf()').catch(() => undefined);
      await db.end();
    }
  });

  it('prune-backups drives pgbackrest expire: a dropped physical backup leaves the repository, chains kept', async () => {
    const sets = (): string[] => {
      const info = pgbackrestByHand([`--config=${configFile}`, '--stanza=prod', '--output=json', 'info'], PASSPHRASE);
      return (JSON.parse(info.out)[0].backup as { label: string }[]).map((set) => set.label);
    };
    const before = await manifests();
    expect(before.length).toBe(3); // full, incr on it, full (after the killed run)
    const labelOf = (id: string): string =>
      JSON.parse(readFileSync(path.join(storage, 'prod', id, 'manifest.json'), 'utf8')).pgbackrest.label;
    const [first, incr, newest] = before.map(labelOf);
    expect(sets()).toEqual(expect.arrayContaining([first, incr, newest]));
    const keepNone = [
      '--keep-hourly=0',
      '--keep-daily=0',
      '--keep-weekly=0',
      '--keep-monthly=0',
      '--keep-quarterly=0',
      '--keep-yearly=0',
    ];
    const prune = (args: string[], passphrase?: string) =>
      backstop('prune-backups', ['--name=prod', `--storage-url=file://${storage}`, ...keepNone, ...args], {
        ...(passphrase ? { BACKSTOP_ENCRYPTION_PASSPHRASE: passphrase } : {}),
      });
    // Without the passphrase nothing leaves: the repository cannot be expired, so the backups are kept.
    const refused = await prune(['--keep-last=1']);
    expect(refused.err).toMatch(/could not delete .*encryption-passphrase" is empty/);
    expect(await manifests()).toEqual(before);
    // keep-last 2 keeps the incremental, and so the full it is built on: nothing goes.
    const chained = await prune(['--keep-last=2'], PASSPHRASE);
    expect(chained.err).toBe('');
    expect(chained.outputs.deleted).toBe('0');
    expect(chained.out).toContain(`base of ${before[1]}`);
    const pruned = await prune(['--keep-last=1'], PASSPHRASE);
    expect(pruned.err).toBe('');
    expect(pruned.outputs.deleted).toBe('2');
    expect(await manifests()).toEqual([before[2]]);
    expect(sets()).toEqual([newest]);
  });
});
