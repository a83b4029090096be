import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import type { DrillRecord } from '../../actions/lib/postgres/drill.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import {
  embeddedServerBinDir,
  emptyDatabase,
  rowCounts,
  sql,
  startTestCluster,
  type ScratchCluster,
} from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';
import {
  createSupabaseRoles,
  SUPABASE_PASSWORDS,
  SUPABASE_USERS,
  supabaseDatabase,
  tradesSeenBy,
} from '../harness/supabase.ts';

/**
 * A Supabase-shaped database (test/harness/supabase.ts) through the bundles, as the runner runs them: dumped as a
 * role that is no superuser, drilled into clusters that have none of its roles, restored with its owners, grants
 * and policies so RLS works in the copy, and proven identical object by object by validate-integrity.
 */
let source: ScratchCluster;
let bare: ScratchCluster;
let keys: KeyPair;
let work: string;
let project: { url: string; readerUrl: string };
let storage: string;

beforeAll(async () => {
  [source, bare, keys] = await Promise.all([startTestCluster(), startTestCluster(), newKeyPair()]);
  await createSupabaseRoles(source);
  project = await supabaseDatabase(source, 'supabase_project');
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-supabase-'));
  storage = path.join(work, 'backups');
});

afterAll(async () => {
  await Promise.all([source?.stop(), bare?.stop()]);
  if (work) await fs.rm(work, { recursive: true, force: true });
});

function dump(databaseUrl: string, name: string): ReturnType<typeof runAction> {
  return runAction('dump-postgres', {
    'database-url': databaseUrl,
    name,
    'storage-url': storage,
    'encryption-recipients': keys.recipient,
  });
}

function drill(name: string, extra: Record<string, string> = {}): ReturnType<typeof runAction> {
  return runAction('restore-drill', { 'storage-url': storage, name, 'encryption-identity': keys.identity, ...extra });
}

async function manifestOf(name: string, id: string): Promise<Manifest> {
  return JSON.parse(await fs.readFile(path.join(storage, name, id, 'manifest.json'), 'utf8'));
}

/** The newest drill record of a backup. */
async function lastDrill(name: string, id: string): Promise<DrillRecord> {
  const folder = path.join(storage, name, id, 'drills');
  const newest = (await fs.readdir(folder)).sort().at(-1)!;
  return JSON.parse(await fs.readFile(path.join(folder, newest), 'utf8'));
}

/** The stored file decrypted and decompressed with the stock age and zstd, as a person would by hand. */
async function decrypted(file: string): Promise<string> {
  const key = path.join(work, 'identity.txt');
  await fs.writeFile(key, `${keys.identity}\n`, { mode: 0o600 });
  const compressed = execFileSync('age', ['-d', '-i', key, file]);
  return execFileSync('zstd', ['-d', '-c'], { input: compressed }).toString('utf8');
}

async function validate(inputs: Record<string, string>) {
  const reportPath = path.join(work, `report-${Date.now()}-${Math.random()}.json`);
  const run = await runAction('validate-integrity', { 'report-path': reportPath, ...inputs });
  const report: { checks: { name: string; status: string; finding: string; details?: { differences?: string[] } }[] } =
    JSON.parse(await fs.readFile(reportPath, 'utf8'));
  return { ...run, report };
}

