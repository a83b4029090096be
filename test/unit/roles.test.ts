import { describe, expect, it } from 'vitest';
import { parseRolesFile, splitStatements } from '../../actions/lib/postgres/roles.ts';
import { detectProvider, isReservedRole } from '../../actions/lib/postgres/supabase.ts';

/** What pg_dumpall 15.20 --roles-only --no-role-passwords printed for a Supabase-like cluster (verbatim). */
const PG15_ROLES = `--
-- PostgreSQL database cluster dump
--

\\restrict 4Ntl1XwIqRYo5iGIW39rrARw9lAKlpP5YfkS8IPSUepmgfqDDy1WMQh5UbXIMoj

SET default_transaction_read_only = off;

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

--
-- Roles
--

CREATE ROLE anon;
ALTER ROLE anon WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE authenticator;
ALTER ROLE authenticator WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;

--
-- User Configurations
--

--
-- User Config "authenticator"
--

ALTER ROLE authenticator SET statement_timeout TO '8s';


--
-- Role memberships
--

GRANT anon TO authenticator GRANTED BY postgres;

\\unrestrict 4Ntl1XwIqRYo5iGIW39rrARw9lAKlpP5YfkS8IPSUepmgfqDDy1WMQh5UbXIMoj

--
-- PostgreSQL database cluster dump complete
--
`;

/** PostgreSQL 16+ writes membership options, quotes odd names, and may hold a comment with a semicolon in it. */
const PG17_ROLES = `CREATE ROLE "Odd ""Name""";
ALTER ROLE "Odd ""Name""" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 5 VALID UNTIL '2030-01-01 00:00:00+00';
COMMENT ON ROLE "Odd ""Name""" IS 'one; two
three';
CREATE ROLE service_role;
ALTER ROLE service_role WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION BYPASSRLS;
ALTER ROLE service_role IN DATABASE app SET search_path TO 'public', 'extensions';
GRANT service_role TO "Odd ""Name""" WITH ADMIN OPTION, INHERIT FALSE, SET FALSE GRANTED BY supabase_admin;
GRANT SET ON PARAMETER log_statement TO service_role;
`;

describe('the roles file', () => {
  it('reads pg_dumpall 15: roles, their attributes, settings and memberships; comments and \\restrict skipped', () => {
    expect(parseRolesFile(PG15_ROLES)).toEqual([
      {
        name: 'anon',
        attributes: [
          'NOSUPERUSER',
          'NOINHERIT',
          'NOCREATEROLE',
          'NOCREATEDB',
          'NOLOGIN',
          'NOREPLICATION',
          'NOBYPASSRLS',
        ],
        memberOf: [],
        settings: [],
      },
      {
        name: 'authenticator',
        attributes: ['NOSUPERUSER', 'NOINHERIT', 'NOCREATEROLE', 'NOCREATEDB', 'LOGIN', 'NOREPLICATION', 'NOBYPASSRLS'],
        memberOf: [{ role: 'anon', options: [] }],
        settings: [{ database: null, setting: "statement_timeout TO '8s'" }],
      },
      {
        name: 'postgres',
        attributes: ['SUPERUSER', 'INHERIT', 'CREATEROLE', 'CREATEDB', 'LOGIN', 'REPLICATION', 'BYPASSRLS'],
        memberOf: [],
        settings: [],
      },
    ]);
  });

  it('reads 16+ memberships (INHERIT and SET kept, ADMIN OPTION never), quoted names and per-database settings', () => {
    const roles = parseRolesFile(PG17_ROLES);
    expect(roles.map((role) => role.name)).toEqual(['Odd "Name"', 'service_role']);
    expect(roles[0]!.attributes).toEqual([
      'NOSUPERUSER',
      'INHERIT',
      'NOCREATEROLE',
      'NOCREATEDB',
      'LOGIN',
      'NOREPLICATION',
      'NOBYPASSRLS',
    ]);
    expect(roles[0]!.memberOf).toEqual([{ role: 'service_role', options: ['INHERIT FALSE', 'SET FALSE'] }]);
    expect(roles[1]!.settings).toEqual([{ database: 'app', setting: "search_path TO 'public', 'extensions'" }]);
  });

  it('splits statements at semicolons outside quotes only', () => {
    expect(splitStatements('COMMENT ON ROLE a IS \'x; y\';\nCREATE ROLE "b;c";\n-- a comment;\n')).toEqual([
      "COMMENT ON ROLE a IS 'x; y'",
      'CREATE ROLE "b;c"',
    ]);
  });
});

describe('provider', () => {
  const schemas = ['auth', 'storage', 'extensions', 'public'].map((name) => ({ name, owner: 'supabase_admin' }));
  const roles = ['anon', 'authenticated', 'service_role', 'authenticator', 'supabase_admin', 'postgres'];

  it('Supabase is its API and admin roles with its auth and storage schemas', () => {
    expect(detectProvider(schemas, roles)).toBe('supabase');
  });

  it('a PostgREST-only server (anon and authenticated, no supabase_admin) or one without storage is not Supabase', () => {
    expect(
      detectProvider(
        schemas,
        roles.filter((role) => role !== 'supabase_admin'),
      ),
    ).toBeUndefined();
    expect(
      detectProvider(
        schemas.filter((schema) => schema.name !== 'storage'),
        roles,
      ),
    ).toBeUndefined();
  });

  it("Supabase's reserved roles, and none elsewhere", () => {
    expect(isReservedRole('supabase', 'authenticated')).toBe(true);
    expect(isReservedRole('supabase', 'supabase_storage_admin')).toBe(true);
    expect(isReservedRole('supabase', 'app_user')).toBe(false);
    expect(isReservedRole(undefined, 'authenticated')).toBe(false);
  });
});
