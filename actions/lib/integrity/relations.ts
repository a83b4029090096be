import type pg from 'pg';
import { ConfigurationError } from '../action/errors.ts';
import { qualified, quoteIdent } from '../pg/connection.ts';
import { formatCount } from '../format.ts';
import { fail, pass, type CheckResult } from './check.ts';
import type { RelationConfig } from './config.ts';
import { extensionSchema, extensionTable, inheritanceChild, systemSchema } from './internals.ts';

interface Relation {
  from: { schema: string; table: string; columns: string[] };
  to: { schema: string; table: string; columns: string[] };
  declared: boolean;
}

const SAMPLE = 5;

/**
 * Declared foreign keys, plus relations from the config (a migrated copy has often lost its constraints). Not the
 * keys of extensions' own catalogs (TimescaleDB declares dozens among its _timescaledb_* tables), nor the copies
 * TimescaleDB puts on every chunk: a key from a hypertable is checked on the hypertable, and a key to one (2.16+
 * adds one per chunk to the referencing table) on the key to the hypertable, since a row matches one chunk only.
 */
export async function listRelations(client: pg.Client, configured: RelationConfig[]): Promise<Relation[]> {
  const { rows } = await client.query<{ fs: string; ft: string; fc: string[]; ts: string; tt: string; tc: string[] }>(`
    SELECT fn.nspname AS fs, f.relname AS ft,
      array(SELECT attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid =
        con.conrelid AND a.attnum = k.n ORDER BY i) AS fc,
      tn.nspname AS ts, t.relname AS tt,
      array(SELECT attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid =
        con.confrelid AND a.attnum = k.n ORDER BY i) AS tc
    FROM pg_constraint con
    JOIN pg_class f ON f.oid = con.conrelid JOIN pg_namespace fn ON fn.oid = f.relnamespace
    JOIN pg_class t ON t.oid = con.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
    WHERE con.contype = 'f' AND NOT ${inheritanceChild('f')} AND NOT ${inheritanceChild('t')}
      AND NOT ${systemSchema('fn')} AND NOT ${extensionSchema('fn')} AND NOT ${extensionSchema('tn')}
      AND NOT ${extensionTable('f')}
    ORDER BY 1, 2`);
  const declared: Relation[] = rows.map((r) => ({
    from: { schema: r.fs, table: r.ft, columns: r.fc },
    to: { schema: r.ts, table: r.tt, columns: r.tc },
    declared: true,
  }));
  return [
    ...declared,
    ...configured.map((relation, index) => ({
      from: splitColumn(relation.from, index),
      to: splitColumn(relation.to, index),
      declared: false,
    })),
  ];
}

function splitColumn(text: string, index: number): { schema: string; table: string; columns: string[] } {
  const parts = text.split('.');
  if (parts.length < 2 || parts.length > 3)
    throw new ConfigurationError(
      `config: relations[${index}] has "${text}": use schema.table.column (or table.column).`,
    );
  const [schema, table, column] = parts.length === 3 ? parts : ['public', ...parts];
  return { schema: schema!, table: table!, columns: [column!] };
}

/** Orphans by anti-join: child rows whose non-null reference has no parent row. */
export async function checkRelation(client: pg.Client, relation: Relation): Promise<CheckResult> {
  const from = `${relation.from.schema}.${relation.from.table}(${relation.from.columns.join(', ')})`;
  const to = `${relation.to.schema}.${relation.to.table}(${relation.to.columns.join(', ')})`;
  const name = `foreign keys: ${from} → ${to}${relation.declared ? '' : ' (config)'}`;
  const join = relation.from.columns
    .map((column, i) => `p.${quoteIdent(relation.to.columns[i]!)} = c.${quoteIdent(column)}`)
    .join(' AND ');
  const notNull = relation.from.columns.map((column) => `c.${quoteIdent(column)} IS NOT NULL`).join(' AND ');
  const columns = relation.from.columns.map((column) => `c.${quoteIdent(column)}::text`).join(` || ',' || `);
  const { rows } = await client.query<{ n: string; sample: string[] | null }>(`
    SELECT count(*) AS n, (array_agg(DISTINCT ${columns}))[1:${SAMPLE}] AS sample
    FROM ${qualified(relation.from.schema, relation.from.table)} c
    WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${qualified(relation.to.schema, relation.to.table)} p WHERE ${join})`);
  const orphans = Number(rows[0]!.n);
  if (orphans === 0) return pass(name, 'no orphans');
  return fail(
    name,
    `${formatCount(orphans)} row(s) of ${relation.from.table} point at no ${relation.to.table} (e.g. ` +
      `${(rows[0]!.sample ?? []).join(', ')})`,
    { orphans, sample: rows[0]!.sample },
  );
}
