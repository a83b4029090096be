import type pg from 'pg';
import type { SchemaObject } from './objects.ts';
import { notExtensionMember, RELATION_NAME, userSchema } from './scope.ts';

const TABLE_KINDS: Record<string, string> = { r: 'table', p: 'partitioned table', f: 'foreign table' };

/** Tables (their kind), and where row level security is on, whether it is enabled and forced. */
export async function readTables(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{ name: string; kind: string; rls: boolean; forced: boolean }>(`
    SELECT ${RELATION_NAME} AS name, c.relkind AS kind, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'f') AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1`);
  return rows.flatMap((row): SchemaObject[] => [
    {
      area: 'schema',
      kind: 'table',
      key: `table ${row.name}`,
      relation: row.name,
      attributes: { kind: TABLE_KINDS[row.kind] ?? row.kind },
    },
    ...(row.rls || row.forced
      ? [
          {
            area: 'rls' as const,
            kind: 'table with row level security',
            key: `table ${row.name}`,
            relation: row.name,
            attributes: { 'row level security': row.rls ? 'enabled' : 'disabled', forced: row.forced ? 'yes' : 'no' },
            presence: 'row level security enabled',
          },
        ]
      : []),
  ]);
}

/** Every column of those tables: its type, default and nullability (and identity or generation). */
export async function readColumns(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{
    relation: string;
    name: string;
    type: string;
    default: string | null;
    not_null: boolean;
    identity: string;
    generated: string;
  }>(`
    SELECT ${RELATION_NAME} AS relation, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
      pg_get_expr(d.adbin, d.adrelid) AS default, a.attnotnull AS not_null, a.attidentity AS identity,
      a.attgenerated AS generated
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND ${userSchema('n')}
      AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1, a.attnum`);
  return rows.map((row) => ({
    area: 'schema',
    kind: 'column',
    key: `column ${row.relation}.${row.name}`,
    relation: row.relation,
    attributes: {
      type: row.type,
      default: row.generated ? null : row.default,
      nullability: row.not_null ? 'NOT NULL' : 'nullable',
      identity: { a: 'ALWAYS', d: 'BY DEFAULT' }[row.identity] ?? null,
      generated: row.generated ? row.default : null,
    },
  }));
}
