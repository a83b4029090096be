import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import { qualified, quoteIdent } from '../pg/connection.ts';
import type { EmbeddingSource } from './config.ts';

/** Qdrant payload index types (PayloadSchemaType) a column's values are indexed as. */
export type PayloadIndexType = 'keyword' | 'integer' | 'float' | 'bool' | 'datetime' | 'uuid';

/** A source checked against the database: every name it uses exists, and the query that reads its rows. */
export interface ResolvedSource {
  source: EmbeddingSource;
  /** schema.table, unquoted: what point ids and the payload's source_table are made of. */
  name: string;
  /**
   * One page of rows by id (keyset: no transaction stays open while a page is embedded): SELECT id::text, one value
   * per placeholder, one per payload column. LIMIT is $1; `first` reads from the start, `after` past id $2.
   */
  first: string;
  after: string;
  count: string;
  placeholders: string[];
  payload: { column: string; index: PayloadIndexType }[];
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]!))];
}

/** The template with each placeholder replaced by its value; NULL is empty, whitespace runs become one space. */
export function renderText(template: string, values: Record<string, unknown>): string {
  return template
    .replace(PLACEHOLDER, (_, name: string) => textOf(values[name]))
    .replace(/\s+/g, ' ')
    .trim();
}

function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Resolves the table (search_path included), and checks the id, every placeholder and payload column before a row
 * is read; the computed columns and `where` are checked by planning the query once.
 */
export async function resolveSource(
  db: pg.Client,
  source: EmbeddingSource,
  where: string,
): Promise<ResolvedSource | undefined> {
  const table = await findTable(db, source.table, where);
  if (!table) {
    if (source.optional) return undefined;
    throw new ConfigurationError(
      `${where}: table "${source.table}" does not exist or is not visible to this user; write it as schema.table.`,
    );
  }
  const name = `${table.schema}.${table.name}`;
  const missing = (column: string) => !table.columns.has(column);
  if (missing(source.id)) throw new ConfigurationError(`${where}: table ${name} has no id column "${source.id}".`);
  const placeholders = placeholdersOf(source.text);
  const unknown = placeholders.find((column) => missing(column) && !(column in source.columns));
  if (unknown) {
    throw new ConfigurationError(
      `${where}: the text uses {${unknown}}, which is neither a column of ${name} nor one of its computed ` +
        `columns (it has ${[...table.columns.keys()].join(', ')}).`,
    );
  }
  const absent = source.payload.find(missing);
  if (absent) throw new ConfigurationError(`${where}: payload column "${absent}" is no column of ${name}.`);
  const from = `${qualified(table.schema, table.name)} AS t`;
  const condition = source.where ? `(${source.where})` : 'true';
  const expression = (column: string) =>
    column in source.columns && missing(column) ? `(${source.columns[column]})` : `t.${quoteIdent(column)}`;
  const values = [...placeholders, ...source.payload].map((column, index) => `${expression(column)} AS c${index}`);
  const id = `t.${quoteIdent(source.id)}`;
  const select = (where: string) =>
    `SELECT ${[`${id}::text AS row_id`, ...values].join(', ')} FROM ${from} WHERE ${where} ORDER BY ${id} LIMIT $1`;
  const resolved: ResolvedSource = {
    source,
    name,
    first: select(condition),
    after: select(`${condition} AND ${id} > $2`),
    count: `SELECT count(*)::bigint AS n FROM ${from} WHERE ${condition}`,
    placeholders,
    payload: source.payload.map((column) => ({ column, index: indexTypeOf(table.columns.get(column)!) })),
  };
  try {
    await db.query(`EXPLAIN ${resolved.first.replace('$1', '1')}`);
  } catch (error) {
    throw new ConfigurationError(
      `${where}: the query for ${name} fails: ${errorMessage(error)} (check columns and where).`,
    );
  }
  return resolved;
}

async function findTable(
  db: pg.Client,
  table: string,
  where: string,
): Promise<{ schema: string; name: string; columns: Map<string, string> } | undefined> {
  let rows: { schema: string; name: string; column: string | null; type: string | null }[];
  try {
    rows = (
      await db.query(
        `SELECT n.nspname AS schema, c.relname AS name, a.attname AS column, format_type(a.atttypid, NULL) AS type
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.oid = to_regclass($1) ORDER BY a.attnum`,
        [table],
      )
    ).rows;
  } catch (error) {
    throw new ConfigurationError(`${where}: "${table}" is not a table name: ${errorMessage(error)}.`);
  }
  if (rows.length === 0) return undefined;
  const columns = new Map(rows.filter((row) => row.column !== null).map((row) => [row.column!, row.type!]));
  return { schema: rows[0]!.schema, name: rows[0]!.name, columns };
}

function indexTypeOf(type: string): PayloadIndexType {
  if (['smallint', 'integer', 'bigint'].includes(type)) return 'integer';
  if (['numeric', 'real', 'double precision'].includes(type)) return 'float';
  if (type === 'boolean') return 'bool';
  if (type === 'uuid') return 'uuid';
  if (type.startsWith('timestamp') || type === 'date') return 'datetime';
  return 'keyword';
}

/** A column value as its payload index expects it: numbers as numbers (exact ones only), times as ISO text. */
export function payloadValue(value: unknown, index: PayloadIndexType): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if ((index === 'integer' || index === 'float') && typeof value === 'string') {
    const number = Number(value);
    return index === 'integer' && !Number.isSafeInteger(number) ? value : number;
  }
  return value;
}
