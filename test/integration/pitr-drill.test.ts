import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../harness/postgres.ts';
import { archiveNow, archivingSetup, backstop, type ArchivingSetup } from '../harness/pitr.ts';

const PGBACKREST = existsSync('/usr/bin/pgbackrest');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let setup: ArchivingSetup;
let full: Record<string, string>;
let incr: Record<string, string>;
/** The recorded time T: rows 1-4 were committed before it, 5 and 6 after. */
let target: string;

const insert = (id: number) => sql(setup.cluster.url, 'INSERT INTO canary (id) VALUES ($1)', [id]);
const switchWal = () => sql(setup.cluster.url, 'SELECT pg_switch_wal()');

async function backup(type: string): Promise<Record<string, string>> {
  const run = await backstop(
    'backup-physical',
    [
      '--name=pitr',
      `--storage-url=file://${setup.storage}`,
      `--pg-data=${setup.cluster.dataDir}`,
      `--database-url=${setup.cluster.url}`,
      `--type=${type}`,
    ],
    setup.env,
  );
  if (run.code !== 0) throw new Error(`backup-physical failed: ${run.err}`);
  return run.outputs;
}

function drill(args: string[], env = setup.env) {
  return backstop('restore-drill', ['--name=pitr', `--storage-url=file://${setup.storage}`, ...args], env);
}

/** The newest WAL segment file in the test's repository, read from the folder itself. */
function newestSegmentOnDisk(): string {
  const folder = path.join(setup.storage, 'pitr/pgbackrest/archive/pitr/15-1/0000000100000000');
  const segments = readdirSync(folder).filter((file) => /^[0-9A-F]{24}-/.test(file));
  return segments
    .map((file) => file.slice(0, 24))
    .sort()
    .at(-1)!;
}

/** Exactly the rows committed before T, none after. */
const BEFORE_T = "SELECT array_agg(id ORDER BY id) = '{1,2,3,4}' FROM canary";

