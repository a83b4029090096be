import pg from 'pg';
import { sql, type ScratchCluster } from './postgres.ts';

/**
 * A Supabase-shaped database built from SQL, as a project looks from its `postgres` connection: the provider's
 * roles (anon, authenticated, service_role, authenticator, supabase_admin and the service admins), the `auth`
 * schema with auth.users and auth.uid() reading request.jwt.claim.sub, `storage` with buckets and objects under
 * RLS, `extensions` with pgcrypto, and the user's public.trades under RLS with the policy "own trades" TO
 * authenticated, grants to the API roles, a default privilege, triggers, a security-definer function and
 * Supabase's event trigger owned by supabase_admin (a superuser, as on Supabase).
 */

/** Roles with passwords: their hashes are in the source's pg_authid and must never reach a roles file. */
export const SUPABASE_PASSWORDS = {
  authenticator: 'Authenticator-Pw-7f3a91',
  supabase_admin: 'Admin-Pw-c0ffee42',
  backup_reader: 'Reader-Pw-5ec0de11',
} as const;

/** The users and how many trades each has: RLS must show each user exactly theirs. */
export const SUPABASE_USERS = {
  alice: { id: '11111111-1111-4111-8111-111111111111', trades: 3 },
  bob: { id: '22222222-2222-4222-8222-222222222222', trades: 2 },
  carol: { id: '33333333-3333-4333-8333-333333333333', trades: 1 },
} as const;

/** The provider's roles, once per cluster (roles are cluster-wide). */
export function supabaseRolesSql(): string {
  const pw = SUPABASE_PASSWORDS;
  return `
CREATE ROLE anon NOLOGIN NOINHERIT;
CREATE ROLE authenticated NOLOGIN NOINHERIT;
CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
CREATE ROLE authenticator LOGIN NOINHERIT PASSWORD '${pw.authenticator}';
CREATE ROLE supabase_admin LOGIN SUPERUSER CREATEROLE CREATEDB REPLICATION BYPASSRLS PASSWORD '${pw.supabase_admin}';
CREATE ROLE supabase_auth_admin NOLOGIN NOINHERIT CREATEROLE;
CREATE ROLE supabase_storage_admin NOLOGIN NOINHERIT CREATEROLE;
GRANT anon, authenticated, service_role TO authenticator;
GRANT authenticated TO supabase_storage_admin;
ALTER ROLE authenticator SET statement_timeout TO '8s';
ALTER ROLE anon SET statement_timeout TO '3s';
-- What the backups connect as: no superuser (Supabase's postgres role is none), but it reads everything and is not
-- filtered by RLS, as pg_dump requires.
CREATE ROLE backup_reader LOGIN BYPASSRLS PASSWORD '${pw.backup_reader}';
GRANT pg_read_all_data TO backup_reader;`;
}

