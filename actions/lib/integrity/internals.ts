/**
 * SQL conditions that keep the checks on the user's own tables, never on what an extension or TimescaleDB keeps for
 * itself: an extension's schemas (TimescaleDB's _timescaledb_catalog, _timescaledb_config, _timescaledb_internal,
 * timescaledb_information, …) and tables, and inheritance children (a hypertable's chunks, wherever they live, and
 * old-style partitions): their rows are read, compared and checked through the parent table.
 * Each takes the alias of a pg_namespace or pg_class row.
 */
export function extensionSchema(namespace: string): string {
  return (
    `EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = ${namespace}.oid ` +
    `AND d.deptype = 'e')`
  );
}

export function extensionTable(relation: string): string {
  return (
    `EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = ${relation}.oid ` +
    `AND d.deptype = 'e')`
  );
}

export function inheritanceChild(relation: string): string {
  return `(${relation}.relispartition OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = ${relation}.oid))`;
}

/** System schemas, and TimescaleDB's by name (older versions did not mark them all as the extension's). */
export function systemSchema(namespace: string): string {
  return (
    `(${namespace}.nspname IN ('pg_catalog', 'information_schema') OR ${namespace}.nspname LIKE 'pg\\_%' ` +
    `OR ${namespace}.nspname LIKE '\\_timescaledb%')`
  );
}
