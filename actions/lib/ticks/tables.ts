import type pg from 'pg';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';

export interface TableName {
  schema?: string;
  name: string;
  origin: Origin;
}

export interface Column {
  name: string;
  /** As format_type() spells it, e.g. numeric(20,8): what CREATE TABLE takes. */
  type: string;
  notNull: boolean;
}

export interface ResolvedTable {
  schema: string;
  name: string;
  columns: Column[];
}

/** `tick_data` or `market.tick_data` (quoted parts allowed). */
export function parseTableName(text: string, origin: Origin): TableName {
  const match = /^(?:("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\.)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)$/.exec(
    text.trim(),
  );
  if (!match)
    throw new ConfigurationError(
      `${origin.title} is "${text}": give a table name, optionally schema-qualified (market.tick_data).`,
    );
  const unquote = (part: string): string =>
    part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toLowerCase();
  return { schema: match[1] ? unquote(match[1]) : undefined, name: unquote(match[2]!), origin };
}

/** The table and its columns as the server sees them; undefined when it does not exist. */
export async function findTable(client: pg.Client, table: TableName): Promise<ResolvedTable | undefined> {
  const { rows } = await client.query<{ oid: number; schema: string; name: string }>(
    `SELECT c.oid, n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND (n.nspname = $2 OR ($2 IS NULL AND n.nspname = ANY (current_schemas(false))))
     ORDER BY array_position(current_schemas(false), n.nspname) LIMIT 1`,
    [table.name, table.schema ?? null],
  );
  const found = rows[0];
  if (!found) return undefined;
  const columns = await client.query<Column>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS "notNull" FROM pg_attribute
     WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [found.oid],
  );
  return { schema: found.schema, name: found.name, columns: columns.rows };
}

export function assertTimeColumn(table: ResolvedTable, timeColumn: string, where: string, origin: Origin): void {
  const column = table.columns.find((c) => c.name === timeColumn);
  if (!column) {
    throw new ConfigurationError(
      `Table ${table.schema}.${table.name} in ${where} has no column "${timeColumn}" (it has ` +
        `${table.columns.map((c) => c.name).join(', ')}): ` +
        `set ${origin} to its timestamp column.`,
    );
  }
  if (!/^timestamp/.test(column.type)) {
    throw new ConfigurationError(
      `Column "${timeColumn}" of ${table.schema}.${table.name} in ${where} is ${column.type}, not a timestamp: set ` +
        `${origin} to its timestamp column.`,
    );
  }
}
