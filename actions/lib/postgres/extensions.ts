import type pg from 'pg';
import type { Extension } from '../manifest/schema.ts';

/**
 * The database's extensions with what a drill needs when the target lacks one (a provider's pg_graphql, pg_cron,
 * pgsodium … on a bare server): the schemas the extension created, and the dumped objects that use its objects.
 * pg_dump records no dependency on an extension's members in the archive, so without this list a view calling an
 * extension's function would only fail halfway through the restore.
 */
export async function describeExtensions(client: pg.Client): Promise<Extension[]> {
  const { rows } = await client.query<{ name: string; version: string; schema: string; member_schemas: string[] }>(`
    SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema,
      array(SELECT s.nspname::text FROM pg_depend d JOIN pg_namespace s ON s.oid = d.objid
        WHERE d.classid = 'pg_namespace'::regclass AND d.refclassid = 'pg_extension'::regclass
          AND d.refobjid = e.oid AND d.deptype = 'e' ORDER BY 1) AS member_schemas
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    ORDER BY 1`);
  const dependents = await extensionDependents(client);
  return rows.map((row) => ({
    name: row.name,
    version: row.version,
    schema: row.schema,
    ...(row.member_schemas.length > 0 ? { memberSchemas: row.member_schemas } : {}),
    ...(dependents.has(row.name) ? { dependents: dependents.get(row.name)! } : {}),
  }));
}

/**
 * Objects outside an extension that depend on it or on its members (directly: what depends on those is in the
 * archive's own dependencies), as the catalog ids pg_restore --list prints. A view's dependency is its rewrite rule's:
 * it is mapped to the view; a default's or check constraint's also to its table. The members include what belongs to a member internally (a type's array type).
 */
async function extensionDependents(client: pg.Client): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ name: string; catalog: string }>(`
    WITH RECURSIVE members(classid, objid, ext) AS (
      SELECT d.classid, d.objid, d.refobjid FROM pg_depend d
      WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
      UNION
      SELECT d.classid, d.objid, m.ext FROM pg_depend d
      JOIN members m ON d.refclassid = m.classid AND d.refobjid = m.objid
      WHERE d.deptype = 'i'
    ), users AS (
      SELECT m.ext, d.classid, d.objid FROM pg_depend d
      JOIN members m ON d.refclassid = m.classid AND d.refobjid = m.objid
      WHERE d.deptype IN ('n', 'a')
      UNION
      SELECT d.refobjid, d.classid, d.objid FROM pg_depend d
      WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype IN ('n', 'a', 'x')
    ), located AS (
      SELECT u.ext,
        CASE WHEN r.oid IS NOT NULL AND r.rulename = '_RETURN' THEN 'pg_class'::regclass::oid ELSE u.classid END
          AS classid,
        CASE WHEN r.oid IS NOT NULL AND r.rulename = '_RETURN' THEN r.ev_class ELSE u.objid END AS objid
      FROM users u
      LEFT JOIN pg_rewrite r ON u.classid = 'pg_rewrite'::regclass AND r.oid = u.objid
      UNION
      -- Defaults and check constraints are usually part of their table's CREATE TABLE, not entries of their own.
      SELECT u.ext, 'pg_class'::regclass::oid, coalesce(ad.adrelid, con.conrelid)
      FROM users u
      LEFT JOIN pg_attrdef ad ON u.classid = 'pg_attrdef'::regclass AND ad.oid = u.objid
      LEFT JOIN pg_constraint con ON u.classid = 'pg_constraint'::regclass AND con.oid = u.objid
        AND con.contype = 'c' AND con.conrelid <> 0
      WHERE ad.oid IS NOT NULL OR con.oid IS NOT NULL
    )
    SELECT DISTINCT e.extname AS name, l.classid || ' ' || l.objid AS catalog
    FROM located l JOIN pg_extension e ON e.oid = l.ext
    -- plpgsql is part of every PostgreSQL (each function in it would be listed for nothing), and TimescaleDB is
    -- restored only into its own version, never left out.
    WHERE e.extname NOT IN ('plpgsql', 'timescaledb') AND NOT EXISTS (SELECT 1 FROM members x WHERE x.classid = l.classid AND x.objid = l.objid)
    ORDER BY 1, 2`);
  const byExtension = new Map<string, string[]>();
  for (const row of rows) byExtension.set(row.name, [...(byExtension.get(row.name) ?? []), row.catalog]);
  return byExtension;
}