describe('a Supabase-shaped database', () => {
  let backupId: string;

  it('dump-postgres, as a role that is no superuser, records the provider, its roles (never a password), extensions, schema owners, grants and policies', async () => {
    const run = await dump(project.readerUrl, 'supabase-prod');
    expect(run.code, run.stdout).toBe(0);
    backupId = run.outputs['backup-id']!;
    const manifest = await manifestOf('supabase-prod', backupId);
    expect(manifest.source.provider).toBe('supabase');
    expect(manifest.files.map((file) => [file.path, file.contents])).toEqual([
      ['postgres.dump.zst.age', 'database'],
      ['roles.sql.zst.age', 'roles'],
    ]);
    // The sha256 output is the dump's, not the roles file's.
    expect(run.outputs.sha256).toBe(manifest.files[0]!.sha256);
    expect(manifest.source.extensions).toContainEqual(
      expect.objectContaining({ name: 'pgcrypto', version: expect.stringMatching(/^\d+\.\d+/), schema: 'extensions' }),
    );
    expect(manifest.source.schemas).toEqual([
      { name: 'auth', owner: 'supabase_admin' },
      { name: 'extensions', owner: 'postgres' },
      { name: 'public', owner: 'pg_database_owner' },
      { name: 'storage', owner: 'supabase_admin' },
    ]);
    expect(manifest.roles).toContainEqual({ name: 'authenticated', reserved: true });
    expect(manifest.roles).toContainEqual({ name: 'supabase_admin', reserved: true });
    expect(manifest.roles).toContainEqual({ name: 'backup_reader', reserved: false });
    expect(manifest.security?.policies).toContainEqual({ schema: 'public', table: 'trades', name: 'own trades' });
    expect(manifest.security?.rls).toContainEqual({ schema: 'public', name: 'trades', forced: false });
    expect(manifest.security?.grants['relation public.trades']).toBe(2);
    expect(manifest.security?.defaultPrivileges).toBe(1);
    expect(run.summary).toMatch(/\| Provider \| supabase \|/);
    expect(run.summary).toContain('9 in the roles file, without passwords (7 reserved by supabase)');
  });

  it('the roles file holds the roles, memberships and settings, and never a password hash (the source has them)', async () => {
    const hashes = await sql<{ rolname: string; rolpassword: string }>(
      source.url,
      'SELECT rolname, rolpassword FROM pg_authid WHERE rolpassword IS NOT NULL ORDER BY 1',
    );
    expect(hashes.map((row) => row.rolname)).toEqual(['authenticator', 'backup_reader', 'supabase_admin']);
    const roles = await decrypted(path.join(storage, 'supabase-prod', backupId, 'roles.sql.zst.age'));
    expect(roles).toContain('CREATE ROLE authenticated;');
    expect(roles).toContain('GRANT authenticated TO authenticator');
    expect(roles).toContain("ALTER ROLE authenticator SET statement_timeout TO '8s';");
    expect(roles).not.toMatch(/SCRAM-SHA-256|md5[0-9a-f]{32}|PASSWORD/i);
    for (const { rolpassword } of hashes) expect(roles).not.toContain(rolpassword.split('$')[2]!.split(':')[0]);
    for (const password of Object.values(SUPABASE_PASSWORDS)) expect(roles).not.toContain(password);
  });

  it('drills green into a throwaway cluster that has none of its roles: roles created, owners, grants and policies restored', async () => {
    const run = await drill('supabase-prod');
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.verified).toBe('true');
    const record = await lastDrill('supabase-prod', backupId);
    expect(record.roles?.created.sort()).toEqual([
      'anon',
      'authenticated',
      'authenticator',
      'backup_reader',
      'service_role',
      'supabase_admin',
      'supabase_auth_admin',
      'supabase_storage_admin',
    ]);
    expect(record.roles?.existing).toEqual(['postgres']);
    expect(record.security).toEqual({
      privileges: true,
      grants: { expected: 25, restored: 25 },
      defaultPrivileges: { expected: 1, restored: 1 },
      schemaOwners: { expected: 4, restored: 4 },
      policies: { expected: 4, restored: 4 },
      rlsTables: { expected: 4, restored: 4 },
      rlsValidation: 'passed',
    });
    expect(record.leftOut).toEqual([]);
    expect(run.summary).toContain('## ✅ verified: restore drill of');
    expect(run.summary).toContain('created anon, authenticated, authenticator');
    expect(run.summary).toContain(
      '| Owners and grants | 25 of 25 grants, 1 of 1 default privileges, 4 of 4 schema owners |',
    );
    expect(run.summary).toContain('| RLS validation | ✅ 4 of 4 tables with row level security, 4 of 4 policies |');
  });

  it('a policy or a grant that does not come back fails the drill, each named, and the RLS validation says so', async () => {
    // The manifest promises more than the archive holds, as if a restore had lost a policy and a grant.
    const folder = path.join(storage, 'supabase-tampered', backupId);
    await fs.cp(path.join(storage, 'supabase-prod', backupId), folder, { recursive: true });
    const manifest = await manifestOf('supabase-tampered', backupId);
    manifest.name = 'supabase-tampered';
    manifest.security!.policies.push({ schema: 'public', table: 'trades', name: 'admins see everything' });
    manifest.security!.grants['relation public.trades'] = 3;
    await fs.writeFile(path.join(folder, 'manifest.json'), JSON.stringify(manifest));

    const run = await drill('supabase-tampered');
    expect(run.code).toBe(1);
    expect(run.outputs.verified).toBe('false');
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toContain('policy "admins see everything" on public.trades: missing after restore');
    expect(run.errors[0]).toContain('grants on relation public.trades: 2 grantees after restore, 3 in the backup');
    expect(run.summary).toContain('| RLS validation | ❌ 4 of 4 tables with row level security, 4 of 5 policies |');
  });

  it('restored into a second real cluster, its RLS works: as authenticated, each user sees only their own trades', async () => {
    const target = await emptyDatabase(bare);
    const run = await drill('supabase-prod', { 'target-url': target });
    expect(run.code, run.stdout).toBe(0);
    for (const user of Object.values(SUPABASE_USERS)) {
      expect(await tradesSeenBy(target, user.id)).toEqual(Array(user.trades).fill(user.id));
    }
    // anon was never granted the table, and the restore granted nothing more.
    await expect(tradesSeenBy(target, SUPABASE_USERS.alice.id, 'anon')).rejects.toThrow(/permission denied/);
    expect(
      await sql(
        target,
        `SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolconfig, a.rolpassword IS NULL AS no_password,
           pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = 'auth.users'::regclass)) AS users_owner
         FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid
         WHERE r.rolname IN ('authenticator', 'supabase_admin') ORDER BY 1`,
      ),
    ).toEqual([
      {
        rolname: 'authenticator',
        rolcanlogin: false,
        rolsuper: false,
        rolconfig: ['statement_timeout=8s'],
        no_password: true,
        users_owner: 'supabase_auth_admin',
      },
      {
        // A superuser in the source owns the event trigger: it stays one (NOLOGIN) where the restore runs as one.
        rolname: 'supabase_admin',
        rolcanlogin: false,
        rolsuper: true,
        rolconfig: null,
        no_password: true,
        users_owner: 'supabase_auth_admin',
      },
    ]);
    expect(await sql(target, "SELECT pg_has_role('authenticator', 'authenticated', 'MEMBER') AS member")).toEqual([
      { member: true },
    ]);

    // Schema parity with the original, object by object, grants and RLS included.
    const checked = await validate({ 'database-url': target, 'compare-url': project.url });
    expect(checked.code, checked.stdout).toBe(0);
    const byName = Object.fromEntries(checked.report.checks.map((check) => [check.name, check]));
    expect(byName.schema).toMatchObject({
      status: 'pass',
      finding: expect.stringContaining('4 functions, 2 triggers'),
    });
    expect(byName['schema: grants']).toMatchObject({ status: 'pass' });
    expect(byName['RLS validation']).toMatchObject({
      status: 'pass',
      finding: 'identical: 4 tables with row level security, 4 policies',
    });
  });

  it('privileges: false restores the rows without owners or grants, and the summary says so', async () => {
    const target = await emptyDatabase(bare);
    const run = await drill('supabase-prod', { 'target-url': target, privileges: 'false' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.summary).toContain('⚠️ not restored (privileges: false): --no-owner --no-acl');
    expect(await rowCounts(target)).toEqual(await rowCounts(project.url));
    expect(
      await sql(target, "SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'auth.users'::regclass"),
    ).toEqual([{ owner: 'postgres' }]);
    await expect(tradesSeenBy(target, SUPABASE_USERS.alice.id)).rejects.toThrow(/permission denied/);
    const record = await lastDrill('supabase-prod', backupId);
    expect(record.security).toMatchObject({ privileges: false, grants: null, rlsValidation: 'passed' });
    // The copy differs from the original exactly there: the grants check says so.
    const checked = await validate({ 'database-url': target, 'compare-url': project.url });
    const grants = checked.report.checks.find((check) => check.name === 'schema: grants')!;
    expect(grants.status).toBe('fail');
    expect(grants.details?.differences).toContainEqual(
      'grants on table public.trades to authenticated: missing in database-url',
    );
  });

  it('a backup made before roles files (no file contents, no roles file) still restores, without owners and grants', async () => {
    const run = await dump(project.url, 'supabase-old');
    expect(run.code, run.stdout).toBe(0);
    const id = run.outputs['backup-id']!;
    const folder = path.join(storage, 'supabase-old', id);
    const manifest = await manifestOf('supabase-old', id);
    const { contents: _, ...dumpFile } = manifest.files[0]!;
    const { roles: _roles, security: _security, ...older } = manifest;
    await fs.writeFile(path.join(folder, 'manifest.json'), JSON.stringify({ ...older, files: [dumpFile] }));
    await fs.rm(path.join(folder, manifest.files[1]!.path));

    // The target has the roles (an earlier restore made them): the policies can name them.
    const target = await emptyDatabase(bare);
    const drilled = await drill('supabase-old', { 'target-url': target });
    expect(drilled.code, drilled.stdout).toBe(0);
    expect(drilled.summary).toContain('⚠️ not restored: this backup has no roles file (made by an older Backstop)');
    expect(await rowCounts(target)).toEqual(await rowCounts(project.url));
  });

  it('a target user that cannot create roles gets one line saying so and what to do; nothing is restored', async () => {
    const fresh = await startTestCluster();
    try {
      await sql(fresh.url, 'CREATE ROLE restorer LOGIN CREATEDB');
      const asPostgres = await emptyDatabase(fresh);
      await sql(asPostgres, 'ALTER SCHEMA public OWNER TO restorer');
      const target = asPostgres.replace('postgres@', 'restorer@');
      const run = await drill('supabase-prod', { 'target-url': target });
      expect(run.code).toBe(1);
      expect(run.errors).toHaveLength(1);
      expect(run.errors[0]).toMatch(
        /Could not create role "anon" on the target \(permission denied to create role\).*Restore as a user with CREATEROLE/,
      );
      expect(await rowCounts(target)).toEqual({});
    } finally {
      await fresh.stop();
    }
  });

  it('the schema check names a dropped policy, a revoked grant, a changed function body and a missing trigger', async () => {
    await sql(source.url, 'CREATE DATABASE supabase_changed TEMPLATE supabase_project');
    const changed = source.urlFor('supabase_changed');
    await sql(
      changed,
      `DROP POLICY "own trades" ON public.trades;
       REVOKE SELECT ON public.profiles FROM authenticated;
       CREATE OR REPLACE FUNCTION public.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RETURN NEW;
       END
       $$;
       DROP TRIGGER on_auth_user_created ON auth.users;`,
    );
    const checked = await validate({ 'database-url': changed, 'compare-url': project.url });
    expect(checked.code).toBe(1);
    const differences = checked.report.checks.flatMap((check) => check.details?.differences ?? []);
    expect(differences).toEqual([
      expect.stringMatching(
        /^function public\.touch_updated_at\(\): body differs \(md5 \w{8}… in database-url, \w{8}… in compare-url\)$/,
      ),
      'trigger on_auth_user_created on auth.users: missing in database-url',
      'grants on table public.profiles to authenticated: missing in database-url',
      'policy "own trades" on public.trades: missing in database-url',
    ]);
    const failing = checked.report.checks.filter((check) => check.status === 'fail').map((check) => check.name);
    expect(failing).toEqual(['schema', 'schema: grants', 'RLS validation']);
    expect(checked.summary).toContain('policy "own trades" on public.trades: missing in database-url');
  });
});

