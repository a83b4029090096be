import type pg from 'pg';
import type { TableCount } from '../manifest/schema.ts';
import { qualified } from '../pg/connection.ts';
import { serverMajor } from '../pg/tools.ts';

export interface ServerInfo {
  version: string;
  versionNum: number;
  major: number;
  database: string;
}

export async function serverInfo(client: pg.Client): Promise<ServerInfo> {
  const { rows } = await client.query<{ version: string; num: string; db: string }>(
    "SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num, " +
      'current_database() AS db',
  );
  const row = rows[0]!;
  const versionNum = Number(row.num);
  return { version: row.version.split(' ')[0]!, versionNum, major: serverMajor(versionNum), database: row.db };
}

export interface TableRef {
  schema: string;
  name: string;
}

/**
 * The tables whose rows pg_dump writes: ordinary tables outside the system schemas, minus extension members
 * (pg_dump skips them) unless the extension marked them as configuration (pg_dump dumps those, e.g. TimescaleDB's
 * catalog). Partitioned parents hold no rows; their partitions are listed themselves. Counts use ONLY, like
 * pg_dump's COPY, so an inheritance parent is not counted twice.
 */
export async function listDumpedTables(client: pg.Client): Promise<TableRef[]> {
  const { rows } = await client.query<TableRef>(`
    SELECT n.nspname AS schema, c.relname AS name
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
      AND NOT EXISTS (
        SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
          AND NOT (c.oid = ANY (coalesce(e.extconfig, '{}')))
      )
    ORDER BY 1, 2`);
  return rows;
}

export async function countRows(
  client: pg.Client,
  tables: TableRef[],
  excluded: (table: TableRef) => boolean,
): Promise<TableCount[]> {
  const counts: TableCount[] = [];
  for (const table of tables) {
    if (excluded(table)) {
      counts.push({ ...table, rows: null });
      continue;
    }
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ONLY ${qualified(table.schema, table.name)}`,
    );
    counts.push({ ...table, rows: Number(rows[0]!.n) });
  }
  return counts;
}

/**
 * pg_dump's --exclude-table-data patterns, as psql reads them: `*` and `?` wildcards, `schema.table` or a bare
 * table name in any schema, unquoted names folded to lower case. Used only to mark counts as "data excluded".
 */
export function tablePatternMatcher(patterns: string[]): (table: TableRef) => boolean {
  const compiled = patterns.map((pattern) => {
    const parts = splitPattern(pattern);
    const toRegex = (part: string): RegExp =>
      new RegExp(
        `^${part
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
    return parts.length === 2 ? { schema: toRegex(parts[0]!), name: toRegex(parts[1]!) } : { name: toRegex(parts[0]!) };
  });
  return (table) =>
    compiled.some((pattern) => pattern.name.test(table.name) && (!pattern.schema || pattern.schema.test(table.schema)));
}

function splitPattern(pattern: string): string[] {
  const parts: string[] = [''];
  let quoted = false;
  for (const char of pattern) {
    if (char === '"') quoted = !quoted;
    else if (char === '.' && !quoted) parts.push('');
    else parts[parts.length - 1] += quoted ? char : char.toLowerCase();
  }
  return parts.slice(-2);
}
