import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { onInterrupt } from '../interrupt.ts';
import { runTool } from '../process.ts';
import { freePort } from './cluster.ts';
import { asUser } from './os-user.ts';

/**
 * A PostgreSQL server started on a data directory that already exists (one a physical restore just wrote), on its
 * own port and socket folder, loopback only, as `user`. Whatever the restored postgresql.conf says about ports,
 * sockets and archiving is overridden on the command line: a drill must never listen where production does, nor
 * push its WAL into production's archive.
 */
export interface RunningServer {
  url: string;
  port: number;
  logFile: string;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  binDir: string;
  dataDir: string;
  /** Holds the socket and the server log; the caller removes it. */
  workDir: string;
  user: string;
  /** Handed to the server (and so to its restore_command), e.g. a tool's secret. */
  env?: NodeJS.ProcessEnv;
  /** Extra `-c name=value` settings. */
  settings?: string[];
  /** pg_ctl's wait for the server to accept connections, in seconds. */
  timeoutSeconds?: number;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const port = await freePort();
  const logFile = path.join(options.workDir, 'server.log');
  const settings = [
    `-c port=${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${options.workDir}'`,
    '-c archive_mode=off',
    "-c archive_command=''",
    ...(options.settings ?? []).map((setting) => `-c ${setting}`),
  ];
  const pgCtl = path.join(options.binDir, 'pg_ctl');
  const stopNow = (): void => {
    const stop = asUser(options.user, pgCtl, ['-D', options.dataDir, '-m', 'immediate', 'stop']);
    spawnSync(stop.command, stop.args, { stdio: 'ignore' });
  };
  const forget = onInterrupt('stopped the restored PostgreSQL', stopNow);
  process.once('exit', stopNow);
  const start = asUser(options.user, pgCtl, [
    '-D',
    options.dataDir,
    '-l',
    logFile,
    '-w',
    '-t',
    String(options.timeoutSeconds ?? 600),
    '-o',
    settings.join(' '),
    'start',
  ]);
  const stop = async (): Promise<void> => {
    stopNow();
    forget();
    process.off('exit', stopNow);
  };
  const log = (): Promise<string> => fs.readFile(logFile, 'utf8').catch(() => '');
  try {
    await runTool(start.command, start.args, { label: 'pg_ctl start', env: options.env, cwd: options.workDir });
  } catch (error) {
    await stop();
    throw Object.assign(error as Error, { serverLog: await log() });
  }
  return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, port, logFile, log, stop };
}
