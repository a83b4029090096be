import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { quoteIdent } from '../pg/connection.ts';

/** What the target table turned out to be. */
export interface TargetShape {
  kind: 'timescaledb' | 'partitioned' | 'plain';
  /** The chunk interval ranges are aligned to: the hypertable's, or one day. */
  intervalMs: number;
  timescaleVersion?: string;
}

const DAY_MS = 86_400_000;

/** The DDL shipped in sql/, read next to the code (the repository is checked out with the action). */
function ddl(shape: 'timescaledb' | 'postgres'): string {
  return readFileSync(new URL(`../../../sql/${shape}/tick_data.sql`, import.meta.url), 'utf8');
}

export async function timescaleVersion(client: pg.Client): Promise<string | undefined> {
  const { rows } = await client.query<{ v: string }>(
    "SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'",
  );
  return rows[0]?.v;
}

async function timescaleAvailable(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'");
  return rows.length > 0;
}

/**
 * setup: auto — the TimescaleDB shape (hypertable, columnstore, retention, candle aggregates) when the extension is
 * available in the target (created when this role may), else native daily partitions with partitions made ahead
 * for [from, to). Both DDL files are idempotent. Only the standard table name is created this way.
 */
export async function setupTarget(
  client: pg.Client,
  target: { schema: string; name: string; origin: Origin },
  range: { from: Date; to: Date },
  warn: (line: string) => void,
): Promise<void> {
  if (target.name !== 'tick_data') {
    throw new ConfigurationError(
      `${target.origin.title} is ${target.schema}.${target.name}: setup: auto creates the standard shape, named ` +
        `tick_data. ` +
        'Use target-table: tick_data (in any schema), or create your table and set setup: none.',
    );
  }
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
  await client.query(`SELECT set_config('search_path', $1, false)`, [quoteIdent(target.schema)]);
  try {
    if (await useTimescale(client, warn)) {
      await client.query(ddl('timescaledb'));
    } else {
      await client.query(ddl('postgres'));
      const from = range.from.toISOString().slice(0, 10);
      const to = new Date(Math.ceil(range.to.getTime() / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
      await client.query('SELECT backstop_create_tick_partitions($1::date, $2::date)', [from, to]);
    }
  } finally {
    await client.query('RESET search_path');
  }
}

async function useTimescale(client: pg.Client, warn: (line: string) => void): Promise<boolean> {
  if (await timescaleVersion(client)) return true;
  if (!(await timescaleAvailable(client))) return false;
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    return true;
  } catch (error) {
    warn(
      `TimescaleDB is available in the target but could not be created (${(error as Error).message}): using native ` +
        `partitions.`,
    );
    return false;
  }
}

/** Reads what the target table is: a hypertable (and its chunk interval), a partitioned table, or a plain one. */
export async function describeTarget(
  client: pg.Client,
  target: { schema: string; name: string },
): Promise<TargetShape> {
  const version = await timescaleVersion(client);
  if (version) {
    const { rows } = await client.query<{ ms: string }>(
      `SELECT (extract(epoch FROM time_interval) * 1000)::bigint AS ms FROM timescaledb_information.dimensions
       WHERE hypertable_schema = $1 AND hypertable_name = $2 AND dimension_type = 'Time' LIMIT 1`,
      [target.schema, target.name],
    );
    if (rows[0]) return { kind: 'timescaledb', intervalMs: Number(rows[0].ms), timescaleVersion: version };
  }
  const { rows } = await client.query<{ kind: string }>(
    'SELECT c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ' +
      'AND c.relname = $2',
    [target.schema, target.name],
  );
  return { kind: rows[0]?.kind === 'p' ? 'partitioned' : 'plain', intervalMs: DAY_MS, timescaleVersion: version };
}
