import { describe, expect, it } from 'vitest';
import type { Extension } from '../../actions/lib/manifest/schema.ts';
import {
  describeEntry,
  entriesToLeaveOut,
  parseTocListing,
  useListOf,
} from '../../actions/lib/postgres/restore-list.ts';
import { checkLeftOutTables, drillVerdict, type RestorePlan } from '../../actions/lib/postgres/restore-plan.ts';

/**
 * A Supabase project's table of contents as `pg_restore --list --verbose` prints it (the shape of real entries,
 * trimmed): provider extensions (pg_cron, pg_graphql, supabase_vault, pgsodium), the data and grants in the schemas
 * they create, a user view over vault.decrypted_secrets, a pgsodium security label, and the user's own objects.
 */
const LISTING = `;
; Archive created at 2026-01-18 03:00:02 UTC
;     dbname: postgres
;
; Selected TOC Entries:
;
4001; 0 0 ENCODING - ENCODING 
4002; 0 0 STDSTRINGS - STDSTRINGS 
12; 2615 16390 SCHEMA - auth supabase_admin
13; 2615 16400 SCHEMA - extensions postgres
14; 2615 16410 SCHEMA - graphql_public supabase_admin
4004; 0 0 ACL - SCHEMA graphql supabase_admin
4005; 0 0 ACL - SCHEMA cron supabase_admin
5; 3079 16420 EXTENSION - pg_cron 
4006; 0 0 COMMENT - EXTENSION pg_cron 
;\tdepends on: 5
6; 3079 16430 EXTENSION - pg_graphql 
4007; 0 0 COMMENT - EXTENSION pg_graphql 
;\tdepends on: 6
7; 3079 16440 EXTENSION - pgcrypto 
;\tdepends on: 13
8; 3079 16450 EXTENSION - supabase_vault 
;\tdepends on: 7
300; 1255 16500 FUNCTION graphql_public graphql(text, text, jsonb, jsonb) supabase_admin
;\tdepends on: 14
310; 1255 16810 FUNCTION extensions grant_pg_cron_access() supabase_admin
;\tdepends on: 13
301; 1259 16510 TABLE public trades postgres
302; 1259 16520 VIEW public secrets_in_use postgres
4008; 0 0 ACL public TABLE secrets_in_use postgres
;\tdepends on: 302
4009; 0 16510 TABLE DATA public trades postgres
;\tdepends on: 301
4010; 0 16600 TABLE DATA cron job supabase_admin
4011; 0 0 SEQUENCE SET cron jobid_seq supabase_admin
4012; 0 16700 TABLE DATA vault secrets supabase_admin
4013; 0 0 SECURITY LABEL public COLUMN profiles.ssn postgres
4014; 3466 16800 EVENT TRIGGER - issue_pg_cron_access supabase_admin
;\tdepends on: 310
4015; 0 0 ACL cron TABLE job supabase_admin
`;

const MISSING: Extension[] = [
  { name: 'pg_cron', version: '1.6', memberSchemas: ['cron'] },
  { name: 'pg_graphql', version: '1.5.11', memberSchemas: ['graphql'] },
  { name: 'supabase_vault', version: '0.3.1', memberSchemas: ['vault'], dependents: ['1259 16520'] },
  { name: 'pgsodium', version: '3.1.8', memberSchemas: ['pgsodium'] },
];

