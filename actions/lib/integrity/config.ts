import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import type { EmbeddingMapping } from './embeddings/index.ts';
import type { TimescaleExpectation, TimescaleParitySettings } from './timescale/index.ts';

/**
 * The validate-integrity config: one YAML file. Every key is checked, so a typo ("tabels") is an error that names
 * it and lists what is allowed, not a check silently skipped. With no config: every user table, declared foreign
 * keys, and row counts and content parity when compare-url is given (plus the TimescaleDB comparison when both
 * sides have TimescaleDB).
 */
export interface TableConfig {
  table: string;
  /** Time-series tables are compared day by day, then hour, minute, second… */
  timeColumn?: string;
  /** Keyed tables (an integer key) are compared by key ranges. Default: the primary key. */
  key?: string;
}

export interface RelationConfig {
  /** schema.table.column */
  from: string;
  to: string;
}

export interface CustomCheck {
  name: string;
  /** A query that must return no rows. */
  sql: string;
  severity: 'fail' | 'warn';
}

export interface BackupExpectation {
  name: string;
  maxAgeHours: number;
  /** Self-hosted with WAL archiving: the newest archived segment may be at most this old (the PITR RPO). */
  maxWalAgeMinutes?: number;
}

/** A bucket backed up by backup-files under `name`, compared with its newest backup. */
export interface FilesExpectation {
  name: string;
  sourceUrl: string;
}

export interface IntegrityConfig {
  tables?: TableConfig[];
  exclude: string[];
  relations: RelationConfig[];
  embeddings: EmbeddingMapping[];
  timescaledb: TimescaleExpectation[];
  timescaleParity: TimescaleParitySettings;
  backups: BackupExpectation[];
  files: FilesExpectation[];
  custom: CustomCheck[];
}

type Shape = Record<string, 'string' | 'number' | 'boolean' | 'string[]' | 'list' | 'mapping'>;

const TOP: Shape = {
  tables: 'list',
  exclude: 'string[]',
  relations: 'list',
  embeddings: 'list',
  timescaledb: 'list',
  'timescaledb-parity': 'mapping',
  backups: 'list',
  files: 'list',
  custom: 'list',
};
const ITEMS: Record<string, Shape> = {
  tables: { table: 'string', 'time-column': 'string', key: 'string' },
  relations: { from: 'string', to: 'string' },
  embeddings: { table: 'string', key: 'string', collection: 'string', match: 'string' },
  timescaledb: {
    hypertable: 'string',
    'chunk-interval': 'string',
    'columnstore-after': 'string',
    retention: 'string',
    aggregates: 'string[]',
    'max-lag': 'string',
  },
  backups: { name: 'string', 'max-age-hours': 'number', 'max-wal-age-minutes': 'number' },
  files: { name: 'string', 'source-url': 'string' },
  custom: { name: 'string', sql: 'string', severity: 'string' },
};
/** Sections that are one mapping rather than a list of them. */
const MAPPINGS: Record<string, Shape> = {
  'timescaledb-parity': { enabled: 'boolean', aggregates: 'string[]' },
};
const REQUIRED: Record<string, string[]> = {
  tables: ['table'],
  relations: ['from', 'to'],
  embeddings: ['table', 'key', 'collection'],
  timescaledb: ['hypertable'],
  backups: ['name', 'max-age-hours'],
  files: ['name', 'source-url'],
  custom: ['name', 'sql'],
};

export function emptyConfig(): IntegrityConfig {
  return {
    exclude: [],
    relations: [],
    embeddings: [],
    timescaledb: [],
    timescaleParity: {},
    backups: [],
    files: [],
    custom: [],
  };
}

