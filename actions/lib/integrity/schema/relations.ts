import type pg from 'pg';
import type { SchemaObject } from './objects.ts';
import { notExtensionMember, RELATION_NAME, userSchema } from './scope.ts';

/** Indexes by name, with their definition as the server prints it. */
export async function readIndexes(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{ relation: string; name: string; definition: string }>(`
    SELECT ${RELATION_NAME} AS relation, n.nspname || '.' || ic.relname AS name,
      pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 2`);
  return rows.map((row) => ({
    area: 'schema',
    kind: 'index',
    key: `index ${row.name}`,
    relation: row.relation,
    attributes: { definition: row.definition },
  }));
}

/** Table constraints (primary and unique keys, foreign keys, checks, exclusions), not-null ones being columns'. */
export async function readConstraints(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{ relation: string; name: string; definition: string }>(`
    SELECT ${RELATION_NAME} AS relation, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
    FROM pg_constraint con
    JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE con.contype <> 'n' AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1, 2`);
  return rows.map((row) => ({
    area: 'schema',
    kind: 'constraint',
    key: `constraint ${row.name} on ${row.relation}`,
    relation: row.relation,
    attributes: { definition: row.definition },
  }));
}

/** Views and materialized views, with their definitions. */
export async function readViews(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{ name: string; kind: string; definition: string }>(`
    SELECT ${RELATION_NAME} AS name, c.relkind AS kind, pg_get_viewdef(c.oid, true) AS definition
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1`);
  return rows.map((row) => {
    const kind = row.kind === 'm' ? 'materialized view' : 'view';
    return {
      area: 'schema',
      kind,
      key: `${kind} ${row.name}`,
      relation: row.name,
      attributes: { definition: row.definition },
      long: ['definition'],
    };
  });
}

/** Triggers (not the internal ones that enforce foreign keys), with their definition and whether they fire. */
export async function readTriggers(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{ relation: string; name: string; definition: string; enabled: string }>(`
    SELECT ${RELATION_NAME} AS relation, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition,
      t.tgenabled AS enabled
    FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1, 2`);
  return rows.map((row) => ({
    area: 'schema',
    kind: 'trigger',
    key: `trigger ${row.name} on ${row.relation}`,
    relation: row.relation,
    attributes: {
      definition: row.definition,
      enabled: { O: 'enabled', D: 'disabled', R: 'replica only', A: 'always' }[row.enabled] ?? row.enabled,
    },
  }));
}

/** Sequences: their parameters and where they stand (a restore must not hand out ids that exist). */
export async function readSequences(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<Record<string, string | null> & { name: string }>(`
    SELECT s.schemaname || '.' || s.sequencename AS name, s.data_type::text AS type, s.start_value::text AS start,
      s.increment_by::text AS increment, s.min_value::text AS min, s.max_value::text AS max,
      s.cache_size::text AS cache, s.cycle::text AS cycle, s.last_value::text AS value
    FROM pg_sequences s
    JOIN pg_namespace n ON n.nspname = s.schemaname
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename
    WHERE ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1`);
  return rows.map(({ name, value, ...parameters }) => ({
    area: 'schema',
    kind: 'sequence',
    key: `sequence ${name}`,
    attributes: { ...parameters, value: value ?? 'not used yet' },
  }));
}

/** Extensions and their versions (their own objects are not compared one by one). */
export async function readExtensions(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{ name: string; version: string; schema: string }>(`
    SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1`);
  return rows.map((row) => ({
    area: 'schema',
    kind: 'extension',
    key: `extension ${row.name}`,
    attributes: { version: row.version, schema: row.schema },
  }));
}
