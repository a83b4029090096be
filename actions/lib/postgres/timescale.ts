import { createHash } from 'node:crypto';
import type pg from 'pg';
import type {
  ContinuousAggregateRecord,
  HypertableRecord,
  TimescaleJobRecord,
  TimescaleObjects,
} from '../manifest/schema.ts';
import { qualified } from '../pg/connection.ts';

// Only the public timescaledb_information views are read (stable across 2.x), never _timescaledb_catalog.

const HYPERTABLES_SQL = `
SELECT h.hypertable_schema AS schema, h.hypertable_name AS name, d.column_name AS time_column,
       coalesce(d.time_interval::text, d.integer_interval::text) AS chunk_interval,
       h.compression_enabled, h.num_chunks,
       (SELECT count(*) FROM timescaledb_information.chunks c
         WHERE (c.hypertable_schema, c.hypertable_name) = (h.hypertable_schema, h.hypertable_name)
           AND c.is_compressed) AS compressed_chunks,
       coalesce((SELECT array_agg(quote_ident(s.attname::text) ORDER BY s.segmentby_column_index)
         FROM timescaledb_information.compression_settings s
         WHERE (s.hypertable_schema, s.hypertable_name) = (h.hypertable_schema, h.hypertable_name)
           AND s.segmentby_column_index IS NOT NULL), '{}') AS segment_by,
       coalesce((SELECT array_agg(quote_ident(s.attname::text)
                   || CASE WHEN s.orderby_asc THEN ' ASC' ELSE ' DESC' END
                   -- ASC puts nulls last and DESC first unless told otherwise: only the exception is spelled.
                   || CASE WHEN s.orderby_nullsfirst = s.orderby_asc
                           THEN CASE WHEN s.orderby_nullsfirst THEN ' NULLS FIRST' ELSE ' NULLS LAST' END
                           ELSE '' END
                   ORDER BY s.orderby_column_index)
         FROM timescaledb_information.compression_settings s
         WHERE (s.hypertable_schema, s.hypertable_name) = (h.hypertable_schema, h.hypertable_name)
           AND s.orderby_column_index IS NOT NULL), '{}') AS order_by
FROM timescaledb_information.hypertables h
JOIN timescaledb_information.dimensions d
  ON (d.hypertable_schema, d.hypertable_name) = (h.hypertable_schema, h.hypertable_name) AND d.dimension_number = 1
ORDER BY 1, 2`;

const CONTINUOUS_AGGREGATES_SQL = `
SELECT view_schema, view_name, hypertable_schema, hypertable_name, materialized_only, view_definition,
       materialization_hypertable_schema, materialization_hypertable_name
FROM timescaledb_information.continuous_aggregates
ORDER BY 1, 2`;

/** Jobs from 1000 up are the database's own; below are TimescaleDB's (telemetry, its job-history retention). */
const JOBS_SQL = `
SELECT proc_name, hypertable_schema, hypertable_name, schedule_interval::text AS schedule_interval, scheduled, config
FROM timescaledb_information.jobs
WHERE job_id >= 1000
ORDER BY job_id`;

/** The TimescaleDB objects of the connected database (in the caller's transaction, e.g. the dump's snapshot). */
export async function readTimescaleObjects(client: pg.Client, version: string): Promise<TimescaleObjects> {
  return {
    version,
    hypertables: await readHypertables(client),
    continuousAggregates: await readContinuousAggregates(client),
    jobs: await readJobs(client),
  };
}

async function readHypertables(client: pg.Client): Promise<HypertableRecord[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    time_column: string;
    chunk_interval: string | null;
    compression_enabled: boolean;
    num_chunks: string;
    compressed_chunks: string;
    segment_by: string[];
    order_by: string[];
  }>(HYPERTABLES_SQL);
  return rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    timeColumn: row.time_column,
    chunkInterval: row.chunk_interval ?? '',
    compression: { enabled: row.compression_enabled, segmentBy: row.segment_by, orderBy: row.order_by },
    chunks: Number(row.num_chunks),
    compressedChunks: Number(row.compressed_chunks),
  }));
}