describe('a source with an extension the target lacks', () => {
  it('the drill restores everything else, names each object it left out, and its verdict says so', async () => {
    // adminpack ships with PostgreSQL 15 and was removed in 17: a real extension that a PostgreSQL 18 target
    // cannot install, as a bare server cannot install Supabase's pg_graphql or pg_cron. The function and the view
    // that use it are left out with it; everything else, RLS included, must still restore.
    const newer = await startTestCluster({ binDir: embeddedServerBinDir() });
    try {
      const withAdminpack = await supabaseDatabase(source, 'supabase_adminpack');
      await sql(
        withAdminpack.url,
        `CREATE EXTENSION adminpack;
         CREATE FUNCTION public.write_note(note text) RETURNS bigint LANGUAGE sql
           BEGIN ATOMIC SELECT pg_catalog.pg_file_write('note.txt', note, true); END;
         CREATE VIEW public.notes_written AS SELECT public.write_note('x') AS bytes;`,
      );
      const dumped = await dump(withAdminpack.readerUrl, 'supabase-adminpack');
      expect(dumped.code, dumped.stdout).toBe(0);
      const manifest = await manifestOf('supabase-adminpack', dumped.outputs['backup-id']!);
      expect(manifest.source.extensions?.find((extension) => extension.name === 'adminpack')?.dependents).toHaveLength(
        1,
      );

      const target = await emptyDatabase(newer);
      const run = await drill('supabase-adminpack', { 'target-url': target });
      expect(run.code, run.stdout).toBe(0);
      const record = await lastDrill('supabase-adminpack', dumped.outputs['backup-id']!);
      const leftOut = record.leftOut!.map((item) => item.entry);
      expect(leftOut).toEqual([
        'EXTENSION adminpack',
        'COMMENT EXTENSION adminpack',
        'FUNCTION public.write_note(text)',
        'VIEW public.notes_written',
        'ACL TABLE notes_written in schema public',
      ]);
      expect(record.leftOut!.every((item) => item.extension === 'adminpack')).toBe(true);
      expect(run.summary).toContain('## ✅ verified, 5 provider objects not restorable here: restore drill of');
      expect(run.summary).toContain('- VIEW public.notes_written (needs adminpack)');
      expect(run.stdout).toContain(
        'Left out (needs extension adminpack, not available here): FUNCTION public.write_note(text)',
      );
      expect(run.stdout).toContain('verified, 5 provider objects not restorable here in');
      expect(await tradesSeenBy(target, SUPABASE_USERS.bob.id)).toEqual(
        Array(SUPABASE_USERS.bob.trades).fill(SUPABASE_USERS.bob.id),
      );
      expect(record.security).toMatchObject({ grants: { expected: 25, restored: 25 }, rlsValidation: 'passed' });
    } finally {
      await newer.stop();
    }
  });
});
