import { type ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { sampleDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';

/**
 * SIGINT and SIGTERM (a cancelled workflow: the runner sends SIGINT, then SIGTERM, then SIGKILL) end everything the
 * action started, clean up what it wrote, say so in one line and exit 130 or 143.
 */
let cluster: ScratchCluster;
let keys: KeyPair;
let sourceUrl: string;
let work: string;

beforeAll(async () => {
  [cluster, keys] = await Promise.all([startTestCluster(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, 300_000);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-interrupts-'));
  // The throwaway cluster of a drill runs as the postgres user, inside RUNNER_TEMP: it must be able to write there.
  await fs.chmod(work, 0o777);
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const childrenOf = (pid: number): number[] =>
  spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map(Number);

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('interrupting dump-postgres', () => {
  it.each([['SIGINT', 130] as const, ['SIGTERM', 143] as const])(
    '%s while pg_dump waits on a lock stops pg_dump, cancels its query, removes the partial backup, exits %d',
    async (signal, exitCode) => {
      const storage = path.join(work, `dump-${signal}`);
      const locker = new pg.Client({ connectionString: sourceUrl });
      await locker.connect();
      await locker.query('BEGIN; LOCK TABLE trades IN ACCESS EXCLUSIVE MODE');
      let action: ChildProcess | undefined;
      let pgDumpPid: number | undefined;
      try {
        const running = runAction(
          'dump-postgres',
          { 'database-url': sourceUrl, name: 'held', 'storage-url': storage, 'encryption-recipients': keys.recipient },
          { onStart: (child) => (action = child), env: { RUNNER_TEMP: work } },
        );
        // pg_dump is blocked on the lock: its backend waits, and the action waits on it.
        await until('pg_dump waiting on the lock', async () => {
          const rows = await sql(
            sourceUrl,
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'backstop'",
          );
          return rows.length > 0 || undefined;
        });
        pgDumpPid = childrenOf(action!.pid!)[0];
        expect(pgDumpPid).toBeDefined();
        action!.kill(signal);
        // The runner's second signal, while we clean up, must not cut the cleanup short.
        setTimeout(() => action!.kill('SIGTERM'), 50);
        const run = await running;

        expect(run.code).toBe(exitCode);
        expect(run.errors).toHaveLength(1);
        expect(run.errors[0]).toMatch(
          new RegExp(`^::error::Interrupted by ${signal} while running dump-postgres; cleaned up: .*stopped pg_dump`),
        );
        expect(alive(pgDumpPid!)).toBe(false);
        const waiting = await until('the blocked query to be gone', async () => {
          const rows = await sql(sourceUrl, "SELECT pid FROM pg_stat_activity WHERE application_name = 'backstop'");
          return rows.length === 0 ? rows : undefined;
        });
        expect(waiting).toEqual([]);
        expect(await filesUnder(storage)).toEqual([]);
      } finally {
        await locker.end();
      }
    },
  );
});

describe('interrupting restore-drill', () => {
  it('stops and removes the throwaway PostgreSQL and pg_restore, and exits 130', async () => {
    const storage = path.join(work, 'drill');
    const dump = await runAction('dump-postgres', {
      'database-url': sourceUrl,
      name: 'drilled',
      'storage-url': storage,
      'encryption-recipients': keys.recipient,
    });
    expect(dump.code, dump.stdout).toBe(0);
    const temp = path.join(work, 'drill-temp');
    await fs.mkdir(temp, { mode: 0o777 });
    await fs.chmod(temp, 0o777);
    let action: ChildProcess | undefined;
    let stdout = '';
    const running = runAction(
      'restore-drill',
      { 'storage-url': storage, name: 'drilled', 'encryption-identity': keys.identity },
      {
        env: { RUNNER_TEMP: temp },
        onStart: (child) => {
          action = child;
          child.stdout?.on('data', (text: Buffer) => (stdout += text.toString()));
        },
      },
    );
    await until('the restore to start', () => /Restoring .* into a throwaway PostgreSQL/.test(stdout) || undefined);
    const [clusterDir] = (await fs.readdir(temp)).filter((entry) => entry.startsWith('backstop-pg-'));
    expect(clusterDir).toBeDefined();
    const descendants = childrenOf(action!.pid!);
    action!.kill('SIGINT');
    const run = await running;

    expect(run.code).toBe(130);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(
      /^::error::Interrupted by SIGINT while running restore-drill; cleaned up: .*throwaway/,
    );
    expect((await fs.readdir(temp)).filter((entry) => entry.startsWith('backstop-pg-'))).toEqual([]);
    const server = spawnSync('pgrep', ['-f', path.join(temp, clusterDir!)], { encoding: 'utf8' }).stdout.trim();
    expect(server).toBe('');
    for (const pid of descendants) expect(alive(pid), `process ${pid}`).toBe(false);
  });
});
