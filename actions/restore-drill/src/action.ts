import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type RestoreDrillOutput } from './main.ts';

/** restore-drill: the one place its contract is written (action.yml and the README's tables are generated from it). */
export default defineAction<RestoreDrillOutput>({
  name: 'restore-drill',
  description:
    'Restore the newest (or a given) backup into an empty database with its roles, owners, grants and policies; ' +
    'verify checksums, row counts, TimescaleDB objects and RLS; measure RTO, check RPO.',
  branding: { icon: 'rotate-ccw', color: 'green' },
  inputs: documented(INPUTS, {
    'storage-url': {
      docs:
        'Where the backups are; the first destination that holds the backup is read, an unreachable one is ' +
        'skipped.',
    },
    name: { docs: 'The backup name given to dump-postgres.' },
    'backup-id': { defaultLabel: 'newest complete', docs: 'A specific backup.' },
    'encryption-identity': {
      docs:
        'The age identity (`AGE-SECRET-KEY-1…`, several lines allowed) or a path to an age key file. Masked. ' +
        'Required for encrypted backups.',
    },
    'target-url': {
      defaultLabel: 'a throwaway cluster',
      docs:
        '`postgresql://` URL of an **empty** database. A database that already holds tables is refused: a drill ' +
        "never writes over data. Without it, a local PostgreSQL at least as new as the backup's server is started " +
        '(as the `postgres` user when running as root) and removed; for a TimescaleDB backup it preloads ' +
        'TimescaleDB, which must be installed locally in the version the backup needs. A TimescaleDB backup ' +
        "needs a target with exactly the source's TimescaleDB version, preloaded (e.g. " +
        '`timescale/timescaledb:2.24.0-pg18`); anything else fails before restoring, naming both versions. Files backups: an **empty** ' +
        '`s3://bucket/prefix` or folder that receives the exact listing of the backup (objects deleted since come ' +
        'back, objects created since are not there); without it every object is read and verified, nothing written.',
    },
    'qdrant-api-key': { docs: 'API key of the target Qdrant (Qdrant backups). Masked.' },
    'restore-as': {
      docs:
        'Qdrant backups only: a **real restore** instead of a drill. `source=target` pairs, or `*` for every ' +
        'collection under its own name. A target collection that already exists is refused; the recorded aliases ' +
        'are moved to the restored collections in one atomic update.',
    },
    'max-restore-seconds': { docs: 'RTO budget.' },
    'max-age-hours': { docs: "RPO budget: the backup's age when the drill starts." },
    privileges: {
      docs:
        "PostgreSQL backups: before `pg_restore`, the roles of the backup's roles file that the target lacks are " +
        'created (`NOLOGIN`, no password, with their memberships and settings; roles the target has, a ' +
        "provider's reserved ones above all, are never altered), then owners and grants are restored as in the " +
        'source and checked against the manifest. `false`: `--no-owner --no-acl` (everything owned by the ' +
        'restoring user, no grants), said so in the summary. Backups made before roles files restore as `false`.',
    },
    'dry-run': {
      docs:
        'Download, verify every checksum, decrypt and decompress every byte, and list the archive with ' +
        '`pg_restore --list`; nothing is restored. Files backups: every object read, both sha256 checked, nothing ' +
        'written to `target-url`.',
    },
    'plan-only': {
      docs:
        'Only choose the backup (newest complete, or `backup-id`) and set `backup-id`, `engine`, ' +
        '`server-version`, `server-major`, `extensions`, `timescaledb-version`, `provider` and `pg-dump-version`; ' +
        "nothing is downloaded and no identity is needed. A workflow's plan step uses it to pick the drill's " +
        'database image.',
    },
    jobs: { defaultLabel: 'CPUs', docs: '`pg_restore --jobs` for directory-format backups.' },
    'pg-bin-dir': {
      defaultLabel: 'newest installed',
      docs: 'Folder with `pg_restore` (and `initdb`/`pg_ctl` for the throwaway cluster).',
    },
    'to-time': {
      docs:
        'ISO 8601 with an offset (`2026-01-18T03:25:00Z`, `2026-01-18T04:25:00+01:00`). A pgBackRest backup ' +
        '(`backup-physical`): the newest base backup consistent before that time (or the one `backup-id` pins, ' +
        'e.g. a 7-day-old one) is restored by `pgbackrest restore --type=time --target-action=promote` into a ' +
        'throwaway cluster on its own port, which replays the archived WAL up to the target; the drill then ' +
        "checks in PostgreSQL's log and with `pg_last_xact_replay_timestamp()` that recovery stopped at the " +
        'target (never "ended before" it). The target must be before the newest archived transaction. Logical ' +
        'backups: the newest complete backup at or before the time, and a notice of how far before (the RPO ' +
        'of dumps). See [runbooks/pitr.md](../../runbooks/pitr.md).',
    },
    'verify-sql': {
      docs:
        'pgBackRest backups: a query run in the recovered database (the one the backup connected to) that must ' +
        'return one row of one boolean, true, e.g. `SELECT count(*) FILTER (WHERE id = 41) = 1 AND count(*) ' +
        'FILTER (WHERE id = 42) = 0 FROM canary` for a canary row written just before the target and one just ' +
        'after. False fails the drill; an error in it too (a missing table is missing data).',
    },
    'encryption-passphrase': {
      docs:
        'pgBackRest backups in an encrypted repository: its passphrase (`BACKSTOP_ENCRYPTION_PASSPHRASE`), handed ' +
        "to pgBackRest and to the throwaway server's `restore_command` through their environment only.",
    },
  }),
  outputs: {
    'backup-id': { description: 'The backup that was drilled.', docs: 'the backup that was drilled' },
    'recovered-to': {
      description: 'pgBackRest backups: the last transaction replayed (pg_last_xact_replay_timestamp), ISO 8601.',
      docs: 'pgBackRest backups: time of the last replayed transaction (`pg_last_xact_replay_timestamp()`)',
    },
    'restore-seconds': {
      description: 'Time from the first byte fetched to the end of the restore (the measured RTO).',
      docs: 'first byte fetched → restore finished (the measured RTO)',
    },
    engine: {
      description: "The backup's engine, postgres or qdrant (set as soon as the backup is chosen, also in a dry run).",
      docs:
        '`postgres` or `qdrant`; this, `backup-id` and the next six are set as soon as the backup is chosen, ' +
        "also in a dry run, so a first step can pick the drill's database image",
    },
    'server-version': {
      description: 'The server version the backup was taken from (PostgreSQL or Qdrant).',
      docs: 'the server version the backup was taken from',
    },
    'server-major': {
      description: "PostgreSQL only: the server's major version, e.g. 16 (pick a matching service container image).",
      docs: "PostgreSQL's major version, e.g. `16` (pick `postgres:16`, or `timescale/timescaledb:<version>-pg16`)",
    },
    extensions: {
      description:
        'PostgreSQL only: the extensions installed in the backed-up database, comma-separated (e.g. ' +
        'plpgsql,timescaledb).',
      docs: "the backed-up database's extensions, comma-separated, e.g. `plpgsql,timescaledb`",
    },
    'timescaledb-version': {
      description:
        'PostgreSQL only: the TimescaleDB extension version of the backed-up database (empty without TimescaleDB).',
      docs:
        'the backed-up TimescaleDB version, e.g. `2.24.0` (a dump restores only into the same version: pick ' +
        '`timescale/timescaledb:2.24.0-pg<major>`); empty without TimescaleDB',
    },
    provider: {
      description: 'The managed provider the source ran on, from the manifest (e.g. supabase); empty when none.',
      docs: 'the managed provider the source ran on, e.g. `supabase` (drill into `supabase/postgres`); empty when none',
    },
    'pg-dump-version': {
      description: 'PostgreSQL only: the pg_dump version that wrote the backup (pg_restore must be at least as new).',
      docs: 'the `pg_dump` version that wrote the backup, e.g. `17.2`: install a `pg_restore` of at least that major',
    },
    verified: {
      description:
        'true when checksums, decryption, the restore, every row count, the grants and RLS validation, and the ' +
        'RTO/RPO budgets all passed (provider objects the target cannot take are named, not counted against it).',
      docs:
        '`true` only when checksums, decryption, the restore, every row count, the grants and the RLS validation, ' +
        'and both budgets pass; objects of extensions the target lacks are named in the summary instead',
    },
  },
  run,
});
