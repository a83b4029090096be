import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { runTool } from '../process.ts';

export type ClientTool = 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'psql';

export interface PgTool {
  path: string;
  /** e.g. "15.18" */
  version: string;
  major: number;
}

export interface ServerVersion {
  version: string;
  major: number;
}

/** server_version_num 150018 → 15 (and 90624 → 9: pre-10 minors are not compared, pg_dump 15+ reads 9.2+) */
export function serverMajor(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

export function parseToolVersion(output: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const major = Number(match[1]);
  return { version: match[2] ? `${match[1]}.${match[2]}` : String(match[1]), major };
}

/**
 * Where PostgreSQL binaries may be, best first: an explicit folder (input pg-bin-dir), then every version Debian
 * and Ubuntu install side by side (/usr/lib/postgresql/<major>/bin, newest first), then PATH.
 */
export function candidateBinDirs(explicit?: string): string[] {
  if (explicit) return [explicit];
  const dirs: string[] = [];
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const majors = readdirSync(debianRoot)
      .filter((entry) => /^\d+$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
    for (const major of majors) dirs.push(path.join(debianRoot, major, 'bin'));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir) dirs.push(dir);
  return dirs;
}

async function probe(file: string): Promise<PgTool | undefined> {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = parseToolVersion(await runTool(file, ['--version']));
    return parsed && { path: file, ...parsed };
  } catch {
    return undefined;
  }
}

/** Every installed copy of a tool, newest major first. */
export async function findToolVersions(tool: ClientTool | 'initdb', explicitDir?: string): Promise<PgTool[]> {
  const found: PgTool[] = [];
  const seen = new Set<string>();
  for (const dir of candidateBinDirs(explicitDir)) {
    const file = path.join(dir, tool);
    if (seen.has(file)) continue;
    seen.add(file);
    const probed = await probe(file);
    if (probed) found.push(probed);
  }
  return found.sort((a, b) => b.major - a.major);
}

/** A bin folder the user chose (undefined: look everywhere), and where that choice is made, for the hints. */
export interface BinDirChoice {
  dir: string | undefined;
  origin: Origin;
}

/**
 * The newest installed client tool whose major version is at least the server's. A pg_dump older than the server
 * refuses to run ("server version mismatch", the most common complaint about backup jobs): we say so first, with
 * both versions and what to install.
 */
export async function findClientTool(
  tool: ClientTool,
  server: ServerVersion,
  binDir: BinDirChoice,
  /** What the version must match, for the message: the server, or the pg_dump that wrote an archive. */
  against = `the server (PostgreSQL ${server.version})`,
): Promise<PgTool> {
  const found = await findToolVersions(tool, binDir.dir);
  const newest = found[0];
  if (!newest) {
    throw new ConfigurationError(
      `${tool} was not found${binDir.dir ? ` in ${binDir.dir}` : ''}: install the PostgreSQL ${server.major} client ` +
        `tools (apt-get install postgresql-client-${server.major}) or set ${binDir.origin} to their bin folder.`,
    );
  }
  if (newest.major < server.major) {
    throw new ConfigurationError(
      `${tool} ${newest.version} (${newest.path}) is older than ${against}: ` +
        `${tool} must be version ${server.major} or newer. Install postgresql-client-${server.major} ` +
        `(https://www.postgresql.org/download/linux/) or set ${binDir.origin} to a PostgreSQL ${server.major}+ ` +
        `bin folder.`,
    );
  }
  return newest;
}
