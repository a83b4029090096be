// The pg_dump and pg_restore command lines, built in one place from plain values (no I/O, no input names), so
// every flag is pinned by a unit test rather than only by a round trip through real clusters.
import type { DatabaseUrl } from '../pg/connection.ts';

/** A custom-format archive goes through a pipe: pg_dump's stdout, pg_restore's stdin. */
export interface StreamedArchive {
  readonly format: 'custom';
}

/** A directory-format archive is a folder of files, which pg_dump and pg_restore can split over jobs. */
export interface DirectoryArchive {
  readonly format: 'directory';
  readonly path: string;
}

export interface ParallelDirectoryArchive extends DirectoryArchive {
  readonly jobs: number;
}

/** Only the password-less URL is taken: the password travels in PGPASSWORD, never in argv (`ps` shows argv). */
export type LibpqTarget = Pick<DatabaseUrl, 'withoutPassword'>;

export interface PgDumpArgvOptions {
  readonly database: LibpqTarget;
  /** From pg_export_snapshot(): the dump sees exactly what the row counts saw. */
  readonly snapshot: string;
  /** pg_dump patterns of tables whose rows are skipped (schema kept). */
  readonly excludeTableData: readonly string[];
  readonly archive: StreamedArchive | ParallelDirectoryArchive;
}

export function pgDumpArgv(options: PgDumpArgvOptions): string[] {
  return [
    ...dumpArchiveArgs(options.archive),
    `--dbname=${options.database.withoutPassword}`,
    `--snapshot=${options.snapshot}`,
    '--no-password',
    ...options.excludeTableData.map((pattern) => `--exclude-table-data=${pattern}`),
  ];
}

/**
 * Custom format uncompressed (we compress with zstd, faster and smaller than pg_dump's gzip); directory format
 * with pg_dump's own fastest gzip, since its workers write their files themselves.
 */
function dumpArchiveArgs(archive: StreamedArchive | ParallelDirectoryArchive): string[] {
  if (archive.format === 'custom') return ['--format=custom', '--compress=0'];
  return ['--format=directory', `--jobs=${archive.jobs}`, '--compress=1', `--file=${archive.path}`];
}

/** pg_restore --list: prints the table of contents and touches no database. */
export interface PgListOptions {
  readonly mode: 'list';
  readonly archive: StreamedArchive | DirectoryArchive;
  /** Also print each entry's dependencies (`;\tdepends on: 12 34`), to leave out what needs a missing object. */
  readonly dependencies?: boolean;
}

export interface PgRestoreIntoOptions {
  readonly mode: 'restore';
  readonly database: LibpqTarget;
  readonly archive: StreamedArchive | ParallelDirectoryArchive;
  /** Owners and grants as in the source (the roles must exist); false: everything owned by the restoring user. */
  readonly privileges: boolean;
  /** A pg_restore --list file, edited: only its entries are restored, in its order. */
  readonly useList?: string;
}

export function pgRestoreArgv(options: PgListOptions | PgRestoreIntoOptions): string[] {
  if (options.mode === 'list') {
    return ['--list', ...(options.dependencies ? ['--verbose'] : []), ...restoreArchiveArgs(options.archive)];
  }
  return [
    `--dbname=${options.database.withoutPassword}`,
    ...(options.privileges ? [] : ['--no-owner', '--no-acl']),
    ...(options.useList ? [`--use-list=${options.useList}`] : []),
    '--exit-on-error',
    '--no-password',
    ...restoreModeArgs(options.archive),
    ...restoreArchiveArgs(options.archive),
  ];
}

export interface PgDumpallRolesOptions {
  readonly database: LibpqTarget;
  /** The database pg_dumpall connects to: the dumped one (the default, postgres, may not be reachable). */
  readonly databaseName: string;
}

/**
 * The cluster's roles, memberships and role settings. --no-role-passwords reads pg_roles instead of pg_authid: no
 * password hash is ever written, and no superuser is needed (Supabase's postgres role is not one).
 */
export function pgDumpallRolesArgv(options: PgDumpallRolesOptions): string[] {
  return [
    '--roles-only',
    '--no-role-passwords',
    `--dbname=${options.database.withoutPassword}`,
    `--database=${options.databaseName}`,
    '--no-password',
  ];
}

/**
 * A streamed archive restores in one transaction, so a failure leaves nothing behind; a directory restores with
 * parallel jobs, which pg_restore cannot combine with a single transaction.
 */
function restoreModeArgs(archive: StreamedArchive | ParallelDirectoryArchive): string[] {
  return archive.format === 'custom' ? ['--single-transaction'] : [`--jobs=${archive.jobs}`];
}

/** The format, then a directory archive's folder as the last argument; a streamed archive comes on stdin. */
function restoreArchiveArgs(archive: StreamedArchive | DirectoryArchive): string[] {
  return archive.format === 'custom' ? ['--format=custom'] : ['--format=directory', archive.path];
}
