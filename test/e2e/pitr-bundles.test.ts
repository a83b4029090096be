import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type ScratchCluster } from '../harness/postgres.ts';
import {
  pgbackrestByHand,
  reconfigure,
  sharedFolder,
  startArchivingCluster,
  TEST_PASSPHRASE,
} from '../harness/pitr.ts';
import { ROOT, runAction } from '../harness/runner.ts';

/**
 * Point-in-time recovery through the bundles the runner and a shell run: `backstop archive-config` from the CLI
 * bundle, then backup-physical and restore-drill `to-time` from their dist/ with INPUT_* variables, as on a
 * self-hosted runner. The integration tests cover the cases; this proves the shipped bundles do the same.
 */
const PGBACKREST = existsSync('/usr/bin/pgbackrest');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let cluster: ScratchCluster;
let storage: string;

function cliBundle(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'actions/cli/dist/index.js'), ...args], {
    env: { PATH: process.env.PATH, BACKSTOP_ENCRYPTION_PASSPHRASE: TEST_PASSPHRASE },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.runIf(PGBACKREST)('PITR through the bundled actions (real PostgreSQL, real pgBackRest)', () => {
  beforeAll(async () => {
    [cluster, storage] = await Promise.all([startArchivingCluster(), sharedFolder('backstop-pitr-bundles-')]);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    if (storage) await fs.rm(storage, { recursive: true, force: true });
  });

  it('archive-config (CLI bundle) → backup-physical → restore-drill to-time recovers exactly the rows before T', async () => {
    const configFile = path.join(storage, 'etc', 'backstop-shop.conf');
    const configured = cliBundle([
      'archive-config',
      '--name=shop',
      `--storage-url=file://${storage}`,
      `--pg-data=${cluster.dataDir}`,
      `--database-url=${cluster.url}`,
      `--config=${configFile}`,
    ]);
    expect(configured.stderr).toBe('');
    expect(configured.status).toBe(0);
    const lines = configured.stdout.split('\n').filter((line) => /^archive_|^wal_level/.test(line));
    expect(lines).toHaveLength(4);
    await reconfigure(cluster, lines);

    await sql(cluster.url, 'CREATE TABLE canary (id int PRIMARY KEY)');
    await sql(cluster.url, 'INSERT INTO canary VALUES (1)');
    const backup = await runAction('backup-physical', {
      name: 'shop',
      'storage-url': `file://${storage}`,
      'pg-data': cluster.dataDir,
      'database-url': cluster.url,
      'encryption-passphrase': TEST_PASSPHRASE,
    });
    expect(backup.errors).toEqual([]);
    expect(backup.code).toBe(0);
    expect(backup.outputs.label).toMatch(/^\d{8}-\d{6}F$/);
    expect(Number(backup.outputs['size-bytes'])).toBeGreaterThan(1_000_000);
    const manifest = JSON.parse(
      await fs.readFile(path.join(storage, 'shop', backup.outputs['backup-id']!, 'manifest.json'), 'utf8'),
    );
    expect(manifest).toMatchObject({ engine: 'pgbackrest', pgbackrest: { label: backup.outputs.label } });

    await sql(cluster.url, 'INSERT INTO canary VALUES (2)');
    await pause(300);
    const target = (await sql<{ t: Date }>(cluster.url, 'SELECT clock_timestamp() AS t'))[0]!.t.toISOString();
    await pause(300);
    await sql(cluster.url, 'INSERT INTO canary VALUES (3)');
    // pgbackrest check switches the WAL and waits for the segment holding row 3 to reach the repository: recovery
    // has WAL past the target to stop in.
    const check = pgbackrestByHand([`--config=${configFile}`, '--stanza=shop', 'check'], TEST_PASSPHRASE);
    expect(check.status).toBe(0);

    const drill = await runAction('restore-drill', {
      name: 'shop',
      'storage-url': `file://${storage}`,
      'to-time': target,
      'verify-sql': "SELECT array_agg(id ORDER BY id) = '{1,2}' FROM canary",
      'encryption-passphrase': TEST_PASSPHRASE,
    });
    expect(drill.errors).toEqual([]);
    expect(drill.code).toBe(0);
    expect(drill.outputs).toMatchObject({ verified: 'true', engine: 'pgbackrest' });
    expect(Date.parse(drill.outputs['recovered-to']!)).toBeLessThanOrEqual(Date.parse(target));
    expect(drill.summary).toContain('recovered and verified');
    expect(drill.summary).toMatch(/Newest archived WAL \(RPO\) \| [0-9A-F]{24}, archived /);
    // The runner's ::add-mask:: command, before the first other line, is how the passphrase gets masked; after it,
    // the passphrase appears nowhere.
    for (const run of [backup, drill]) {
      const lines = run.stdout.split('\n');
      expect(lines[0]).toBe(`::add-mask::${TEST_PASSPHRASE}`);
      expect([...lines.slice(1), run.summary].join('\n')).not.toContain(TEST_PASSPHRASE);
    }
    expect(configured.stdout).not.toContain(TEST_PASSPHRASE);
  }, 180_000);
});