/** The project's database objects and rows (run as a superuser, in a database of a cluster with the roles). */
export function supabaseDatabaseSql(): string {
  const { alice, bob, carol } = SUPABASE_USERS;
  return `
CREATE SCHEMA extensions;
CREATE EXTENSION pgcrypto WITH SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO anon, authenticated, service_role;

CREATE SCHEMA auth AUTHORIZATION supabase_admin;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin;
CREATE TABLE auth.users (
  id uuid PRIMARY KEY,
  email text UNIQUE,
  raw_user_meta_data jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE auth.users OWNER TO supabase_auth_admin;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin;

CREATE SCHEMA storage AUTHORIZATION supabase_admin;
GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin;
CREATE TABLE storage.buckets (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  owner uuid REFERENCES auth.users (id),
  public boolean NOT NULL DEFAULT false
);
CREATE TABLE storage.objects (
  id uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  bucket_id text REFERENCES storage.buckets (id),
  name text NOT NULL,
  owner uuid,
  metadata jsonb
);
ALTER TABLE storage.buckets OWNER TO supabase_storage_admin;
ALTER TABLE storage.objects OWNER TO supabase_storage_admin;
ALTER TABLE storage.buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
CREATE POLICY "public buckets are readable" ON storage.buckets FOR SELECT TO anon, authenticated USING (public);
CREATE POLICY "own objects" ON storage.objects FOR ALL TO authenticated
  USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
GRANT ALL ON storage.buckets, storage.objects TO anon, authenticated, service_role;

CREATE TABLE public.profiles (
  id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  display_name text,
  updated_at timestamptz
);
CREATE TABLE public.trades (
  id uuid PRIMARY KEY DEFAULT extensions.gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES auth.users (id),
  symbol text NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  quantity numeric(20,8) NOT NULL,
  price numeric(20,8) NOT NULL,
  opened_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.trades ENABLE ROW LEVEL SECURITY;
CREATE POLICY "own trades" ON public.trades FOR ALL TO authenticated
  USING (auth.uid() = user_id) WITH CHECK (auth.uid() = user_id);
ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY;
CREATE POLICY "own profile" ON public.profiles FOR SELECT TO authenticated USING (auth.uid() = id);
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.trades TO authenticated;
GRANT SELECT ON public.profiles TO authenticated;
GRANT ALL ON public.trades, public.profiles TO service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO authenticated;

CREATE FUNCTION public.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
CREATE TRIGGER trades_touch BEFORE UPDATE ON public.trades FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

-- Supabase's classic pattern: a SECURITY DEFINER function that makes a profile for every new auth user.
CREATE FUNCTION public.handle_new_user() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  INSERT INTO public.profiles (id, display_name) VALUES (NEW.id, NEW.raw_user_meta_data ->> 'name');
  RETURN NEW;
END
$$;
CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users
  FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();

-- PostgREST's schema reload, as Supabase installs it: an event trigger owned by supabase_admin.
CREATE FUNCTION extensions.pgrst_ddl_watch() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pgrst', 'reload schema');
END
$$;
ALTER FUNCTION extensions.pgrst_ddl_watch() OWNER TO supabase_admin;
CREATE EVENT TRIGGER pgrst_ddl_watch ON ddl_command_end EXECUTE FUNCTION extensions.pgrst_ddl_watch();
ALTER EVENT TRIGGER pgrst_ddl_watch OWNER TO supabase_admin;

INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES
  ('${alice.id}', 'alice@example.com', '{"name": "Alice"}'),
  ('${bob.id}', 'bob@example.com', '{"name": "Bob"}'),
  ('${carol.id}', 'carol@example.com', '{"name": "Carol"}');
INSERT INTO public.trades (user_id, symbol, side, quantity, price, opened_at)
SELECT u.id, 'ES', CASE WHEN i % 2 = 0 THEN 'buy' ELSE 'sell' END, i, 5000 + i,
  timestamptz '2026-01-05 14:30:00+00' + i * interval '1 hour'
FROM (VALUES ('${alice.id}'::uuid, ${alice.trades}), ('${bob.id}'::uuid, ${bob.trades}),
  ('${carol.id}'::uuid, ${carol.trades})) AS u (id, n), generate_series(1, u.n) AS i;
INSERT INTO storage.buckets (id, name, owner, public) VALUES ('avatars', 'avatars', '${alice.id}', true);
INSERT INTO storage.objects (bucket_id, name, owner) VALUES
  ('avatars', 'alice.png', '${alice.id}'), ('avatars', 'bob.png', '${bob.id}');`;
}

/** Creates the provider's roles in the cluster (once). */
export async function createSupabaseRoles(cluster: ScratchCluster): Promise<void> {
  await sql(cluster.url, supabaseRolesSql());
}

/** A new Supabase-shaped database; returns its URL as the superuser and as backup_reader (no superuser). */
export async function supabaseDatabase(
  cluster: ScratchCluster,
  name: string,
): Promise<{ url: string; readerUrl: string }> {
  await sql(cluster.url, `CREATE DATABASE ${name}`);
  const url = cluster.urlFor(name);
  await sql(url, supabaseDatabaseSql());
  const readerUrl = url.replace('postgres@', `backup_reader:${SUPABASE_PASSWORDS.backup_reader}@`);
  return { url, readerUrl };
}

/**
 * The trades a request of the given user sees through the API: as `authenticated` with request.jwt.claim.sub set,
 * as PostgREST sets them, in one transaction.
 */
export async function tradesSeenBy(url: string, userId: string, role = 'authenticated'): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL ROLE ${role}`);
    await client.query("SELECT set_config('request.jwt.claim.sub', $1, true)", [userId]);
    const { rows } = await client.query<{ user_id: string }>('SELECT user_id FROM public.trades ORDER BY user_id');
    return rows.map((row) => row.user_id);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}