async function readContinuousAggregates(client: pg.Client): Promise<ContinuousAggregateRecord[]> {
  const { rows } = await client.query<{
    view_schema: string;
    view_name: string;
    hypertable_schema: string;
    hypertable_name: string;
    materialized_only: boolean;
    view_definition: string;
    materialization_hypertable_schema: string;
    materialization_hypertable_name: string;
  }>(CONTINUOUS_AGGREGATES_SQL);
  const aggregates: ContinuousAggregateRecord[] = [];
  for (const row of rows) {
    // The materialization hypertable, not the view: the view of a real-time aggregate adds rows from the raw data.
    const materialized = qualified(row.materialization_hypertable_schema, row.materialization_hypertable_name);
    const counted = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${materialized}`);
    aggregates.push({
      schema: row.view_schema,
      name: row.view_name,
      source: `${row.hypertable_schema}.${row.hypertable_name}`,
      materializedOnly: row.materialized_only,
      definitionSha256: createHash('sha256').update(row.view_definition).digest('hex'),
      rows: Number(counted.rows[0]!.n),
    });
  }
  return aggregates;
}

async function readJobs(client: pg.Client): Promise<TimescaleJobRecord[]> {
  const { rows } = await client.query<{
    proc_name: string;
    hypertable_schema: string | null;
    hypertable_name: string | null;
    schedule_interval: string;
    scheduled: boolean;
    config: Record<string, unknown> | null;
  }>(JOBS_SQL);
  return rows.map((row) => ({
    proc: row.proc_name,
    hypertable: row.hypertable_name === null ? null : `${row.hypertable_schema}.${row.hypertable_name}`,
    scheduleInterval: row.schedule_interval,
    scheduled: row.scheduled,
    config: row.config,
  }));
}

/** How many of each kind the manifest records and how many the restored database matches. */
export interface TimescaleCheck {
  version: string;
  hypertables: Tally;
  continuousAggregates: Tally;
  jobs: Tally;
  /** False when the restored server's PostgreSQL major differs from the source's: it may print views differently. */
  definitionsCompared: boolean;
}

export interface Tally {
  expected: number;
  matching: number;
}

export interface TimescaleComparison {
  check: TimescaleCheck;
  /** One named problem per difference, e.g. `hypertable public.tick_data: 2 compressed chunks, the manifest says 1`. */
  problems: string[];
}

/** The restored database's TimescaleDB objects against the manifest's record of them. */
export function compareTimescaleObjects(
  expected: TimescaleObjects,
  actual: TimescaleObjects,
  compareDefinitions: boolean,
): TimescaleComparison {
  const hypertables = compareNamed('hypertable', expected.hypertables, actual.hypertables, hypertableDifferences);
  const aggregates = compareNamed(
    'continuous aggregate',
    expected.continuousAggregates,
    actual.continuousAggregates,
    (want, have) => aggregateDifferences(want, have, compareDefinitions),
  );
  const jobs = compareJobs(expected.jobs, actual.jobs);
  return {
    check: {
      version: expected.version,
      hypertables: hypertables.tally,
      continuousAggregates: aggregates.tally,
      jobs: jobs.tally,
      definitionsCompared: compareDefinitions,
    },
    problems: [...hypertables.problems, ...aggregates.problems, ...jobs.problems],
  };
}

interface Named {
  schema: string;
  name: string;
}

function compareNamed<T extends Named>(
  kind: string,
  expected: T[],
  actual: T[],
  differences: (want: T, have: T) => string[],
): { tally: Tally; problems: string[] } {
  const key = (item: Named): string => `${item.schema}.${item.name}`;
  const restored = new Map(actual.map((item) => [key(item), item]));
  const problems: string[] = [];
  let matching = 0;
  for (const want of expected) {
    const have = restored.get(key(want));
    const found = have ? differences(want, have) : ['missing after restore'];
    if (found.length === 0) matching++;
    problems.push(...found.map((difference) => `${kind} ${key(want)}: ${difference}`));
  }
  const recorded = new Set(expected.map(key));
  for (const have of actual.filter((item) => !recorded.has(key(item))))
    problems.push(`${kind} ${key(have)}: restored, but not in the manifest`);
  return { tally: { expected: expected.length, matching }, problems };
}

function hypertableDifferences(want: HypertableRecord, have: HypertableRecord): string[] {
  return [
    differs('time column', have.timeColumn, want.timeColumn),
    differs('chunk interval', have.chunkInterval, want.chunkInterval),
    differs('compression', onOff(have.compression.enabled), onOff(want.compression.enabled)),
    differs('segmentby', list(have.compression.segmentBy), list(want.compression.segmentBy)),
    differs('orderby', list(have.compression.orderBy), list(want.compression.orderBy)),
    differs('chunks', String(have.chunks), String(want.chunks)),
    differs('compressed chunks', String(have.compressedChunks), String(want.compressedChunks)),
  ].filter((difference) => difference !== undefined);
}

function aggregateDifferences(
  want: ContinuousAggregateRecord,
  have: ContinuousAggregateRecord,
  compareDefinitions: boolean,
): string[] {
  return [
    differs('source', have.source, want.source),
    differs('materialized_only', String(have.materializedOnly), String(want.materializedOnly)),
    compareDefinitions && have.definitionSha256 !== want.definitionSha256
      ? `its definition differs from the manifest's (sha256 ${short(have.definitionSha256)}, the manifest says ` +
        `${short(want.definitionSha256)})`
      : undefined,
    differs('materialized rows', String(have.rows), String(want.rows)),
  ].filter((difference) => difference !== undefined);
}

