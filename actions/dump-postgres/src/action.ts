import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type DumpPostgresOutput } from './main.ts';

/** dump-postgres: the one place its contract is written (action.yml and the README's tables are generated from it). */
export default defineAction<DumpPostgresOutput>({
  name: 'dump-postgres',
  description:
    'pg_dump in one snapshot, streamed through zstd and age to every destination, with the roles file; exact row ' +
    'counts, the TimescaleDB objects, privileges and RLS in the manifest; manifest last.',
  branding: { icon: 'database', color: 'blue' },
  inputs: documented(INPUTS, {
    'database-url': {
      docs:
        '`postgresql://user:password@host:5432/db`. Masked before the first log line; pg_dump gets the password ' +
        'through `PGPASSWORD`, never argv. Use a direct or session-mode connection: a transaction pooler cannot ' +
        'export the snapshot. Supabase from GitHub-hosted runners (no IPv6): the session pooler, ' +
        '`postgresql://postgres.<project-ref>:…@aws-0-<region>.pooler.supabase.com:5432/postgres` ' +
        '([runbooks/supabase.md](../../runbooks/supabase.md)). No superuser is needed, but the role must read ' +
        'every table unfiltered by RLS (Supabase: `postgres`).',
    },
    name: {
      docs: 'The backup name: the storage folder (`<prefix>/<name>/<backup-id>/`). Letters, digits, `.`, `_`, `-`.',
    },
    'storage-url': {
      docs:
        'One or more destinations, newline- or comma-separated: `s3://bucket/prefix` (AWS, R2, MinIO, Supabase ' +
        'Storage; endpoint, region and credentials from the standard AWS variables such as `AWS_ENDPOINT_URL_S3`, ' +
        '`AWS_REGION`), `file:///abs/path` or a relative path. Every destination gets every byte.',
    },
    kind: {
      docs:
        '`hourly`, `daily`, `weekly`, `monthly`, `manual` or `pre-migration`: part of the backup id, used by ' +
        'retention.',
    },
    format: {
      docs:
        '`custom`: streamed end to end, no temp file, memory flat. `directory`: `pg_dump --jobs` in parallel; ' +
        'pg_dump writes its files (gzip-compressed) to `RUNNER_TEMP` first, so it needs that much free disk.',
    },
    jobs: { docs: 'Parallel pg_dump jobs (directory format).' },
    'encryption-recipients': {
      docs:
        'age public keys (`age1…` from `age-keygen`), newline- or comma-separated. Required unless ' +
        '`allow-unencrypted`. Public: a plain variable is fine.',
    },
    'allow-unencrypted': { docs: 'Store in the clear. Logged and shown in the summary as a warning.' },
    'exclude-table-data': {
      docs:
        'pg_dump patterns of tables whose rows are not dumped (their definitions are). Their manifest row count ' +
        'is `null`.',
    },
    'row-counts': {
      docs:
        "`stream`: every table's exact row count is read from the dump's own bytes as they pass (the custom " +
        "format's COPY data: one newline per row), so the database is read once, by pg_dump. `scan`: a " +
        "`count(*)` of every table in the dump's snapshot, alongside pg_dump (the server reads every table twice). " +
        'The directory format always scans; an archive the stream reader cannot read falls back to a scan, logged.',
    },
    'pg-bin-dir': {
      defaultLabel: 'newest installed',
      docs:
        'Folder with `pg_dump`. By default the newest of `/usr/lib/postgresql/*/bin` and `PATH`. A pg_dump ' +
        'older than the server fails before anything is written, naming both versions and the package to install.',
    },
  }),
  outputs: {
    'backup-id': {
      description: "The new backup's id, e.g. 20260118T030000Z-daily-3f9a.",
      docs: 'e.g. `20260118T030000Z-daily-3f9a` (sorts by time)',
    },
    'manifest-url': {
      description: "URL of the backup's manifest.json in the first destination.",
      docs: 'the manifest in the first destination',
    },
    'size-bytes': {
      description: 'Stored bytes (after compression and encryption).',
      docs: 'stored bytes (after zstd and age)',
    },
    sha256: {
      description: 'sha256 of the stored dump file (directory format - of its sha256sum-style file list).',
      docs: 'sha256 of the stored dump file (directory format: of its `sha256sum`-style file list)',
    },
    'duration-seconds': { description: 'Wall time of the backup.', docs: 'wall time' },
    'server-version': {
      description: 'PostgreSQL server version of the source.',
      docs: 'PostgreSQL version of the source',
    },
    'artifact-id': {
      description: 'Id of the artifact copy (see artifact-retention-days); empty when no copy was made.',
      docs: 'id of the artifact copy (`artifact-retention-days`); empty when none was made',
    },
  },
  run,
});
