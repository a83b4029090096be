import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { onInterrupt } from '../interrupt.ts';
import { runTool } from '../process.ts';
import { findToolVersions } from './tools.ts';

/**
 * A throwaway PostgreSQL cluster on loopback: what restore-drill restores into when no target-url is given, and
 * what the demo and the tests run on. PostgreSQL refuses to run as root, so as root the server runs as the
 * `postgres` user (which the Debian packages create).
 */
export interface ScratchCluster {
  /** postgresql://postgres@127.0.0.1:<port>/postgres (trust authentication, loopback only). */
  url: string;
  port: number;
  major: number;
  binDir: string;
  dataDir: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface ScratchOptions {
  /** The oldest major version acceptable (a restore needs a server at least as new as the dump's source). */
  minMajor?: number;
  /** A folder holding initdb, pg_ctl and postgres; default: the newest installed. */
  binDir?: string;
  /** Parent folder for the cluster's files. */
  baseDir?: string;
  /** Trade durability for speed (tests, demo): fsync and synchronous_commit off. */
  fast?: boolean;
  /**
   * Libraries the server loads at start (shared_preload_libraries), e.g. timescaledb, which refuses to work otherwise.
   */
  preload?: string[];
  /** Where the user can name a server of their own instead, for the hints when no cluster can start. */
  instead?: Origin;
}

const SERVER_USER = 'postgres';

export async function startScratchCluster(options: ScratchOptions = {}): Promise<ScratchCluster> {
  const { binDir, major } = await findServerBinaries(options);
  const runAsPostgres = process.getuid?.() === 0;
  if (runAsPostgres) assertPostgresUserExists(options);
  const root = await fs.mkdtemp(path.join(clusterParent(options.baseDir, runAsPostgres), 'backstop-pg-'));
  const dataDir = path.join(root, 'data');
  // From here on an interrupt stops the server (once it runs) and removes its folder.
  let stopNow = (): void => undefined;
  const forget = onInterrupt('stopped and removed the throwaway PostgreSQL', async () => {
    stopNow();
    await fs.rm(root, { recursive: true, force: true });
  });
  if (runAsPostgres) {
    await fs.chmod(root, 0o755);
    spawnSync('chown', ['-R', `${SERVER_USER}:`, root]);
  }
  const run = (tool: string, args: string[]): Promise<string> =>
    runAsPostgres
      ? runTool('runuser', ['-u', SERVER_USER, '--', path.join(binDir, tool), ...args], { label: tool, cwd: root })
      : runTool(path.join(binDir, tool), args, { cwd: root });

  try {
    await run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  } catch (error) {
    forget();
    await fs.rm(root, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const settings = [
    `-c port=${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${root}`,
    '-c max_connections=50',
    ...(options.fast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
    ...preloadSettings(options.preload ?? []),
  ];
  let stopped = false;
  stopNow = (): void => {
    if (stopped) return;
    stopped = true;
    const args = ['-D', dataDir, '-m', 'immediate', 'stop'];
    if (runAsPostgres) spawnSync('runuser', ['-u', SERVER_USER, '--', path.join(binDir, 'pg_ctl'), ...args]);
    else spawnSync(path.join(binDir, 'pg_ctl'), args);
  };
  // A drill killed halfway must not leave a server running on the runner.
  process.once('exit', stopNow);
  try {
    await run('pg_ctl', [
      '-D',
      dataDir,
      '-l',
      path.join(root, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      settings.join(' '),
      'start',
    ]);
  } catch (error) {
    const log = await fs.readFile(path.join(root, 'server.log'), 'utf8').catch(() => '');
    forget();
    await fs.rm(root, { recursive: true, force: true });
    throw new Error(`The scratch PostgreSQL ${major} did not start: ${(error as Error).message} ${log.slice(-500)}`);
  }
  const urlFor = (database: string): string =>
    `postgresql://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    url: urlFor('postgres'),
    port,
    major,
    binDir,
    dataDir,
    urlFor,
    stop: async () => {
      stopNow();
      forget();
      process.off('exit', stopNow);
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

async function findServerBinaries(options: ScratchOptions): Promise<{ binDir: string; major: number }> {
  const minMajor = options.minMajor ?? 0;
  const found = (await findToolVersions('initdb', options.binDir)).filter((tool) =>
    existsSync(path.join(path.dirname(tool.path), 'pg_ctl')),
  );
  const usable = found.find((tool) => tool.major >= minMajor);
  if (!usable) {
    const have = found.map((tool) => tool.version).join(', ') || 'none';
    throw new ConfigurationError(
      `No PostgreSQL server binaries${minMajor ? ` of version ${minMajor} or newer` : ''} for a throwaway cluster ` +
        `(found: ${have}). Install them (apt-get install postgresql${minMajor ? `-${minMajor}` : ''}) or give a ` +
        `server to restore into${instead(options)}.`,
    );
  }
  return { binDir: path.dirname(usable.path), major: usable.major };
}

/** The requested parent folder, unless the postgres user could not reach it (a private temp folder of root's). */
function clusterParent(baseDir: string | undefined, runAsPostgres: boolean): string {
  if (!baseDir) return os.tmpdir();
  if (runAsPostgres && spawnSync('runuser', ['-u', SERVER_USER, '--', 'test', '-w', baseDir]).status !== 0)
    return os.tmpdir();
  return baseDir;
}

function assertPostgresUserExists(options: ScratchOptions): void {
  if (spawnSync('id', ['-u', SERVER_USER]).status !== 0) {
    throw new ConfigurationError(
      'PostgreSQL refuses to run as root and there is no "postgres" user to run it as: install the postgresql ' +
        `package (it creates the user), run as a normal user, or give a server to restore into${instead(options)}.`,
    );
  }
}

function preloadSettings(libraries: string[]): string[] {
  if (libraries.length === 0) return [];
  // A throwaway cluster never phones home: TimescaleDB's telemetry is off whenever it is loaded.
  const telemetry = libraries.includes('timescaledb') ? ['-c timescaledb.telemetry_level=off'] : [];
  return [`-c shared_preload_libraries=${libraries.join(',')}`, ...telemetry];
}

function instead(options: ScratchOptions): string {
  return options.instead ? ` (${options.instead})` : '';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
