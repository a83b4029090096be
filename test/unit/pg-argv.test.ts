import { describe, expect, it } from 'vitest';
import { Origin } from '../../actions/lib/action/origin.ts';
import {
  pgDumpArgv,
  pgDumpallRolesArgv,
  pgRestoreArgv,
  type PgDumpArgvOptions,
  type PgListOptions,
  type PgRestoreIntoOptions,
} from '../../actions/lib/postgres/argv.ts';
import { parseDatabaseUrl } from '../../actions/lib/pg/connection.ts';

// A URL with a password: the expected argv below holds only its password-less form (the password goes in PGPASSWORD).
const database = parseDatabaseUrl(
  'postgresql://app:s3cret@db.example.com:5432/prod?sslmode=require',
  Origin.input('database-url'),
);
const DBNAME = '--dbname=postgresql://app@db.example.com:5432/prod?sslmode=require';
const SNAPSHOT = '00000003-0000001B-1';

const dumpRows: { description: string; options: PgDumpArgvOptions; argv: string[] }[] = [
  {
    description: 'custom format: uncompressed to stdout, in the exported snapshot',
    options: { database, snapshot: SNAPSHOT, excludeTableData: [], archive: { format: 'custom' } },
    argv: ['--format=custom', '--compress=0', DBNAME, `--snapshot=${SNAPSHOT}`, '--no-password'],
  },
  {
    description: 'directory format: jobs, fast gzip and the spool folder before the connection',
    options: {
      database,
      snapshot: SNAPSHOT,
      excludeTableData: [],
      archive: { format: 'directory', path: '/tmp/backstop-20250101T000000Z-daily-abcd', jobs: 4 },
    },
    argv: [
      '--format=directory',
      '--jobs=4',
      '--compress=1',
      '--file=/tmp/backstop-20250101T000000Z-daily-abcd',
      DBNAME,
      `--snapshot=${SNAPSHOT}`,
      '--no-password',
    ],
  },
  {
    description: 'exclude-table-data: one flag per pattern, in the given order, passed through verbatim',
    options: {
      database,
      snapshot: SNAPSHOT,
      excludeTableData: ['audit_*', 'archive.ticks_20??', '"Mixed"'],
      archive: { format: 'custom' },
    },
    argv: [
      '--format=custom',
      '--compress=0',
      DBNAME,
      `--snapshot=${SNAPSHOT}`,
      '--no-password',
      '--exclude-table-data=audit_*',
      '--exclude-table-data=archive.ticks_20??',
      '--exclude-table-data="Mixed"',
    ],
  },
  {
    description: 'directory format with exclusions and one job',
    options: {
      database,
      snapshot: 'snap-2',
      excludeTableData: ['logs'],
      archive: { format: 'directory', path: 'spool', jobs: 1 },
    },
    argv: [
      '--format=directory',
      '--jobs=1',
      '--compress=1',
      '--file=spool',
      DBNAME,
      '--snapshot=snap-2',
      '--no-password',
      '--exclude-table-data=logs',
    ],
  },
];

const restoreRows: { description: string; options: PgListOptions | PgRestoreIntoOptions; argv: string[] }[] = [
  {
    description: 'list, custom format: the table of contents from stdin, no database',
    options: { mode: 'list', archive: { format: 'custom' } },
    argv: ['--list', '--format=custom'],
  },
  {
    description: 'list, directory format: the folder as the last argument',
    options: { mode: 'list', archive: { format: 'directory', path: '/tmp/backstop-restore-x/dump' } },
    argv: ['--list', '--format=directory', '/tmp/backstop-restore-x/dump'],
  },
  {
    description: 'list with dependencies: --verbose adds the `depends on` lines',
    options: { mode: 'list', archive: { format: 'custom' }, dependencies: true },
    argv: ['--list', '--verbose', '--format=custom'],
  },
  {
    description: 'restore, custom format: one transaction from stdin, owners and grants as in the source',
    options: { mode: 'restore', database, archive: { format: 'custom' }, privileges: true },
    argv: [DBNAME, '--exit-on-error', '--no-password', '--single-transaction', '--format=custom'],
  },
  {
    description: 'restore without privileges: no owners, no grants',
    options: { mode: 'restore', database, archive: { format: 'custom' }, privileges: false },
    argv: [
      DBNAME,
      '--no-owner',
      '--no-acl',
      '--exit-on-error',
      '--no-password',
      '--single-transaction',
      '--format=custom',
    ],
  },
  {
    description: 'restore from an edited list: only its entries',
    options: { mode: 'restore', database, archive: { format: 'custom' }, privileges: true, useList: '/tmp/r/list' },
    argv: [
      DBNAME,
      '--use-list=/tmp/r/list',
      '--exit-on-error',
      '--no-password',
      '--single-transaction',
      '--format=custom',
    ],
  },
  {
    description: 'restore, directory format: parallel jobs instead of one transaction, the folder last',
    options: {
      mode: 'restore',
      database,
      archive: { format: 'directory', path: '/tmp/r/dump', jobs: 3 },
      privileges: false,
    },
    argv: [
      DBNAME,
      '--no-owner',
      '--no-acl',
      '--exit-on-error',
      '--no-password',
      '--jobs=3',
      '--format=directory',
      '/tmp/r/dump',
    ],
  },
];

describe('pg_dump argv', () => {
  it.each(dumpRows)('$description', ({ options, argv }) => {
    expect(pgDumpArgv(options)).toEqual(argv);
  });
});

describe('pg_dumpall argv', () => {
  it('roles only, never a password hash, connecting to the dumped database', () => {
    expect(pgDumpallRolesArgv({ database, databaseName: 'app' })).toEqual([
      '--roles-only',
      '--no-role-passwords',
      DBNAME,
      '--database=app',
      '--no-password',
    ]);
  });
});

describe('pg_restore argv', () => {
  it.each(restoreRows)('$description', ({ options, argv }) => {
    expect(pgRestoreArgv(options)).toEqual(argv);
  });
});
