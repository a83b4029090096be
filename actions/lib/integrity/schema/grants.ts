import type pg from 'pg';
import type { SchemaObject } from './objects.ts';
import { notExtensionMember, userSchema } from './scope.ts';

const RELATION_KINDS =
  "CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN " +
  "'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'table' END";

/**
 * Who holds which privilege on schemas, tables, views, sequences and functions: one object per grantee of each,
 * privileges sorted (`with grant option` marked). An object without an ACL has its owner's default one, so an
 * explicit grant that equals the default is not a difference.
 */
export async function readGrants(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{
    kind: string;
    name: string;
    relation: string | null;
    grantee: string;
    privileges: string;
  }>(`
    WITH objects AS (
      SELECT 'schema' AS kind, n.nspname AS name, NULL AS relation, coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))
        AS acl
      FROM pg_namespace n WHERE ${userSchema('n')} AND ${notExtensionMember('pg_namespace', 'n.oid')}
      UNION ALL
      SELECT ${RELATION_KINDS}, n.nspname || '.' || c.relname, n.nspname || '.' || c.relname,
        coalesce(c.relacl, acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${userSchema('n')}
        AND ${notExtensionMember('pg_class', 'c.oid')}
      UNION ALL
      SELECT CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END,
        n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL,
        coalesce(p.proacl, acldefault('f'::"char", p.proowner))
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE ${userSchema('n')} AND ${notExtensionMember('pg_proc', 'p.oid')}
    )
    SELECT o.kind, o.name, o.relation, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
        AS grantee,
      string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN ' (with grant option)' ELSE '' END, ', '
        ORDER BY a.privilege_type) AS privileges
    FROM objects o, aclexplode(o.acl) a
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 4`);
  return rows.map((row) => ({
    area: 'grants',
    kind: 'grant',
    key: `grants on ${row.kind} ${row.name} to ${row.grantee}`,
    relation: row.relation ?? undefined,
    attributes: { privileges: row.privileges },
  }));
}

const DEFAULT_ACL_KINDS: Record<string, string> = {
  r: 'tables',
  S: 'sequences',
  f: 'functions',
  T: 'types',
  n: 'schemas',
};

/** ALTER DEFAULT PRIVILEGES: for whose new objects, in which schema (or all), of which kind, to whom. */
export async function readDefaultPrivileges(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{
    role: string;
    schema: string | null;
    type: string;
    grantee: string;
    privileges: string;
  }>(`
    SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema, d.defaclobjtype AS type,
      CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
      string_agg(a.privilege_type || CASE WHEN a.is_grantable THEN ' (with grant option)' ELSE '' END, ', '
        ORDER BY a.privilege_type) AS privileges
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`);
  return rows.map((row) => ({
    area: 'grants',
    kind: 'default privilege',
    key:
      `default privileges of ${row.role}${row.schema ? ` in schema ${row.schema}` : ''} on ` +
      `${DEFAULT_ACL_KINDS[row.type] ?? row.type} to ${row.grantee}`,
    attributes: { privileges: row.privileges },
  }));
}