/**
 * Jobs have no name: they are matched by procedure and hypertable (one job of each kind per hypertable is the rule;
 * several, e.g. user jobs, are matched by their settings first, then in order).
 */
function compareJobs(
  expected: TimescaleJobRecord[],
  actual: TimescaleJobRecord[],
): { tally: Tally; problems: string[] } {
  const key = (job: TimescaleJobRecord): string => `${job.proc} on ${job.hypertable ?? 'no hypertable'}`;
  const restoredByKey = groupBy(actual, key);
  const problems: string[] = [];
  let matching = 0;
  for (const [jobKey, wanted] of groupBy(expected, key)) {
    const pool = restoredByKey.get(jobKey) ?? [];
    restoredByKey.delete(jobKey);
    const unmatched: TimescaleJobRecord[] = [];
    for (const want of wanted) {
      const same = pool.findIndex((have) => jobDifferences(want, have).length === 0);
      if (same === -1) unmatched.push(want);
      else {
        pool.splice(same, 1);
        matching++;
      }
    }
    for (const want of unmatched) {
      const have = pool.shift();
      problems.push(`job ${jobKey}: ${have ? jobDifferences(want, have).join('; ') : 'missing after restore'}`);
    }
    for (const extra of pool) problems.push(notRecorded(jobKey, extra));
  }
  for (const [jobKey, extras] of restoredByKey) for (const extra of extras) problems.push(notRecorded(jobKey, extra));
  return { tally: { expected: expected.length, matching }, problems };
}

function notRecorded(jobKey: string, job: TimescaleJobRecord): string {
  return `job ${jobKey}: restored, but not in the manifest (schedule ${job.scheduleInterval}, config ${canonical(job.config)})`;
}

function jobDifferences(want: TimescaleJobRecord, have: TimescaleJobRecord): string[] {
  return [
    differs('schedule', have.scheduleInterval, want.scheduleInterval),
    differs('scheduled', String(have.scheduled), String(want.scheduled)),
    differs('config', canonical(have.config), canonical(want.config)),
  ].filter((difference) => difference !== undefined);
}

function differs(what: string, have: string, want: string): string | undefined {
  return have === want ? undefined : `${what} ${have || '(none)'}, the manifest says ${want || '(none)'}`;
}

/** JSON with sorted keys, so two configs compare by content, not by the order jsonb happened to print. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const onOff = (enabled: boolean): string => (enabled ? 'on' : 'off');
const list = (items: string[]): string => items.join(', ');
const short = (sha: string): string => sha.slice(0, 12);
