import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../actions/lib/action/cli.ts';
import { COMMANDS } from '../../actions/cli/src/commands.ts';
import { sql, startTestCluster, type ScratchCluster } from './postgres.ts';

/** What one CLI command printed and set, run in this process from source (the same run() the bundles run). */
export interface CliRun {
  code: number;
  out: string;
  err: string;
  outputs: Record<string, string>;
}

export async function backstop(command: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const io = {
    out: (text: string): void => {
      out += `${text}\n`;
    },
    err: (text: string): void => {
      err += `${text}\n`;
    },
  };
  const code = await runCommand(COMMANDS[command]!, args, { PATH: process.env.PATH, ...env }, io);
  const outputs: Record<string, string> = {};
  const block = out.split('\noutputs:\n')[1] ?? '';
  for (const line of block.split('\n')) {
    const match = /^ {2}([a-z-]+)=(.*)$/.exec(line);
    if (match) outputs[match[1]!] = match[2]!;
  }
  return { code, out, err, outputs };
}

/** A folder the server's user (postgres, when the tests run as root) can write into: the storage of these tests. */
export async function sharedFolder(prefix: string): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  await fs.chmod(folder, 0o777);
  return folder;
}

function asServerUser(command: string, args: string[]): { command: string; args: string[] } {
  return process.getuid?.() === 0
    ? { command: 'runuser', args: ['-u', 'postgres', '--', command, ...args] }
    : { command, args };
}

/** Appends lines to the cluster's postgresql.conf and restarts it (archive_mode needs a restart). */
export function reconfigure(cluster: ScratchCluster, lines: string[]): Promise<void> {
  return fs.appendFile(path.join(cluster.dataDir, 'postgresql.conf'), `\n${lines.join('\n')}\n`).then(() => {
    const restart = asServerUser(path.join(cluster.binDir, 'pg_ctl'), [
      '-D',
      cluster.dataDir,
      // A log file, so the server does not hold our pipes open (spawnSync would wait for it forever).
      '-l',
      path.join(path.dirname(cluster.dataDir), 'server.log'),
      '-w',
      'restart',
    ]);
    const result = spawnSync(restart.command, restart.args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`pg_ctl restart failed: ${result.stderr}${result.stdout}`);
  });
}

/** A cluster that is not in fast mode: full_page_writes stays on, as a physical backup needs. */
export function startArchivingCluster(): Promise<ScratchCluster> {
  return startTestCluster({ fast: false });
}

/** Runs pgbackrest as the server's user, as an operator would by hand (for what the tests check independently). */
export function pgbackrestByHand(args: string[], passphrase: string): { status: number | null; out: string } {
  const run = asServerUser('/usr/bin/pgbackrest', args);
  const result = spawnSync(run.command, run.args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, PGBACKREST_REPO1_CIPHER_PASS: passphrase },
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

export async function switchWal(url: string): Promise<void> {
  await sql(url, 'SELECT pg_switch_wal()');
}

export const TEST_PASSPHRASE = 'pitr-test-passphrase-0123456789';

export interface ArchivingSetup {
  cluster: ScratchCluster;
  storage: string;
  configFile: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** A cluster archiving its WAL through pgBackRest into a file:// repository, set up by archive-config. */
export async function archivingSetup(name: string): Promise<ArchivingSetup> {
  const [cluster, storage] = await Promise.all([startArchivingCluster(), sharedFolder('backstop-pitr-')]);
  const configFile = path.join(storage, 'etc', `backstop-${name}.conf`);
  const env = { BACKSTOP_ENCRYPTION_PASSPHRASE: TEST_PASSPHRASE };
  const configured = await backstop(
    'archive-config',
    [
      `--name=${name}`,
      `--storage-url=file://${storage}`,
      `--pg-data=${cluster.dataDir}`,
      `--database-url=${cluster.url}`,
      `--config=${configFile}`,
    ],
    env,
  );
  if (configured.code !== 0) throw new Error(`archive-config failed: ${configured.err}`);
  await reconfigure(
    cluster,
    configured.out.split('\n').filter((line) => /^archive_|^wal_level/.test(line)),
  );
  return {
    cluster,
    storage,
    configFile,
    env,
    stop: async () => {
      await cluster.stop();
      await fs.rm(storage, { recursive: true, force: true });
    },
  };
}

/** Forces the current WAL segment into the archive and waits for it (what pgbackrest check does). */
export function archiveNow(setup: ArchivingSetup, name: string): void {
  const check = pgbackrestByHand([`--config=${setup.configFile}`, `--stanza=${name}`, 'check'], TEST_PASSPHRASE);
  if (check.status !== 0) throw new Error(`pgbackrest check failed: ${check.out}`);
}

/**
 * pgbackrestByHand without blocking this process: needed when the S3 server pgBackRest talks to runs in this same
 * process (spawnSync would stop it from answering, and both would wait forever).
 */
export function pgbackrestByHandAsync(
  args: string[],
  passphrase: string,
): Promise<{ status: number | null; out: string }> {
  const run = asServerUser('/usr/bin/pgbackrest', args);
  return new Promise((resolve) => {
    const child = spawn(run.command, run.args, {
      env: { PATH: process.env.PATH, PGBACKREST_REPO1_CIPHER_PASS: passphrase },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.on('close', (status) => resolve({ status, out }));
  });
}
