import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { sampleDatabase, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { ROOT, runAction } from '../harness/runner.ts';

/**
 * A hostile (or tired) user's inputs: each mistake is one line naming the input, a non-zero exit, nothing written,
 * and no secret in the output. docs/failures.md lists them.
 */
let cluster: ScratchCluster;
let keys: KeyPair;
let sourceUrl: string;
let work: string;

beforeAll(async () => {
  [cluster, keys] = await Promise.all([startTestCluster(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, 2_000);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-hostile-'));
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

/** The bundled CLI in a fresh, empty working folder; returns what it printed and what it left in that folder. */
async function backstop(args: string[], env: Record<string, string> = {}) {
  const cwd = await fs.mkdtemp(path.join(work, 'cwd-'));
  const result = spawnSync(process.execPath, [path.join(ROOT, 'actions/cli/dist/index.js'), ...args], {
    env: { PATH: process.env.PATH, HOME: work, BACKSTOP_DATABASE_URL: sourceUrl, ...env },
    encoding: 'utf8',
    cwd,
    timeout: 60_000,
  });
  const left = await fs.readdir(cwd, { recursive: true });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, left };
}

const dump = (storage: string, extra: string[] = []): string[] => [
  'dump-postgres',
  '--name',
  'prod',
  '--storage-url',
  storage,
  '--encryption-recipients',
  keys.recipient,
  ...extra,
];

describe('a typo never succeeds', () => {
  it.each([
    ['s3:/bucket', /not a storage URL Backstop knows/],
    ['s3//bucket', /a local folder must be an absolute path or start with \.\//],
    ['S3://bucket/prefix', /not a storage URL Backstop knows/],
    ['file://relative/path', /a file URL needs three slashes/],
    ['file://host/srv/backups', /a file URL needs three slashes/],
    ['gs://bucket', /not a storage URL Backstop knows/],
    ['backups', /write \.\/backups if a folder here is meant/],
  ])('storage-url %s is one line naming the input, and nothing is written', async (storage, why) => {
    const run = await backstop(dump(storage));
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: Input "storage-url" has "/);
    expect(lines[0]).toMatch(why);
    expect(run.left).toEqual([]);
  });

  it('as INPUT_STORAGE-URL on the runner too', async () => {
    const run = await runAction('dump-postgres', {
      'database-url': sourceUrl,
      name: 'prod',
      'storage-url': 's3:/b',
      'encryption-recipients': keys.recipient,
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(/^::error::Input "storage-url" has "s3:\/b": not a storage URL/),
    ]);
  });

  it.each([
    [['--storage-url', '--name', 'x'], /--storage-url is followed by another flag, not by its value/],
    [['--storage-url', '--name', 'x', '--dry-run'], /^error: --storage-url is followed by another flag/],
    [['--storage-url'], /--storage-url needs a value/],
    [['--name', 'a', '--name', 'b', '--storage-url', './x'], /--name is given more than once/],
    [['--name', 'a', 'stray', '--storage-url', './x'], /Unexpected argument "stray"/],
    [['--dry-run=yes', '--name', 'a', '--storage-url', './x'], /--dry-run is a switch/],
  ])('prune-backups %j is one line and prunes nothing', async (args, why) => {
    const run = await backstop(['prune-backups', ...args]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(why)]);
    expect(run.left).toEqual([]);
  });

  it('reports every bad input at once, an error line each, and prunes nothing', async () => {
    const run = await backstop(['prune-backups', '--storage-url', 's3:/b', '--name', 'a/b', '--keep-daily', 'x']);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: Input "storage-url" has "s3:\/b": not a storage URL/),
      expect.stringMatching(/^error: Input "name" /),
      expect.stringMatching(/^error: Input "keep-daily" is "x", not a whole number/),
    ]);
    expect(run.left).toEqual([]);
  });

  it('archive-config: the required inputs first, then every bad input at once, the hint as a flag', async () => {
    const config = path.join(work, 'archive-config.conf');
    const missing = await backstop(['archive-config', '--archive-timeout', '0']);
    expect(missing.stderr.trim()).toBe(
      'error: Inputs "name", "storage-url", "pg-data" are required: set each of them (--help lists what they take).',
    );
    const args = ['--name', 'a/b', '--storage-url', 's3:/b', '--pg-data', work, '--config', config];
    const run = await backstop(['archive-config', ...args, '--archive-timeout', '0']);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: Input "name" /),
      expect.stringMatching(/^error: Input "storage-url" has "s3:\/b": not a storage URL/),
      expect.stringMatching(
        /^error: Input "encryption-passphrase" is empty: set BACKSTOP_ENCRYPTION_PASSPHRASE, .* or set --allow-unencrypted for an/,
      ),
      'error: Input "archive-timeout" is 0, out of range: set it to a whole number from 1 to 3600.',
    ]);
    expect(existsSync(config)).toBe(false);
    expect([...missing.left, ...run.left]).toEqual([]);
  });

  it('on the runner the passphrase hint reads allow-unencrypted: true (backup-physical, INPUT_*)', async () => {
    const run = await runAction('backup-physical', {
      name: 'a/b',
      'storage-url': 's3:/b',
      'pg-data': work,
      'database-url': sourceUrl,
    });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(/^::error::Input "name" /),
      expect.stringMatching(/^::error::Input "storage-url" has "s3:\/b": not a storage URL/),
      expect.stringMatching(
        /^::error::Input "encryption-passphrase" is empty: give it from a secret \(encryption-passphrase: \$\{\{ secrets\.BACKSTOP_ENCRYPTION_PASSPHRASE \}\}\), .* or set allow-unencrypted: true for/,
      ),
    ]);
  });

  it('a missing recipient hints at the flag in a terminal', async () => {
    const run = await backstop(['dump-postgres', '--name', 'prod', '--storage-url', './b']);
    expect(run.stderr.trim()).toMatch(/or set --allow-unencrypted to store this backup in the clear\.$/);
  });

  it('names every missing required input at once', async () => {
    const run = await backstop(['restore-drill']);
    expect(run.stderr.trim()).toBe(
      'error: Inputs "storage-url", "name" are required: set each of them (--help lists what they take).',
    );
  });

  it('prune of a name that has no backups says so; of a location that does not exist, fails', async () => {
    const empty = path.join(work, 'empty-storage');
    await fs.mkdir(empty);
    const nothing = await backstop(['prune-backups', '--name', 'no-such-name', '--storage-url', empty]);
    expect(nothing.status).toBe(0);
    expect(nothing.stderr).toMatch(/warning: No backups named "no-such-name" in .*: nothing to prune/);
    const missing = await backstop(['prune-backups', '--name', 'prod', '--storage-url', path.join(work, 'nope')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^error: Input "storage-url": file:.*nope does not exist/);
  });
});