export function loadConfig(path: string, origin: Origin): IntegrityConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError(
      `${origin.title}: cannot read ${path} (${(error as NodeJS.ErrnoException).code}): give the path of the YAML ` +
        `file, relative to the workspace.`,
    );
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new ConfigurationError(
      `${origin.title}: ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  return parseConfig(data ?? {}, path);
}

export function parseConfig(data: unknown, where: string): IntegrityConfig {
  checkObject(data, TOP, where, '');
  const raw = data as Record<string, unknown>;
  for (const [section, shape] of Object.entries(ITEMS)) {
    ((raw[section] as unknown[] | undefined) ?? []).forEach((item, index) => {
      const at = `${section}[${index}]`;
      checkObject(item, shape, where, at);
      const missing = REQUIRED[section]!.filter((key) => (item as Record<string, unknown>)[key] === undefined);
      if (missing.length > 0) throw new ConfigurationError(`config ${where}: ${at} lacks ${missing.join(', ')}.`);
    });
  }
  for (const [section, shape] of Object.entries(MAPPINGS)) {
    if (raw[section] !== undefined) checkObject(raw[section], shape, where, section);
  }
  const parity = (raw['timescaledb-parity'] as Record<string, unknown> | undefined) ?? {};
  const list = <T>(section: string): Record<string, unknown>[] =>
    ((raw[section] as Record<string, unknown>[] | undefined) ?? []) as T & Record<string, unknown>[];
  return {
    tables:
      raw.tables === undefined
        ? undefined
        : list('tables').map((t) => ({
            table: t.table as string,
            timeColumn: t['time-column'] as string | undefined,
            key: t.key as string | undefined,
          })),
    exclude: (raw.exclude as string[] | undefined) ?? [],
    relations: list('relations').map((r) => ({ from: r.from as string, to: r.to as string })),
    embeddings: list('embeddings').map((e, index) => ({
      table: e.table as string,
      key: e.key as string,
      collection: e.collection as string,
      match: parseMatch(e.match as string | undefined, where, index),
    })),
    timescaledb: list('timescaledb').map((t) => ({
      hypertable: t.hypertable as string,
      chunkInterval: t['chunk-interval'] as string | undefined,
      columnstoreAfter: t['columnstore-after'] as string | undefined,
      retention: t.retention as string | undefined,
      aggregates: t.aggregates as string[] | undefined,
      maxLag: t['max-lag'] as string | undefined,
    })),
    timescaleParity: {
      enabled: parity.enabled as boolean | undefined,
      aggregates: parity.aggregates as string[] | undefined,
    },
    backups: list('backups').map((b) => ({
      name: b.name as string,
      maxAgeHours: b['max-age-hours'] as number,
      maxWalAgeMinutes: b['max-wal-age-minutes'] as number | undefined,
    })),
    files: list('files').map((f) => ({ name: f.name as string, sourceUrl: f['source-url'] as string })),
    custom: list('custom').map((c, index) => ({
      name: c.name as string,
      sql: c.sql as string,
      severity: parseSeverity(c.severity as string | undefined, where, index),
    })),
  };
}

function parseMatch(value: string | undefined, where: string, index: number): EmbeddingMapping['match'] {
  if (value === undefined || value === 'id') return 'id';
  const payload = /^payload:(.+)$/.exec(value);
  if (payload) return { payload: payload[1]! };
  throw new ConfigurationError(
    `config ${where}: embeddings[${index}].match is "${value}": use id, or payload:<field>.`,
  );
}

function parseSeverity(value: string | undefined, where: string, index: number): 'fail' | 'warn' {
  if (value === undefined || value === 'fail' || value === 'error') return 'fail';
  if (value === 'warn' || value === 'warning') return 'warn';
  throw new ConfigurationError(`config ${where}: custom[${index}].severity is "${value}": use fail or warn.`);
}

const SHAPES: Record<Shape[string], { is: (item: unknown) => boolean; described: string }> = {
  string: { is: (item) => typeof item === 'string', described: 'a string' },
  number: { is: (item) => typeof item === 'number', described: 'a number' },
  boolean: { is: (item) => typeof item === 'boolean', described: 'true or false' },
  'string[]': {
    is: (item) => Array.isArray(item) && item.every((x) => typeof x === 'string'),
    described: 'a list of strings',
  },
  list: { is: Array.isArray, described: 'a list' },
  mapping: {
    is: (item) => typeof item === 'object' && item !== null && !Array.isArray(item),
    described: 'a mapping of keys',
  },
};

function checkObject(value: unknown, shape: Shape, where: string, at: string): void {
  const label = at || 'the top level';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigurationError(
      `config ${where}: ${label} must be a mapping of keys (${Object.keys(shape).join(', ')}).`,
    );
  }
  for (const [key, item] of Object.entries(value)) {
    const type = shape[key];
    if (!type)
      throw new ConfigurationError(
        `config ${where}: unknown key "${key}" at ${label}; known keys: ${Object.keys(shape).join(', ')}.`,
      );
    if (!SHAPES[type].is(item))
      throw new ConfigurationError(`config ${where}: "${key}" at ${label} must be ${SHAPES[type].described}.`);
  }
}
