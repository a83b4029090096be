import type pg from 'pg';
import type { SchemaOwner, SecurityInventory } from '../manifest/schema.ts';

/** Objects an extension owns are its own business: CREATE EXTENSION makes them again, grants included. */
const NOT_EXTENSION_MEMBER = (catalog: string, oid: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} ` +
  "AND d.deptype = 'e')";
/** TimescaleDB's chunks take their hypertable's grants: counting them again would only grow the manifest. */
const USER_SCHEMA = (schema: string): string =>
  `${schema} NOT IN ('pg_catalog', 'information_schema') AND ${schema} NOT LIKE 'pg\\_toast%' ` +
  `AND ${schema} NOT LIKE 'pg\\_temp\\_%' AND ${schema} NOT LIKE '\\_timescaledb%'`;

/**
 * Grants (to roles other than the owner: the owner's own are implied), default privileges, row level security and
 * policies: read at backup time in the dump's snapshot, and again in the restored database by a drill.
 */
export async function readSecurityInventory(client: pg.Client): Promise<SecurityInventory> {
  // One query after another: a client runs one at a time anyway (and pg warns about queuing them).
  const grants = await client.query<{ object: string; schema: string; n: string }>(`
      WITH objects AS (
        SELECT 'schema ' || n.nspname AS object, n.nspname AS schema, n.nspacl AS acl, n.nspowner AS owner
        FROM pg_namespace n
        WHERE ${NOT_EXTENSION_MEMBER('pg_namespace', 'n.oid')}
        UNION ALL
        SELECT 'relation ' || n.nspname || '.' || c.relname, n.nspname, c.relacl, c.relowner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
        UNION ALL
        -- As pg_restore --list names functions: argument types only.
        SELECT 'function ' || n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
          n.nspname, p.proacl, p.proowner
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}
      )
      SELECT o.object, count(DISTINCT a.grantee) AS n
      FROM objects o, aclexplode(o.acl) a
      WHERE ${USER_SCHEMA('o.schema')} AND a.grantee <> o.owner
      GROUP BY 1 ORDER BY 1`);
  const defaults = await client.query<{ n: string }>(`
      SELECT count(*) AS n FROM pg_default_acl d, aclexplode(d.defaclacl) a
      WHERE a.grantee <> d.defaclrole`);
  const rls = await client.query<{ schema: string; name: string; forced: boolean }>(`
      SELECT n.nspname AS schema, c.relname AS name, c.relforcerowsecurity AS forced
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relrowsecurity AND ${USER_SCHEMA('n.nspname')} AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
      ORDER BY 1, 2`);
  const policies = await client.query<{ schema: string; table: string; name: string }>(`
      SELECT n.nspname AS schema, c.relname AS table, p.polname AS name
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA('n.nspname')} AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
      ORDER BY 1, 2, 3`);
  return {
    grants: Object.fromEntries(grants.rows.map((row) => [row.object, Number(row.n)])),
    defaultPrivileges: Number(defaults.rows[0]!.n),
    rls: rls.rows,
    policies: policies.rows,
  };
}

/** A restored count next to the backup's. */
export interface Restored {
  expected: number;
  restored: number;
}

/** What a drill found of the backup's privileges and row level security in the restored database. */
export interface SecurityCheck {
  /** Owners and grants were restored (false: --no-owner --no-acl, as asked or for want of a roles file). */
  privileges: boolean;
  /** Grants (not compared without privileges). */
  grants: Restored | null;
  defaultPrivileges: Restored | null;
  /** Schemas whose owner is the backup's. */
  schemaOwners: Restored | null;
  policies: Restored;
  rlsTables: Restored;
  /** The seeds' "RLS validation": every table has row level security as in the backup, with every policy. */
  rlsValidation: 'passed' | 'failed';
}

export interface SecurityExpectation {
  inventory: SecurityInventory;
  schemas: SchemaOwner[];
  privileges: boolean;
  /** Left out of the restore (a missing extension's): not expected. */
  skipSchemas: ReadonlySet<string>;
  skipTables: ReadonlySet<string>;
  /** Grants on an object that was left out (`relation public.logs`, `function public.f(text)`): not expected. */
  skipGrantsOn: (object: string) => boolean;
}

/** Compares the restored database's privileges and RLS with the backup's; every difference becomes a problem. */
export async function checkRestoredSecurity(
  client: pg.Client,
  expectation: SecurityExpectation,
): Promise<{ check: SecurityCheck; problems: string[] }> {
  const actual = await readSecurityInventory(client);
  const problems: string[] = [];
  const rls = checkRls(expectation, actual, problems);
  const privileges = expectation.privileges
    ? {
        grants: checkGrants(expectation, actual, problems),
        defaultPrivileges: checkDefaultPrivileges(expectation, actual, problems),
        schemaOwners: await checkSchemaOwners(client, expectation, problems),
      }
    : { grants: null, defaultPrivileges: null, schemaOwners: null };
  return { check: { privileges: expectation.privileges, ...privileges, ...rls }, problems };
}

/** The seeds' RLS validation: every table's row level security (enabled, forced) and every policy, by name. */
function checkRls(
  expectation: SecurityExpectation,
  actual: SecurityInventory,
  problems: string[],
): Pick<SecurityCheck, 'policies' | 'rlsTables' | 'rlsValidation'> {
  const kept = (schema: string, table: string): boolean =>
    !expectation.skipSchemas.has(schema) && !expectation.skipTables.has(`${schema}.${table}`);
  const tables = expectation.inventory.rls.filter((table) => kept(table.schema, table.name));
  const restoredTables = new Map(actual.rls.map((table) => [`${table.schema}.${table.name}`, table]));
  let tablesRestored = 0;
  for (const table of tables) {
    const found = restoredTables.get(`${table.schema}.${table.name}`);
    if (!found) problems.push(`${table.schema}.${table.name}: row level security is not enabled after restore`);
    else if (table.forced && !found.forced) {
      problems.push(`${table.schema}.${table.name}: row level security is not forced after restore`);
    } else tablesRestored += 1;
  }
  const policies = expectation.inventory.policies.filter((policy) => kept(policy.schema, policy.table));
  const restoredPolicies = new Set(actual.policies.map(policyKey));
  const missing = policies.filter((policy) => !restoredPolicies.has(policyKey(policy)));
  for (const policy of missing) {
    problems.push(`policy "${policy.name}" on ${policy.schema}.${policy.table}: missing after restore`);
  }
  return {
    policies: { expected: policies.length, restored: policies.length - missing.length },
    rlsTables: { expected: tables.length, restored: tablesRestored },
    rlsValidation: tablesRestored === tables.length && missing.length === 0 ? 'passed' : 'failed',
  };
}

/** Per object, as many grantees as in the backup (objects that were left out are not expected). */
function checkGrants(expectation: SecurityExpectation, actual: SecurityInventory, problems: string[]): Restored {
  const grants = { expected: 0, restored: 0 };
  for (const [object, count] of Object.entries(expectation.inventory.grants)) {
    if (expectation.skipGrantsOn(object)) continue;
    const restored = actual.grants[object] ?? 0;
    grants.expected += count;
    grants.restored += Math.min(restored, count);
    if (restored !== count)
      problems.push(`grants on ${object}: ${restored} grantees after restore, ${count} in the backup`);
  }
  return grants;
}

function checkDefaultPrivileges(
  expectation: SecurityExpectation,
  actual: SecurityInventory,
  problems: string[],
): Restored {
  const expected = expectation.inventory.defaultPrivileges;
  if (actual.defaultPrivileges !== expected) {
    problems.push(`default privileges: ${actual.defaultPrivileges} after restore, ${expected} in the backup`);
  }
  return { expected, restored: actual.defaultPrivileges };
}

function policyKey(policy: { schema: string; table: string; name: string }): string {
  return JSON.stringify([policy.schema, policy.table, policy.name]);
}

/** The schemas pg_restore made (an extension's own schemas belong to whoever created the extension here). */
async function checkSchemaOwners(
  client: pg.Client,
  expectation: SecurityExpectation,
  problems: string[],
): Promise<Restored> {
  const { rows } = await client.query<SchemaOwner>(
    'SELECT nspname AS name, pg_get_userbyid(nspowner) AS owner FROM pg_namespace',
  );
  const owners = new Map(rows.map((row) => [row.name, row.owner]));
  const schemas = expectation.schemas.filter((schema) => !expectation.skipSchemas.has(schema.name));
  let restored = 0;
  for (const schema of schemas) {
    const owner = owners.get(schema.name);
    if (owner === schema.owner) restored += 1;
    else if (owner === undefined) problems.push(`schema ${schema.name}: missing after restore`);
    else problems.push(`schema ${schema.name}: owned by ${owner} after restore, by ${schema.owner} in the backup`);
  }
  return { expected: schemas.length, restored };
}
