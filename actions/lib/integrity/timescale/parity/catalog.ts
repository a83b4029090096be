import type pg from 'pg';
import { AGGREGATES_SQL, COLUMNSTORE_SETTINGS_SQL, EXTENSION_SQL, HYPERTABLES_SQL, JOBS_SQL } from './sql.ts';

/** What one database holds of TimescaleDB, as far as two databases are compared (the shape, not the rows). */
export interface TimescaleCatalog {
  version: string;
  hypertables: HypertableShape[];
  aggregates: AggregateShape[];
  jobs: JobShape[];
}

export interface HypertableShape {
  /** schema.name */
  table: string;
  timeColumn: string;
  timeType: string;
  /** "1 day", or an integer for an integer time column. */
  chunkInterval: string;
  /** e.g. "symbol (4 partitions)"; empty when the time is the only dimension. */
  otherDimensions: string;
  columnstore: { enabled: boolean; segmentby: string; orderby: string };
  chunks: number;
  compressedChunks: number;
}

export interface AggregateShape {
  schema: string;
  name: string;
  /** schema.name */
  view: string;
  /** The hypertable it reads, or the continuous aggregate it is built on. */
  source: string;
  /** The view's query, the same text on both sides when the aggregates are the same (see normalizedDefinition). */
  definition: string;
  materializedOnly: boolean;
  columnstore: boolean;
  columns: string[];
  bucketColumn: string;
  bucketType: string;
  /** time_bucket's width in microseconds; undefined when it is not an interval literal (an integer bucket). */
  bucketMicros: bigint | undefined;
  materialization: string;
}

export interface JobShape {
  id: number;
  /** policy_retention, … for TimescaleDB's own procedures; schema.name for a job of the user's. */
  proc: string;
  /** The hypertable or continuous aggregate a policy belongs to (schema.name); undefined for add_job jobs. */
  on: string | undefined;
  schedule: string;
  scheduled: boolean;
  /** The job's config without the internal ids of its hypertable (they differ between any two databases). */
  config: Record<string, unknown>;
}

/** TimescaleDB's own procedure schemas (2.x moved them from _timescaledb_internal to _timescaledb_functions). */
const OWN_PROCS = new Set(['_timescaledb_functions', '_timescaledb_internal']);
const INTERNAL_CONFIG_KEYS = ['hypertable_id', 'mat_hypertable_id'];

/** The database's TimescaleDB catalog; undefined when the extension is not installed there. */
export async function readCatalog(client: pg.Client): Promise<TimescaleCatalog | undefined> {
  const extension = (await client.query<{ version: string; schema: string }>(EXTENSION_SQL)).rows[0];
  if (!extension) return undefined;
  // One snapshot for every query, and a search_path of pg_catalog alone: pg_get_viewdef then names every table by
  // its schema, whatever the role's own search_path is, so the definitions of both sides compare as text.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(`SELECT set_config('search_path', 'pg_catalog', true)`);
    const hypertables = await client.query(HYPERTABLES_SQL);
    const settings = await client.query(COLUMNSTORE_SETTINGS_SQL);
    const aggregates = await client.query(AGGREGATES_SQL);
    const jobs = await client.query(JOBS_SQL);
    const shapes = aggregates.rows.map((row) => aggregateShape(row, extension.schema)).sort(finestFirst);
    return {
      version: extension.version,
      hypertables: hypertables.rows.map((row) => hypertableShape(row, settings.rows)),
      aggregates: shapes,
      jobs: jobs.rows.map((row) => jobShape(row, shapes)),
    };
  } finally {
    await client.query('COMMIT');
  }
}

/** candle_1m before candle_5m before candle_1h: by bucket width, then by name. */
function finestFirst(a: AggregateShape, b: AggregateShape): number {
  const width = (shape: AggregateShape) => shape.bucketMicros ?? BigInt(Number.MAX_SAFE_INTEGER);
  if (width(a) !== width(b)) return width(a) < width(b) ? -1 : 1;
  return a.view < b.view ? -1 : a.view > b.view ? 1 : 0;
}

function hypertableShape(row: pg.QueryResultRow, settings: pg.QueryResultRow[]): HypertableShape {
  const own = settings.find((setting) => setting.schema === row.schema && setting.name === row.name);
  return {
    table: `${row.schema}.${row.name}`,
    timeColumn: row.time_column,
    timeType: row.time_type,
    chunkInterval: row.chunk_interval,
    otherDimensions: row.other_dimensions ?? '',
    columnstore: { enabled: row.columnstore, segmentby: own?.segmentby ?? '', orderby: own?.orderby ?? '' },
    chunks: row.chunks,
    compressedChunks: row.compressed_chunks,
  };
}

function aggregateShape(row: pg.QueryResultRow, extensionSchema: string): AggregateShape {
  return {
    schema: row.schema,
    name: row.name,
    view: `${row.schema}.${row.name}`,
    source: row.source,
    definition: normalizedDefinition(row.definition, extensionSchema, row.source),
    materializedOnly: row.materialized_only,
    columnstore: row.columnstore,
    columns: row.columns,
    bucketColumn: row.bucket_column,
    bucketType: row.bucket_type,
    bucketMicros: row.bucket_micros === null ? undefined : BigInt(row.bucket_micros),
    materialization: row.materialization,
  };
}

/**
 * The definition as both sides can agree on it: without the extension's schema before its functions
 * (public.time_bucket(…) → time_bucket(…); the extension may live elsewhere on the other side, public on Tiger
 * Cloud, extensions on other services) and without the source's name before its columns (tick_data.last_price →
 * last_price; PostgreSQL 15 writes it, 17 leaves it out). Tables keep their schema.
 */
export function normalizedDefinition(definition: string, extensionSchema: string, source: string): string {
  const sourceName = source.slice(source.lastIndexOf('.') + 1);
  const prefix = (name: string, before: string) => new RegExp(`(?<![\\w."])${identifier(name)}\\.(?=${before})`, 'g');
  return definition.replace(prefix(extensionSchema, '\\w+\\('), '').replace(prefix(sourceName, '[\\w"]'), '').trim();
}

/** A name as pg_get_viewdef may write it, bare or quoted, as a regular expression. */
function identifier(name: string): string {
  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `(?:${escaped(name)}|"${escaped(name.replace(/"/g, '""'))}")`;
}

function jobShape(row: pg.QueryResultRow, aggregates: AggregateShape[]): JobShape {
  const table = row.on_name === null ? undefined : `${row.on_schema}.${row.on_name}`;
  // Before 2.23 a refresh policy named the aggregate's materialization hypertable, whose name differs per database.
  const aggregate = aggregates.find((shape) => shape.materialization === table);
  const config = { ...(row.config ?? {}) };
  for (const key of INTERNAL_CONFIG_KEYS) delete config[key];
  return {
    id: row.job_id,
    proc: OWN_PROCS.has(row.proc_schema) ? row.proc_name : `${row.proc_schema}.${row.proc_name}`,
    on: aggregate?.view ?? table,
    schedule: row.schedule,
    scheduled: row.scheduled,
    config,
  };
}
