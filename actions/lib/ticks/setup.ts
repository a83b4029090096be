import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { quoteIdent, type DatabaseUrl } from '../pg/connection.ts';
import { assertTimescaleLoaded, ensureTimescaleExtension, timescaleOnServer } from '../pg/timescale.ts';
import { postgresDdl, TICK_TABLE, timescaleDdl, type TickTableDefinition } from './ddl.ts';

/** What the target table turned out to be. */
export interface TargetShape {
  kind: 'timescaledb' | 'partitioned' | 'plain';
  /** The chunk interval ranges are aligned to: the hypertable's, or one day. */
  intervalMs: number;
  timescaleVersion?: string;
  /** A hypertable's scheduled retention policy on a time column: chunks older than `horizon` are dropped. */
  retention?: RetentionPolicy;
}

export interface RetentionPolicy {
  job: number;
  /** As the policy says it, e.g. "90 days". */
  dropAfter: string;
  /** now() − drop_after on the target server. */
  horizon: Date;
}

export interface SetupRequest {
  database: DatabaseUrl;
  table: { schema: string; name: string; origin: Origin };
  /** The table to create when it does not exist (the source's columns), and what the candles read. */
  definition: TickTableDefinition;
  /** The copy's span: daily partitions are made ahead for it. */
  range: { from: Date; to: Date };
  /** Where setup was chosen, for the ways around a server that cannot take TimescaleDB. */
  setupOrigin: Origin;
}

const DAY_MS = 86_400_000;

export async function timescaleVersion(client: pg.Client): Promise<string | undefined> {
  const { rows } = await client.query<{ v: string }>(
    "SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'",
  );
  return rows[0]?.v;
}

/**
 * setup: auto — the target table from the definition (the source's own columns) unless it exists, then the
 * TimescaleDB shape (hypertable, columnstore, retention, candle aggregates) when the server has TimescaleDB (the
 * extension created when missing), else native daily partitions with partitions made ahead for the copy range. Both
 * are idempotent (ddl.ts). Only the standard table name is created this way.
 */
export async function setupTarget(client: pg.Client, request: SetupRequest): Promise<void> {
  const { table } = request;
  if (table.name !== TICK_TABLE) {
    throw new ConfigurationError(
      `${table.origin.title} is ${table.schema}.${table.name}: ${request.setupOrigin} auto creates the standard ` +
        `shape, named ${TICK_TABLE}. Name the target ${TICK_TABLE} (in any schema), or create your table and set ` +
        `${request.setupOrigin} to none.`,
    );
  }
  const kind = (await useTimescale(client, request)) ? 'timescaledb' : 'partitioned';
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(table.schema)}`);
  await client.query(`SELECT set_config('search_path', $1, false)`, [quoteIdent(table.schema)]);
  try {
    if (kind === 'timescaledb') {
      await client.query(timescaleDdl(request.definition));
    } else {
      await client.query(postgresDdl(request.definition));
      const from = request.range.from.toISOString().slice(0, 10);
      const to = new Date(Math.ceil(request.range.to.getTime() / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
      await client.query('SELECT backstop_create_tick_partitions($1::date, $2::date)', [from, to]);
    }
  } catch (error) {
    throw new ConfigurationError(
      `Setting up ${table.schema}.${table.name} (${kind === 'timescaledb' ? 'hypertable' : 'daily partitions'}) ` +
        `in ${request.database.display} failed: ${errorMessage(error)}. Create the table yourself and set ` +
        `${request.setupOrigin} to none, or fix the cause and run again.`,
    );
  } finally {
    await client.query('RESET search_path');
  }
}

/**
 * TimescaleDB when the server has it, else partitions. A server that has the files but does not preload the library,
 * or a role that may not create the extension, is refused with one line saying what to do: falling back to
 * partitions would give a TimescaleDB user the wrong shape, and calling into the extension would end the session.
 */
async function useTimescale(client: pg.Client, request: SetupRequest): Promise<boolean> {
  const server = await timescaleOnServer(client);
  if (!server.installed && server.available.length === 0) return false;
  await ensureTimescaleExtension(client, request.database, server);
  return true;
}

/**
 * Reads what the target table is: a hypertable (and its chunk interval), a partitioned table, or a plain one. A
 * database with the extension on a server that no longer preloads it is refused before a query calls into it.
 */
export async function describeTarget(
  client: pg.Client,
  database: DatabaseUrl,
  target: { schema: string; name: string },
): Promise<TargetShape> {
  await assertTimescaleLoaded(client, database, 'the timescaledb extension cannot be used there');
  const version = (await timescaleOnServer(client)).installed ?? undefined;
  if (version) {
    const { rows } = await client.query<{ ms: string }>(
      `SELECT (extract(epoch FROM time_interval) * 1000)::bigint AS ms FROM timescaledb_information.dimensions
       WHERE hypertable_schema = $1 AND hypertable_name = $2 AND dimension_type = 'Time' LIMIT 1`,
      [target.schema, target.name],
    );
    if (rows[0]) {
      const retention = await retentionPolicy(client, target);
      return { kind: 'timescaledb', intervalMs: Number(rows[0].ms), timescaleVersion: version, retention };
    }
  }
  const { rows } = await client.query<{ kind: string }>(
    'SELECT c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ' +
      'AND c.relname = $2',
    [target.schema, target.name],
  );
  return { kind: rows[0]?.kind === 'p' ? 'partitioned' : 'plain', intervalMs: DAY_MS, timescaleVersion: version };
}

/**
 * The hypertable's retention policy, when one is scheduled (a paused one drops nothing until it is resumed) and its
 * drop_after is an interval (a JSON string; an integer time column's policy holds a number, no date horizon).
 */
async function retentionPolicy(
  client: pg.Client,
  table: { schema: string; name: string },
): Promise<RetentionPolicy | undefined> {
  const { rows } = await client.query<RetentionPolicy>(
    `SELECT job_id AS job, config->>'drop_after' AS "dropAfter", now() - (config->>'drop_after')::interval AS horizon
     FROM timescaledb_information.jobs
     WHERE proc_name = 'policy_retention' AND scheduled AND jsonb_typeof(config->'drop_after') = 'string'
       AND hypertable_schema = $1 AND hypertable_name = $2
     ORDER BY job_id LIMIT 1`,
    [table.schema, table.name],
  );
  return rows[0];
}
