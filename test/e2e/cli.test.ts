import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { roleWithPassword, sampleDatabase, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { ROOT } from '../harness/runner.ts';

/** `backstop <action>` runs the same code as the actions, from a shell, with the bundled CLI. */
let cluster: ScratchCluster;
let keys: KeyPair;
let work: string;

beforeAll(async () => {
  [cluster, keys] = await Promise.all([startTestCluster(), newKeyPair()]);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-cli-'));
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), fs.rm(work, { recursive: true, force: true })]);
});

function backstop(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'actions/cli/dist/index.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: work, ...env },
    encoding: 'utf8',
    cwd: work,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('backstop CLI', () => {
  it('dumps and drills with secrets from BACKSTOP_ variables, printing summaries and outputs, redacting the password', async () => {
    const database = await sampleDatabase(cluster, 10_000);
    const url = await roleWithPassword(cluster, database.split('/').pop()!, 'cli_role', 'cli-Secret-9x');
    const dump = backstop(
      [
        'dump-postgres',
        '--name',
        'prod',
        '--storage-url',
        './backups',
        '--kind=daily',
        '--encryption-recipients',
        keys.recipient,
      ],
      {
        BACKSTOP_DATABASE_URL: url,
      },
    );
    expect(dump.stderr).toBe('');
    expect(dump.status).toBe(0);
    expect(dump.stdout).toContain('✅ Backup');
    expect(dump.stdout).not.toContain('## ');
    expect(dump.stdout).toMatch(/outputs:\n {2}backup-id=\d{8}T\d{6}Z-daily-[0-9a-f]{4}/);
    expect(dump.stdout).toContain('postgresql://cli_role:***@127.0.0.1');
    expect(dump.stdout).not.toContain('cli-Secret-9x');

    const drill = backstop(['restore-drill', '--name', 'prod', '--storage-url', './backups', '--dry-run'], {
      BACKSTOP_ENCRYPTION_IDENTITY: keys.identity,
    });
    expect(drill.status, drill.stderr).toBe(0);
    expect(drill.stdout).toContain('verified=true');
  });

  it('explains itself: usage, per-command help, unknown commands and inputs', () => {
    expect(backstop([]).status).toBe(2);
    expect(backstop(['--help']).stdout).toContain('dump-postgres');
    const help = backstop(['dump-postgres', '--help']);
    expect(help.stdout).toContain('--database-url / BACKSTOP_DATABASE_URL (required, secret: prefer the variable)');
    expect(backstop(['dump-everything']).stderr).toContain('unknown command "dump-everything"');
    const unknown = backstop(['restore-drill', '--nam', 'prod']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^error: Unknown input --nam: this command takes --storage-url, --name/);
  });

  it('a failure prints one error line and exits 1', () => {
    const result = backstop(['restore-drill', '--name', 'nothing-here', '--storage-url', './empty']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: No backup to restore \(file:.*empty: no complete backup of "nothing-here"\)\.$/),
    ]);
  });
});