describe('secrets are never echoed', () => {
  it('an age identity given as the recipient is refused without printing it', async () => {
    const run = await backstop([
      'dump-postgres',
      '--name',
      'prod',
      '--storage-url',
      './b',
      '--encryption-recipients',
      keys.identity,
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^error: Input "encryption-recipients" holds an age identity \(a secret key/);
    expect(run.stdout + run.stderr).not.toContain(keys.identity);
    expect(run.stdout + run.stderr).not.toContain(keys.identity.slice(20, 50));
    expect(run.left).toEqual([]);
  });

  it('a password inside a non-secret input is masked in the error that quotes it', async () => {
    const run = await backstop(dump('https://user:Hunter2-Secret@example.com/backups'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Input "storage-url"/);
    expect(run.stdout + run.stderr).not.toContain('Hunter2-Secret');
  });
});

describe('a damaged backup names what is missing, and nothing waits forever', () => {
  async function backupAt(storage: string): Promise<{ folder: string; manifestFile: string }> {
    const run = await backstop(dump(storage));
    expect(run.status, run.stderr).toBe(0);
    const id = /backup-id=(\S+)/.exec(run.stdout)![1]!;
    const folder = path.join(storage, 'prod', id);
    return { folder, manifestFile: path.join(folder, 'manifest.json') };
  }

  it('a manifest whose files list is empty fails the drill at once, with one line', async () => {
    const storage = path.join(work, 'no-files');
    const { manifestFile } = await backupAt(storage);
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8'));
    await fs.writeFile(manifestFile, JSON.stringify({ ...manifest, files: [] }));
    const started = Date.now();
    const run = await backstop(['restore-drill', '--name', 'prod', '--storage-url', storage], {
      BACKSTOP_ENCRYPTION_IDENTITY: keys.identity,
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/lists no files: the manifest is damaged/)]);
  });

  it('a deleted data file fails the drill naming the file and where it should have been', async () => {
    const storage = path.join(work, 'deleted-file');
    const { folder } = await backupAt(storage);
    await fs.rm(path.join(folder, 'postgres.dump.zst.age'));
    const run = await backstop(['restore-drill', '--name', 'prod', '--storage-url', storage], {
      BACKSTOP_ENCRYPTION_IDENTITY: keys.identity,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /postgres\.dump\.zst\.age is missing: the manifest lists it \(\d+ bytes\) at file:.*postgres\.dump\.zst\.age/,
    );
    expect(run.stderr).not.toMatch(/end of file/);
  });
});

describe('a destination that cannot be written is named, with the OS error', () => {
  /** Root may write anywhere: as root, the action runs as the postgres OS user, who meets the folder's mode. */
  function unprivileged(): { uid: number; gid: number } | undefined {
    if (process.getuid?.() !== 0) return undefined;
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    return { uid: id('-u'), gid: id('-g') };
  }

  it('a read-only folder fails the dump naming it and EACCES, and neither destination keeps anything', async () => {
    const user = unprivileged();
    const job = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-readonly-'));
    try {
      const [readonly, good, temp] = ['readonly', 'good', 'temp'].map((name) => path.join(job, name)) as [
        string,
        string,
        string,
      ];
      for (const folder of [readonly, good, temp]) await fs.mkdir(folder);
      if (user) for (const folder of [job, readonly, good, temp]) await fs.chown(folder, user.uid, user.gid);
      await fs.chmod(job, 0o755);
      await fs.chmod(readonly, 0o555);
      const run = await runAction(
        'dump-postgres',
        {
          'database-url': sourceUrl,
          name: 'prod',
          'storage-url': `${readonly}\n${good}`,
          'encryption-recipients': keys.recipient,
        },
        { env: { RUNNER_TEMP: temp }, user },
      );
      expect(run.code, run.stdout).toBe(1);
      expect(run.errors).toEqual([
        expect.stringMatching(
          new RegExp(
            `^::error::Cannot write file://${readonly}/prod/\\S+ \\(EACCES: permission denied\\): check that the ` +
              'user running the job may write to this folder\\.$',
          ),
        ),
      ]);
      expect(run.stdout).not.toMatch(/SIGPIPE/);
      expect(await fs.readdir(readonly, { recursive: true })).toEqual([]);
      expect(await fs.readdir(good, { recursive: true })).toEqual([]);
    } finally {
      await fs.rm(job, { recursive: true, force: true });
    }
  });

  it('an integrity report into a read-only folder names the path and the OS error', async () => {
    const user = unprivileged();
    const job = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-readonly-report-'));
    try {
      const readonly = path.join(job, 'readonly');
      await fs.mkdir(readonly);
      if (user) for (const folder of [job, readonly]) await fs.chown(folder, user.uid, user.gid);
      await fs.chmod(job, 0o755);
      await fs.chmod(readonly, 0o555);
      const report = path.join(readonly, 'report.json');
      const run = await runAction('validate-integrity', { 'database-url': sourceUrl, 'report-path': report }, { user });
      expect(run.code, run.stdout).toBe(1);
      expect(run.errors).toEqual([
        `::error::Cannot write the integrity report to ${report} (EACCES: permission denied): set input ` +
          '"report-path" to a file in a folder this job may write to (the default is in the runner\'s temp folder).',
      ]);
    } finally {
      await fs.rm(job, { recursive: true, force: true });
    }
  });
});
