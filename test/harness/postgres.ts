import pg from 'pg';
import { startScratchCluster, type ScratchCluster, type ScratchOptions } from '../../actions/lib/pg/cluster.ts';
import { sampleDatabaseSql } from '../../actions/cli/src/sample-data.ts';

export type { ScratchCluster };

/** A throwaway cluster for one test file (as the postgres user when the tests run as root). */
export function startTestCluster(options: ScratchOptions = {}): Promise<ScratchCluster> {
  return startScratchCluster({ fast: true, ...options });
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