describe.runIf(PGBACKREST)('restore-drill to-time of pgBackRest backups (real PostgreSQL, real pgBackRest)', () => {
  beforeAll(async () => {
    setup = await archivingSetup('pitr');
    await sql(setup.cluster.url, 'CREATE TABLE canary (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())');
    await insert(1);
    full = await backup('full');
    await insert(2);
    await switchWal();
    incr = await backup('incr');
    await insert(3);
    await switchWal();
    await insert(4);
    await pause(300);
    target = (await sql<{ t: Date }>(setup.cluster.url, 'SELECT clock_timestamp() AS t'))[0]!.t.toISOString();
    await pause(300);
    await insert(5);
    await switchWal();
    await insert(6);
    archiveNow(setup, 'pitr');
  }, 120_000);
  afterAll(async () => {
    await setup?.stop();
  });

  it('recovers exactly the rows committed before T, from the newest base backup before it (the incremental)', async () => {
    const run = await drill([`--to-time=${target}`, `--verify-sql=${BEFORE_T}`]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs['backup-id']).toBe(incr['backup-id']);
    expect(run.outputs.verified).toBe('true');
    expect(run.outputs.engine).toBe('pgbackrest');
    const recoveredTo = Date.parse(run.outputs['recovered-to']!);
    expect(recoveredTo).toBeLessThanOrEqual(Date.parse(target));
    expect(recoveredTo).toBeGreaterThan(Date.parse(target) - 5_000);
    expect(Number(run.outputs['restore-seconds'])).toBeGreaterThan(0);
    expect(run.out).toMatch(/Recovery stopped +recovery stopping before commit of transaction \d+/);
    expect(run.out).not.toContain(setup.env.BACKSTOP_ENCRYPTION_PASSPHRASE);
    const drills = path.join(setup.storage, 'pitr', incr['backup-id']!, 'drills');
    const record = JSON.parse(readFileSync(path.join(drills, readdirSync(drills)[0]!), 'utf8'));
    expect(record).toMatchObject({ engine: 'pgbackrest', verified: true, toTime: target, baseBackup: incr.label });
    expect(record.walReplayed).toBeGreaterThan(0);
    // The RPO as the repository saw it: its newest segment, at least as new as the one the backup ended in.
    expect(record.newestWal.segment).toBe(newestSegmentOnDisk());
    expect(Date.parse(record.newestWal.archivedAt)).toBeLessThanOrEqual(Date.parse(record.startedAt) + 1000);
    expect(run.out).toMatch(new RegExp(`Newest archived WAL \\(RPO\\) +${record.newestWal.segment}, archived `));
    // Nothing is left behind: the drill's folder (and the server that ran in it) is gone.
    const dataDir = / into (\S+\/backstop-pitr-drill-[^/\s]+)\/data/.exec(run.out)?.[1];
    expect(dataDir).toBeDefined();
    expect(existsSync(dataDir!)).toBe(false);
  });

  it('fails when verify-sql is false (the rows after T must not be there)', async () => {
    const run = await drill([`--to-time=${target}`, '--verify-sql=SELECT count(*) = 6 FROM canary']);
    expect(run.code).toBe(1);
    expect(run.outputs.verified).toBe('false');
    expect(run.err).toMatch(/^error: Drill of .* failed: Input "verify-sql" returned false/);
  });

  it('drills from the older of two base backups to a time after the newer one (base backup pinned)', async () => {
    const run = await drill([`--backup-id=${full['backup-id']}`, `--to-time=${target}`, `--verify-sql=${BEFORE_T}`]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs['backup-id']).toBe(full['backup-id']);
    expect(run.out).toContain(`pgBackRest ${full.label} (full)`);
  });

  it('a target time before the oldest backup fails in one line', async () => {
    const run = await drill(['--to-time=2001-01-01T00:00:00Z']);
    expect(run.code).toBe(1);
    expect(run.err.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^error: Input "to-time" is 2001-01-01T00:00:00.000Z, before the oldest complete pgbackrest backup of "pitr" \(consistent from .*\): choose a time after that\.$/,
      ),
    ]);
  });

  it('a to-time without an offset fails in one line', async () => {
    const run = await drill(['--to-time=2026-01-18 03:00']);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^error: Input "to-time" is "2026-01-18 03:00", not an ISO 8601 time with offset/);
  });

  it('a wrong passphrase fails in one line', async () => {
    const run = await drill([`--to-time=${target}`], {
      BACKSTOP_ENCRYPTION_PASSPHRASE: 'not-the-passphrase-0123456789',
    });
    expect(run.code).toBe(1);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.err).toMatch(/The encryption passphrase does not open the pgBackRest repository/);
  });

  it('validate-integrity reads the newest archived WAL from the repository in storage: fresh passes, stale fails', async () => {
    const config = path.join(setup.storage, 'wal-age.yml');
    const check = async (minutes: number) => {
      writeFileSync(config, `backups:\n  - name: pitr\n    max-age-hours: 24\n    max-wal-age-minutes: ${minutes}\n`);
      const run = await backstop('validate-integrity', [
        `--database-url=${setup.cluster.url}`,
        `--storage-url=file://${setup.storage}`,
        `--config=${config}`,
        '--fail-on=never',
      ]);
      expect(run.code).toBe(0);
      const report = JSON.parse(readFileSync(run.outputs['report-path']!, 'utf8'));
      return report.checks.find((c: { name: string }) => c.name === 'wal repository: pitr');
    };
    const fresh = await check(60);
    expect(fresh).toMatchObject({ status: 'pass', details: { segment: newestSegmentOnDisk() } });
    expect(fresh.finding).toMatch(/^newest WAL in \/.*\/pitr\/pgbackrest: [0-9A-F]{24}, \d+\.\d min old$/);
    const stale = await check(0.0001);
    expect(stale.status).toBe('fail');
    expect(stale.finding).toMatch(/\(max-wal-age-minutes 0\.0001\): check archive_command and archive_timeout$/);
  });

  it('a WAL segment missing from the repository is caught by verify (backup-physical fails) and by the drill', async () => {
    const manifest = JSON.parse(
      readFileSync(path.join(setup.storage, 'pitr', incr['backup-id']!, 'manifest.json'), 'utf8'),
    );
    const folder = path.join(setup.storage, 'pitr/pgbackrest/archive/pitr/15-1/0000000100000000');
    const after = readdirSync(folder)
      .filter((file) => /^[0-9A-F]{24}-/.test(file) && file.slice(0, 24) > manifest.pgbackrest.wal.stop)
      .sort();
    expect(after.length).toBeGreaterThan(1);
    rmSync(path.join(folder, after[0]!));
    const verify = await backstop(
      'backup-physical',
      [
        '--name=pitr',
        `--storage-url=file://${setup.storage}`,
        `--pg-data=${setup.cluster.dataDir}`,
        `--database-url=${setup.cluster.url}`,
        '--type=incr',
      ],
      setup.env,
    );
    expect(verify.code).toBe(1);
    expect(verify.err.trim().split('\n')).toHaveLength(1);
    expect(verify.err).toMatch(
      new RegExp(
        `^error: Verify of the repository .* failed: the WAL archive has 1 segment\\(s\\) missing, first after [0-9A-F]{24} \\(next archived: ${after[1]!.slice(0, 24)}\\)`,
      ),
    );
    const run = await drill([`--to-time=${target}`, `--verify-sql=${BEFORE_T}`]);
    expect(run.code).toBe(1);
    expect(run.outputs.verified).toBe('false');
    expect(run.err).toMatch(/Recovery ended before the target/);
  });
});
