import type pg from 'pg';
import type { SchemaOwner } from '../manifest/schema.ts';

/**
 * Supabase, recognised by what every project has: its API roles and the admin role, and the schemas of its Auth
 * and Storage services. A database that only looks a little like it (PostgREST's anon and authenticated on a
 * self-hosted server) is not taken for it.
 */
const SUPABASE_ROLES = ['anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin'];
const SUPABASE_SCHEMAS = ['auth', 'storage'];

/**
 * Roles Supabase creates and manages in every project. They are recorded with the backup; where a target already
 * has one (a Supabase project, the supabase/postgres image) it is never altered.
 */
const SUPABASE_RESERVED_ROLES = new Set([
  ...SUPABASE_ROLES,
  'dashboard_user',
  'pgbouncer',
  'pgsodium_keyholder',
  'pgsodium_keyiduser',
  'pgsodium_keymaker',
  'supabase_auth_admin',
  'supabase_etl_admin',
  'supabase_functions_admin',
  'supabase_read_only_user',
  'supabase_realtime_admin',
  'supabase_replication_admin',
  'supabase_storage_admin',
]);

export type Provider = 'supabase';

export function detectProvider(schemas: readonly SchemaOwner[], roles: readonly string[]): Provider | undefined {
  const schemaNames = new Set(schemas.map((schema) => schema.name));
  const roleNames = new Set(roles);
  const supabase =
    SUPABASE_ROLES.every((role) => roleNames.has(role)) && SUPABASE_SCHEMAS.every((schema) => schemaNames.has(schema));
  return supabase ? 'supabase' : undefined;
}

export function isReservedRole(provider: Provider | undefined, role: string): boolean {
  return provider === 'supabase' && SUPABASE_RESERVED_ROLES.has(role);
}

/** Every schema but PostgreSQL's own, with its owner. */
export async function listSchemaOwners(client: pg.Client): Promise<SchemaOwner[]> {
  const { rows } = await client.query<SchemaOwner>(`
    SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
      AND n.nspname NOT LIKE 'pg\\_temp\\_%'
    ORDER BY 1`);
  return rows;
}