describe("what a target without the provider's extensions can take", () => {
  const entries = parseTocListing(LISTING);
  const leftOut = entriesToLeaveOut(entries, MISSING);

  it('reads every entry with its kind, schema and dependencies', () => {
    expect(entries).toHaveLength(25);
    expect(entries.find((entry) => entry.id === 4009)).toMatchObject({
      catalog: '0 16510',
      desc: 'TABLE DATA',
      namespace: 'public',
      rest: 'trades postgres',
      dependsOn: [301],
    });
    expect(entries.find((entry) => entry.id === 4013)).toMatchObject({ desc: 'SECURITY LABEL', namespace: 'public' });
  });

  it('leaves out the extensions, what is in their schemas, their users and what depends on those, each with why', () => {
    expect(leftOut.map(({ entry, extension }) => [describeEntry(entry), extension])).toEqual([
      ['ACL SCHEMA graphql', 'pg_graphql'],
      ['ACL SCHEMA cron', 'pg_cron'],
      ['EXTENSION pg_cron', 'pg_cron'],
      ['COMMENT EXTENSION pg_cron', 'pg_cron'],
      ['EXTENSION pg_graphql', 'pg_graphql'],
      ['COMMENT EXTENSION pg_graphql', 'pg_graphql'],
      ['EXTENSION supabase_vault', 'supabase_vault'],
      ['VIEW public.secrets_in_use', 'supabase_vault'],
      ['ACL TABLE secrets_in_use in schema public', 'supabase_vault'],
      ['TABLE DATA cron.job', 'pg_cron'],
      ['SEQUENCE SET cron.jobid_seq', 'pg_cron'],
      ['TABLE DATA vault.secrets', 'supabase_vault'],
      ['SECURITY LABEL COLUMN profiles.ssn in schema public', 'pgsodium'],
      ['ACL TABLE job in schema cron', 'pg_cron'],
    ]);
  });

  it("keeps the user's objects and the provider's plain SQL around the extensions (their bodies are not checked)", () => {
    const kept = entries.filter((entry) => !leftOut.some((item) => item.entry.id === entry.id)).map(describeEntry);
    expect(kept).toEqual([
      'ENCODING ENCODING',
      'STDSTRINGS STDSTRINGS',
      'SCHEMA auth',
      'SCHEMA extensions',
      'SCHEMA graphql_public',
      'EXTENSION pgcrypto',
      'FUNCTION graphql_public.graphql(text, text, jsonb, jsonb)',
      'FUNCTION extensions.grant_pg_cron_access()',
      'TABLE public.trades',
      'TABLE DATA public.trades',
      'EVENT TRIGGER issue_pg_cron_access',
    ]);
  });

  it('the use-list comments out exactly the left-out entries and keeps the order', () => {
    const lines = useListOf(LISTING, leftOut).split('\n');
    expect(lines.filter((line) => /^;\d/.test(line))).toHaveLength(leftOut.length);
    expect(lines).toContain(';4010; 0 16600 TABLE DATA cron job supabase_admin');
    expect(lines).toContain('4009; 0 16510 TABLE DATA public trades postgres');
    expect(lines.map((line) => line.replace(/^;(?=\d)/, ''))).toEqual(LISTING.split('\n'));
  });

  it('nothing is left out when nothing is missing', () => {
    expect(entriesToLeaveOut(entries, [])).toEqual([]);
  });
});

describe('row checks and the verdict', () => {
  const listing = `201; 1259 16500 TABLE cron job supabase_admin
4010; 0 16500 TABLE DATA cron job supabase_admin
;\tdepends on: 201
202; 1259 16600 TABLE public places postgres
4011; 0 16600 TABLE DATA public places postgres
;\tdepends on: 202
`;
  const missing: Extension[] = [
    { name: 'pg_cron', version: '1.6', memberSchemas: ['cron'] },
    { name: 'postgis', version: '3.3.7', dependents: ['1259 16600'] },
  ];
  const plan = {
    leftOut: entriesToLeaveOut(parseTocListing(listing), missing),
    missing,
  } as RestorePlan;

  it("a provider's own table is left out of the row checks; a user table that needs the extension fails the drill", () => {
    const tables = [
      { schema: 'cron', name: 'job', expected: 2, actual: null },
      { schema: 'public', name: 'places', expected: 1200, actual: null },
      { schema: 'public', name: 'trades', expected: 6, actual: 6 },
    ];
    expect(checkLeftOutTables(tables, plan)).toEqual({
      tables: [{ schema: 'public', name: 'trades', expected: 6, actual: 6 }],
      problems: [
        'public.places: not restored, it needs extension postgis, which the target lacks (1,200 rows in the backup)',
      ],
    });
  });

  it('never pretends full fidelity', () => {
    expect(drillVerdict({ verified: true })).toBe('verified');
    expect(drillVerdict({ verified: true, leftOut: [] })).toBe('verified');
    expect(drillVerdict({ verified: true, leftOut: [{ entry: 'EXTENSION pg_cron', extension: 'pg_cron' }] })).toBe(
      'verified, 1 provider object not restorable here',
    );
    const three = Array.from({ length: 3 }, () => ({ entry: 'x', extension: 'pg_cron' }));
    expect(drillVerdict({ verified: true, leftOut: three })).toBe('verified, 3 provider objects not restorable here');
    expect(drillVerdict({ verified: false, leftOut: three })).toBe('not verified');
  });
});
