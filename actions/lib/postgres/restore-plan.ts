import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { formatCount } from '../format.ts';
import { onInterrupt } from '../interrupt.ts';
import type { Extension, Manifest } from '../manifest/schema.ts';
import {
  describeEntry,
  entriesToLeaveOut,
  entryName,
  parseTocListing,
  useListOf,
  type LeftOutEntry,
  type TocEntry,
} from './restore-list.ts';
import { fetchRolesFile, readTocListing, type RestoreOptions, type RestoreSelection } from './restore.ts';
import { createMissingRoles, parseRolesFile, type RolesRestored } from './roles.ts';
import { checkRestoredSecurity, type SecurityCheck } from './security.ts';

/** Extensions a restore never needs to leave out: plpgsql is everywhere, TimescaleDB is checked on its own. */
const ALWAYS_THERE = new Set(['plpgsql', 'timescaledb']);

/** One object a target could not take, for the drill record and the summary. */
export interface LeftOutObject {
  /** e.g. `TABLE DATA cron.job`, `EXTENSION pg_graphql`. */
  entry: string;
  /** The extension it needs, which the target lacks. */
  extension: string;
}

export interface RestorePlan {
  selection: RestoreSelection;
  /** Why owners and grants are not restored: asked for, or a backup made before roles files. */
  withoutPrivileges?: 'asked' | 'no roles file';
  roles: RolesRestored | null;
  leftOut: LeftOutEntry[];
  /** The source's extensions this target does not have. */
  missing: Extension[];
  /** Removes the use-list file. */
  cleanup: () => Promise<void>;
}

export interface PlanOptions extends RestoreOptions {
  /** Restore owners and grants (the roles are created first). */
  privileges: boolean;
}

/**
 * Before pg_restore: the roles the target lacks are created from the backup's roles file (without one, an older
 * backup restores without owners and grants), and when the target lacks an extension of the source, the archive's
 * table of contents is read to leave out what needs it (the archive is then read twice).
 */
export async function planRestore(client: pg.Client, options: PlanOptions): Promise<RestorePlan> {
  const { manifest } = options.found;
  const rolesFile = await fetchRolesFile(options);
  const roles = rolesFile
    ? await createMissingRoles(client, parseRolesFile(rolesFile), {
        sourceDatabase: manifest.source.database,
        log: options.log,
      })
    : null;
  if (roles) {
    options.log(
      `Roles: ${roles.inBackup} in the backup, ${roles.created.length} created, ${roles.existing.length} already ` +
        'there (left as they are)',
    );
  }
  const withoutPrivileges = !options.privileges ? 'asked' : rolesFile === undefined ? 'no roles file' : undefined;
  if (withoutPrivileges === 'no roles file') {
    options.log('This backup has no roles file (an older Backstop made it): restoring without owners and grants.');
  } else if (withoutPrivileges) options.log('Restoring without owners and grants (--no-owner --no-acl), as asked.');

  const missing = await missingExtensions(client, manifest);
  const plan: RestorePlan = {
    selection: { privileges: withoutPrivileges === undefined },
    withoutPrivileges,
    roles,
    leftOut: [],
    missing,
    cleanup: async () => undefined,
  };
  if (missing.length === 0) return plan;

  options.log(
    `The target lacks ${missing.map((extension) => `${extension.name} ${extension.version}`).join(', ')}: reading ` +
      "the archive's table of contents to restore everything else",
  );
  const listing = await readTocListing(options);
  plan.leftOut = entriesToLeaveOut(parseTocListing(listing), missing);
  for (const { entry, extension } of plan.leftOut) {
    options.log(`Left out (needs extension ${extension}, not available here): ${describeEntry(entry)}`);
  }
  const folder = await fs.mkdtemp(path.join(options.tempDir, 'backstop-list-'));
  const remove = (): Promise<void> => fs.rm(folder, { recursive: true, force: true });
  const forget = onInterrupt('removed the restore list', remove);
  const useList = path.join(folder, 'restore.list');
  await fs.writeFile(useList, useListOf(listing, plan.leftOut));
  plan.selection.useList = useList;
  plan.cleanup = async () => {
    forget();
    await remove();
  };
  return plan;
}

/** The source's extensions that the target cannot create (not in pg_available_extensions). */
async function missingExtensions(client: pg.Client, manifest: Manifest): Promise<Extension[]> {
  const wanted = (manifest.source.extensions ?? []).filter((extension) => !ALWAYS_THERE.has(extension.name));
  if (wanted.length === 0) return [];
  const { rows } = await client.query<{ name: string }>(
    'SELECT name FROM pg_available_extensions WHERE name = ANY($1)',
    [wanted.map((extension) => extension.name)],
  );
  const available = new Set(rows.map((row) => row.name));
  return wanted.filter((extension) => !available.has(extension.name));
}

