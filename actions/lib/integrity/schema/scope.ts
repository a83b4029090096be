/**
 * What the schema check looks at: every schema but PostgreSQL's own, TimescaleDB's internals (the timescaledb
 * check covers them) and Backstop's ledger, and no object an extension owns (compared as the extension's version).
 */
export function userSchema(namespace: string): string {
  return (
    `${namespace}.nspname NOT IN ('pg_catalog', 'information_schema', 'backstop', 'timescaledb_information', ` +
    `'timescaledb_experimental') AND ${namespace}.nspname NOT LIKE 'pg\\_toast%' AND ${namespace}.nspname NOT LIKE ` +
    `'pg\\_temp\\_%' AND ${namespace}.nspname NOT LIKE '\\_timescaledb%'`
  );
}

export function notExtensionMember(catalog: string, oid: string): string {
  return (
    `NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass AND dep.objid = ${oid} ` +
    "AND dep.deptype = 'e')"
  );
}

/** A table's name as keys spell it: schema.name, unquoted (people read it; it is never run). */
export const RELATION_NAME = "n.nspname || '.' || c.relname";
