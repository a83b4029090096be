import type pg from 'pg';
import { ConfigurationError } from '../action/errors.ts';
import { qualified } from '../pg/connection.ts';
import { formatCount } from '../format.ts';
import { fail, pass, type CheckResult } from './check.ts';
import type { IntegrityConfig } from './config.ts';
import { extensionSchema, extensionTable, inheritanceChild, systemSchema } from './internals.ts';
import type { ParityTable } from './parity.ts';

/** A user table and how to compare it: by its integer key, by a time column, or only as a whole. */
export interface CheckedTable extends ParityTable {
  label: string;
}

/**
 * The tables to check: the config's list, or every user table (not partitions nor TimescaleDB chunks: a hypertable is
 * compared as its parent table; nothing of an extension's; not Backstop's own ledger). The axis: the configured one;
 * else a single-column integer primary key; else the first non-null timestamp column; else none (the table is
 * compared by count and one whole-table checksum).
 */
export async function discoverTables(client: pg.Client, config: IntegrityConfig): Promise<CheckedTable[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    columns: string[];
    pk: string | null;
    pk_type: string | null;
    times: string[];
  }>(`
    SELECT n.nspname AS schema, c.relname AS name,
      array(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped ORDER
        BY attnum) AS columns,
      (SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1) AS pk,
      (SELECT format_type(a.atttypid, NULL) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND
        a.attnum = i.indkey[0]
        WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1) AS pk_type,
      array(SELECT attname::text FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped AND
        attnotnull
        AND atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype) ORDER BY attnum) AS times
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT ${inheritanceChild('c')} AND NOT ${systemSchema('n')}
      AND n.nspname <> 'backstop' AND NOT ${extensionSchema('n')} AND NOT ${extensionTable('c')}
    ORDER BY 1, 2`);
  const byName = new Map(rows.map((row) => [`${row.schema}.${row.name}`, row]));
  const wanted =
    config.tables ?? rows.map((row) => ({ table: `${row.schema}.${row.name}`, timeColumn: undefined, key: undefined }));
  const excluded = new Set(config.exclude.map(fullName));
  return wanted
    .filter((entry) => !excluded.has(fullName(entry.table)))
    .map((entry) => {
      const row = byName.get(fullName(entry.table));
      if (!row)
        throw new ConfigurationError(
          `config: table ${entry.table} does not exist in database-url (or is a partition, a chunk or an ` +
            `extension's): check tables[].table.`,
        );
      const integerKey = row.pk && /^(smallint|integer|bigint)$/.test(row.pk_type ?? '') ? row.pk : undefined;
      const axisColumn = entry.key ?? entry.timeColumn ?? integerKey ?? row.times[0];
      const kind = entry.key || (!entry.timeColumn && integerKey) ? 'key' : 'time';
      return {
        schema: row.schema,
        name: row.name,
        label: `${row.schema}.${row.name}`,
        columns: row.columns,
        axis: axisColumn ? { kind, column: axisColumn } : { kind: 'key', column: '' },
      } as CheckedTable;
    });
}

function fullName(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

export async function checkRowCounts(
  sides: { client: pg.Client; label: string }[],
  tables: CheckedTable[],
): Promise<CheckResult> {
  const differences: { table: string; counts: number[] }[] = [];
  let total = 0;
  for (const table of tables) {
    const counts = await Promise.all(
      sides.map(async (side) => {
        try {
          return Number(
            (await side.client.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(table.schema, table.name)}`))
              .rows[0]!.n,
          );
        } catch {
          return -1; // the table is missing on this side
        }
      }),
    );
    total += counts[0]!;
    if (counts.some((count) => count !== counts[0])) differences.push({ table: table.label, counts });
  }
  if (differences.length === 0)
    return pass('row counts', `${tables.length} tables, ${formatCount(total)} rows, equal on both sides`);
  const describe = (d: { table: string; counts: number[] }): string =>
    `${d.table}: ${d.counts.map((n, i) => `${n < 0 ? 'missing' : formatCount(n)} in ${sides[i]!.label}`).join(', ')}`;
  return fail('row counts', `${differences.length} table(s) differ — ${describe(differences[0]!)}`, {
    differences: differences.map(describe),
  });
}