export interface CountedTable {
  schema: string;
  name: string;
  expected: number;
  actual: number | null;
}

/**
 * The row checks a drill keeps, and the problems of the tables that were left out: a missing extension's own
 * tables (pg_cron's cron.job) are provider objects, listed as left out; a user table that needs the extension is
 * data this target cannot restore, and the drill says so.
 */
export function checkLeftOutTables<T extends CountedTable>(
  tables: T[],
  plan: RestorePlan,
): { tables: T[]; problems: string[] } {
  const providerSchemas = new Set(plan.missing.flatMap((extension) => extension.memberSchemas ?? []));
  const leftOutTables = new Map<string, string>();
  for (const { entry, extension } of plan.leftOut) {
    if (entry.desc !== 'TABLE' && entry.desc !== 'TABLE DATA') continue;
    leftOutTables.set(`${entry.namespace}.${entryName(entry)}`, extension);
  }
  const problems: string[] = [];
  const kept = tables.filter((table) => {
    const extension = leftOutTables.get(`${table.schema}.${table.name}`);
    if (extension === undefined) return true;
    if (providerSchemas.has(table.schema)) return false;
    problems.push(
      `${table.schema}.${table.name}: not restored, it needs extension ${extension}, which the target lacks ` +
        `(${formatCount(table.expected)} row${table.expected === 1 ? '' : 's'} in the backup)`,
    );
    return false;
  });
  return { tables: kept, problems };
}

/**
 * After pg_restore: grants, default privileges and schema owners (when restored), and the seeds' RLS validation
 * (every table's row level security and every policy), against what the backup recorded. Backups made before this
 * was recorded are not checked.
 */
export async function checkRestoredPrivileges(
  client: pg.Client,
  manifest: Manifest,
  plan: RestorePlan,
): Promise<{ check: SecurityCheck | undefined; problems: string[] }> {
  if (!manifest.security) return { check: undefined, problems: [] };
  const everyMemberSchema = new Set((manifest.source.extensions ?? []).flatMap((e) => e.memberSchemas ?? []));
  const leftOutSchemas = new Set(plan.missing.flatMap((extension) => extension.memberSchemas ?? []));
  const leftOutTables = new Set(
    plan.leftOut
      .filter(({ entry }) => entry.desc === 'TABLE')
      .map(({ entry }) => `${entry.namespace}.${entryName(entry)}`),
  );
  const leftOutGrants = new Set(plan.leftOut.flatMap(({ entry }) => grantKeyOf(entry)));
  const skipGrantsOn = (object: string): boolean => {
    const [kind, name] = [object.slice(0, object.indexOf(' ')), object.slice(object.indexOf(' ') + 1)];
    return leftOutGrants.has(object) || leftOutSchemas.has(kind === 'schema' ? name : name.split('.')[0]!);
  };
  return checkRestoredSecurity(client, {
    inventory: manifest.security,
    // An extension's own schemas belong to whoever created the extension on the target.
    schemas: (manifest.source.schemas ?? []).filter((schema) => !everyMemberSchema.has(schema.name)),
    privileges: plan.selection.privileges,
    skipSchemas: leftOutSchemas,
    skipTables: leftOutTables,
    skipGrantsOn,
  });
}

const RELATIONS = new Set(['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'SEQUENCE', 'FOREIGN TABLE']);
const ROUTINES = new Set(['FUNCTION', 'PROCEDURE', 'AGGREGATE']);

/** How the manifest's grant counts name the object of a left-out entry (see SecurityInventory.grants). */
function grantKeyOf(entry: TocEntry): string[] {
  if (RELATIONS.has(entry.desc)) return [`relation ${entry.namespace}.${entryName(entry)}`];
  if (ROUTINES.has(entry.desc)) return [`function ${entry.namespace}.${entryName(entry)}`];
  if (entry.desc === 'SCHEMA') return [`schema ${entryName(entry)}`];
  return [];
}

export function leftOutObjects(plan: RestorePlan): LeftOutObject[] {
  return plan.leftOut.map(({ entry, extension }) => ({ entry: describeEntry(entry), extension }));
}

/** "verified", "not verified", or "verified, N provider objects not restorable here": never a pretended full fidelity. */
export function drillVerdict(record: { verified: boolean; leftOut?: LeftOutObject[] }): string {
  if (!record.verified) return 'not verified';
  const leftOut = record.leftOut?.length ?? 0;
  if (leftOut === 0) return 'verified';
  return `verified, ${leftOut} provider object${leftOut === 1 ? '' : 's'} not restorable here`;
}
