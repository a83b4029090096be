import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';

/** Qdrant's distance functions (Distance in its OpenAPI document). */
export const DISTANCES = ['Cosine', 'Dot', 'Euclid', 'Manhattan'] as const;
export type Distance = (typeof DISTANCES)[number];

/** One table whose rows become points of one collection. */
export interface EmbeddingSource {
  /** Schema-qualified or bare (resolved through the search_path), e.g. "public.trades". */
  table: string;
  /** The row id column: the point id is UUID v5 of the table and this value. */
  id: string;
  /**
   * The text to embed: `{name}` is replaced by a column's value (or a computed column's), NULL by nothing;
   * whitespace runs collapse to one space.
   */
  text: string;
  /** Computed columns for the template: name → SQL expression over the row, whose alias is `t`. */
  columns: Record<string, string>;
  /** Columns copied into each point's payload (each also gets a payload index). */
  payload: string[];
  collection: string;
  distance: Distance;
  /** SQL condition on the row (alias `t`): only these rows are embedded (and, with prune, the others deleted). */
  where?: string;
  /** A default source whose table does not exist is skipped with a notice; a configured one fails. */
  optional: boolean;
}

const KEYS = ['table', 'id', 'text', 'columns', 'payload', 'collection', 'distance', 'where'] as const;

/** Reads the YAML config (`sources:` list); every key is checked, so a typo fails instead of being ignored. */
export function loadSources(path: string, origin: Origin): EmbeddingSource[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigurationError(`${origin.title} names ${path}, which cannot be read: ${errorMessage(error)}.`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ConfigurationError(`${origin.title}: ${path} is not valid YAML: ${errorMessage(error)}`);
  }
  return parseSources(document, `${origin} (${path})`);
}

export function parseSources(document: unknown, where: string): EmbeddingSource[] {
  const root = asObject(document, `${where}: the config`, 'an object with a `sources:` list');
  const unknown = Object.keys(root).filter((key) => key !== 'sources');
  if (unknown.length > 0) {
    throw new ConfigurationError(`${where}: unknown key "${unknown[0]}"; the config has only \`sources:\`.`);
  }
  if (!Array.isArray(root.sources) || root.sources.length === 0) {
    throw new ConfigurationError(`${where}: \`sources:\` must be a non-empty list of tables to embed.`);
  }
  const sources = root.sources.map((entry, index) => parseSource(entry, `${where}: sources[${index}]`));
  const collections = new Map<string, string>();
  for (const source of sources) {
    const other = collections.get(source.collection);
    if (other) {
      throw new ConfigurationError(
        `${where}: ${other} and ${source.table} both write collection "${source.collection}": give each ` +
          'source its own collection (prune and coverage are per collection).',
      );
    }
    collections.set(source.collection, source.table);
  }
  return sources;
}

function parseSource(entry: unknown, where: string): EmbeddingSource {
  const raw = asObject(entry, where, 'an object (table, id, text, collection, …)');
  const unknown = Object.keys(raw).find((key) => !(KEYS as readonly string[]).includes(key));
  if (unknown) throw new ConfigurationError(`${where}: unknown key "${unknown}"; allowed: ${KEYS.join(', ')}.`);
  const table = requiredString(raw, 'table', where);
  const distance = raw.distance === undefined ? 'Cosine' : requiredString(raw, 'distance', where);
  if (!(DISTANCES as readonly string[]).includes(distance)) {
    throw new ConfigurationError(`${where}: distance is "${distance}": use one of ${DISTANCES.join(', ')}.`);
  }
  const columns = raw.columns === undefined ? {} : asObject(raw.columns, `${where}: columns`, 'name: SQL expression');
  for (const [name, expression] of Object.entries(columns)) {
    if (typeof expression !== 'string' || expression.trim() === '') {
      throw new ConfigurationError(`${where}: columns.${name} must be an SQL expression (text).`);
    }
  }
  const payload = raw.payload ?? [];
  if (!Array.isArray(payload) || !payload.every((item) => typeof item === 'string')) {
    throw new ConfigurationError(`${where}: payload must be a list of column names.`);
  }
  return {
    table,
    id: raw.id === undefined ? 'id' : requiredString(raw, 'id', where),
    text: requiredString(raw, 'text', where),
    columns: columns as Record<string, string>,
    payload,
    collection: raw.collection === undefined ? table.split('.').pop()! : requiredString(raw, 'collection', where),
    distance: distance as Distance,
    ...(raw.where !== undefined && { where: requiredString(raw, 'where', where) }),
    optional: false,
  };
}

function asObject(value: unknown, where: string, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigurationError(`${where} must be ${expected}.`);
  }
  return value as Record<string, unknown>;
}

function requiredString(raw: Record<string, unknown>, key: string, where: string): string {
  const value = raw[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigurationError(
      `${where}: ${key} must be a non-empty text${value === undefined ? ' (missing)' : ''}.`,
    );
  }
  return value;
}
