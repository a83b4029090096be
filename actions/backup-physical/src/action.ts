import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type BackupPhysicalOutput } from './main.ts';

/** backup-physical: the one place its contract is written (action.yml and the README's tables are generated from it). */
export default defineAction<BackupPhysicalOutput>({
  name: 'backup-physical',
  description:
    'pgBackRest backup of a self-hosted PostgreSQL (full, diff or incr), then pgbackrest verify, recorded as a ' +
    'Backstop manifest (written last) so the catalog, retention, drills and the report see it.',
  branding: { icon: 'hard-drive', color: 'blue' },
  inputs: documented(INPUTS, {
    name: {
      docs:
        'The backup name: the storage folder (`<prefix>/<name>/`) and the pgBackRest stanza, as given to ' +
        '`backstop archive-config`.',
    },
    'storage-url': {
      docs:
        'The same destinations as the logical backups. The first holds the pgBackRest repository ' +
        '(`<prefix>/<name>/pgbackrest/`: `file:///path`, or `s3://bucket/prefix` over HTTPS with the standard AWS ' +
        'variables and endpoint); every destination gets the manifest.',
    },
    'pg-data': {
      docs:
        'The data directory, on the machine this runs on: a self-hosted runner on the database host, or the CLI ' +
        "from cron or a systemd timer. pgBackRest runs as the directory's owner (through `runuser` when Backstop " +
        'runs as root). Must be the directory of the server at `database-url`.',
    },
    'database-url': {
      docs:
        'A local connection, e.g. `postgresql://postgres@localhost/postgres`: Backstop reads the port, socket ' +
        'folder and `data_directory` from it; pgBackRest connects through the socket as the same role, the ' +
        'password (if any) in `PGPASSWORD`. A superuser, or a role with `pg_read_all_settings` and backup rights.',
    },
    'encryption-passphrase': {
      docs:
        'The repository passphrase archive-config was run with (`BACKSTOP_ENCRYPTION_PASSPHRASE`). Handed to ' +
        'pgBackRest as `PGBACKREST_REPO1_CIPHER_PASS` in its environment, never on a command line or in a log.',
    },
    'allow-unencrypted': { docs: 'The repository was made without encryption. Logged and shown as a warning.' },
    type: {
      docs:
        '`auto`: a full backup when the repository has none that finished in the last 7 days, else an ' +
        'incremental one on the newest full. `full`, `diff` (on the newest full) or `incr` (on the newest backup).',
    },
    kind: { docs: '`hourly`, `daily`, `weekly`, `monthly`, `manual` or `pre-migration`: part of the backup id.' },
  }),
  outputs: {
    'backup-id': { description: 'The Backstop backup id, e.g. 20260118T030000Z-hourly-3f9a.', docs: 'sorts by time' },
    label: { description: "pgBackRest's label of the set, e.g. 20260118-030000F_20260118-040000I." },
    'size-bytes': {
      description: 'Bytes this backup added to the repository (compressed, encrypted).',
      docs: 'what this backup added to the repository (zstd, encrypted); a full backup: all of it',
    },
    'manifest-url': { description: "URL of the backup's manifest.json in the first destination." },
    type: { description: 'The type made: full, diff or incr (what auto chose).' },
  },
  run,
});
