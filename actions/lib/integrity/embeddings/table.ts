import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../../action/errors.ts';
import { qualified, quoteIdent } from '../../pg/connection.ts';
import { PAGE_SIZE, type EmbeddingMapping } from './mapping.ts';

/** The table side of the check: its key column, how many rows it has, and its keys in order. */
export interface KeyColumn {
  /** schema-qualified, quoted, for SQL text */
  table: string;
  /** quoted column name */
  column: string;
  /** format_type of the column, e.g. "bigint", "uuid", "text" */
  type: string;
}

/** Resolves the table as the database sees it (search_path included), so a wrong name fails before any reading. */
export async function resolveKeyColumn(db: pg.Client, mapping: EmbeddingMapping): Promise<KeyColumn> {
  let found: { schema: string; name: string; type: string | null } | undefined;
  try {
    found = (
      await db.query<{ schema: string; name: string; type: string | null }>(
        `
      SELECT n.nspname AS schema, c.relname AS name, format_type(a.atttypid, NULL) AS type
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.oid = to_regclass($1)`,
        [mapping.table, mapping.key],
      )
    ).rows[0];
  } catch (error) {
    // to_regclass raises on a malformed name (e.g. too many dots) instead of answering NULL.
    throw new ConfigurationError(`Embedding check: "${mapping.table}" is not a table name: ${errorMessage(error)}.`);
  }
  if (!found) {
    throw new ConfigurationError(
      `Embedding check: table "${mapping.table}" does not exist or is not visible to this user; ` +
        'write it as schema.table.',
    );
  }
  if (found.type === null) {
    const table = `${found.schema}.${found.name}`;
    throw new ConfigurationError(`Embedding check: table ${table} has no column "${mapping.key}".`);
  }
  return { table: qualified(found.schema, found.name), column: quoteIdent(mapping.key), type: found.type };
}

/** The planner's row estimate, or an exact count when the table was never analyzed; only picks the side to hold. */
export async function estimatedRows(db: pg.Client, column: KeyColumn): Promise<number> {
  const { rows } = await db.query<{ estimate: number }>(
    `SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = $1::regclass`,
    [column.table],
  );
  const estimate = rows[0]?.estimate ?? -1;
  if (estimate >= 0) return estimate;
  return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${column.table}`)).rows[0]!.n);
}

/**
 * The key of every row, as text (null for a NULL key), in key order, a page at a time from a server-side cursor.
 * The transaction ends when the stream is exhausted or abandoned (return() runs the finally block).
 */
export async function* rowKeys(db: pg.Client, column: KeyColumn): AsyncGenerator<(string | null)[]> {
  await db.query('BEGIN READ ONLY');
  let committed = false;
  try {
    // ORDER BY the table-qualified column: a bare name would sort by the output column of the same name, the text.
    await db.query(`DECLARE backstop_embedding_keys NO SCROLL CURSOR FOR
                    SELECT ${column.column}::text FROM ${column.table} ORDER BY ${column.table}.${column.column}`);
    for (;;) {
      const { rows } = await db.query<[string | null]>({
        text: `FETCH ${PAGE_SIZE} FROM backstop_embedding_keys`,
        rowMode: 'array',
      });
      if (rows.length === 0) break;
      yield rows.map((row) => row[0]);
    }
    await db.query('COMMIT');
    committed = true;
  } finally {
    if (!committed) await db.query('ROLLBACK').catch(() => undefined);
  }
}
