/**
 * TD-102's backup_logs table, in a `backstop` schema, plus `name` and `engine`: the one text of its DDL. Every action
 * given a catalog-url runs it (inside a transaction, under an advisory lock) before its first write, and
 * `npm run generate` writes sql/catalog/backup_logs.sql from it for operators who create the table by hand. Every
 * statement is idempotent: running it twice, or on a table an older Backstop created, changes nothing but what is
 * missing.
 */
export const CATALOG_TABLE = 'backstop.backup_logs';

/** Column, TD-102's type (plus name and engine), and the comment that says what Backstop writes into it. */
const COLUMNS: [name: string, type: string, comment: string][] = [
  ['id', 'UUID PRIMARY KEY DEFAULT gen_random_uuid()', 'Row id (TD-102); Backstop keys rows by backup_id.'],
  [
    'backup_id',
    'VARCHAR(255) NOT NULL UNIQUE',
    'The Backstop backup id (e.g. 20260118T030000Z-daily-3f9a): the folder <prefix>/<name>/<backup_id>/.',
  ],
  [
    'backup_type',
    'VARCHAR(50) NOT NULL',
    'The backup kind: hourly, daily, weekly, monthly, manual or pre-migration (part of the id; retention reads it).',
  ],
  ['backup_timestamp', 'TIMESTAMP NOT NULL', 'When the backup started (manifest createdAt), UTC.'],
  [
    'backup_size_bytes',
    'BIGINT',
    'Stored bytes of every file of the backup (after zstd and age); pgBackRest: what this backup added to its ' +
      'repository.',
  ],
  [
    'checksum_md5',
    'VARCHAR(32)',
    'Always NULL: Backstop hashes once, with sha256, while streaming; MD5 would cost a second pass of CPU and is not ' +
      'collision resistant. Kept for TD-102 compatibility.',
  ],
  [
    'checksum_sha256',
    'VARCHAR(64)',
    'sha256 of the stored data file (several data files: of their sha256sum-style list, "<sha256>  <path>" lines); ' +
      'NULL for pgBackRest, whose repository checksums each of its files itself (pgbackrest verify checks them).',
  ],
  [
    'location_local',
    'VARCHAR(512)',
    'file:// URL of the backup folder (its manifest) in the first local destination, if any; pgBackRest: the ' +
      'repository it names is <prefix>/<name>/pgbackrest/.',
  ],
  ['location_s3', 'VARCHAR(512)', 's3:// URL of the backup folder in the first S3 destination, if any.'],
  [
    'status',
    'VARCHAR(50) NOT NULL',
    'running (started, no manifest yet), completed (manifest written) or failed (see error_message).',
  ],
  ['recovery_tested', 'BOOLEAN DEFAULT FALSE', 'Whether the newest restore drill of this backup verified it.'],
  ['test_timestamp', 'TIMESTAMP', 'When the newest restore drill of this backup started, UTC.'],
  [
    'recovery_time_seconds',
    'INTEGER',
    'How long the newest drill took to restore this backup (its RTO, seconds, rounded up).',
  ],
  [
    'created_at',
    'TIMESTAMP DEFAULT NOW()',
    "When this row was first written (the server's clock), UTC: Backstop writes it; the default is TD-102's.",
  ],
  ['verified_at', 'TIMESTAMP', 'When the newest drill that verified this backup finished, UTC; NULL if none did.'],
  ['purged_at', 'TIMESTAMP', 'When prune-backups deleted this backup from its destinations, UTC.'],
  [
    'error_message',
    'TEXT',
    'The one-line error of a failed backup, or the problems of a failed drill; secrets masked.',
  ],
  ['name', 'VARCHAR(100)', 'The backup name (the storage folder <prefix>/<name>/), e.g. prod-db. Backstop addition.'],
  ['engine', 'VARCHAR(20)', 'What made the backup: postgres, qdrant, pgbackrest or files. Backstop addition.'],
];

/** TD-102's three indexes, under its names. */
const INDEXES: [name: string, on: string][] = [
  ['idx_backup_logs_timestamp', 'backup_timestamp DESC'],
  ['idx_backup_logs_status', 'status'],
  ['idx_backup_logs_type', 'backup_type'],
];

/** The statements, in order; each is safe to run again. */
export function catalogStatements(): string[] {
  const tdColumns = COLUMNS.filter(([name]) => name !== 'name' && name !== 'engine');
  const create = tdColumns.map(([name, type]) => `  ${name} ${type}`).join(',\n');
  return [
    'CREATE SCHEMA IF NOT EXISTS backstop',
    `CREATE TABLE IF NOT EXISTS ${CATALOG_TABLE} (\n${create}\n)`,
    // Added by ALTER, not in CREATE: a table made from TD-102's text as it stands gains them the same way.
    `ALTER TABLE ${CATALOG_TABLE} ADD COLUMN IF NOT EXISTS name VARCHAR(100)`,
    `ALTER TABLE ${CATALOG_TABLE} ADD COLUMN IF NOT EXISTS engine VARCHAR(20)`,
    ...INDEXES.map(([name, on]) => `CREATE INDEX IF NOT EXISTS ${name} ON ${CATALOG_TABLE} (${on})`),
    `COMMENT ON TABLE ${CATALOG_TABLE} IS ${literal(
      'One row per Backstop backup (TD-102), mirrored by the actions given catalog-url. The manifests in storage ' +
        'are the source of truth: backstop catalog-sync rebuilds this table from them.',
    )}`,
    ...COLUMNS.map(([name, , comment]) => `COMMENT ON COLUMN ${CATALOG_TABLE}.${name} IS ${literal(comment)}`),
  ];
}

/** sql/catalog/backup_logs.sql: the same statements, for psql. */
export function catalogSqlFile(): { path: string; content: string } {
  const header =
    '-- Generated from actions/lib/catalog/ddl.ts by `npm run generate` (edit that file, not this one).\n' +
    '-- TD-102 backup_logs in the backstop schema, plus name and engine. Idempotent: safe to run twice.\n' +
    '-- The actions given catalog-url run the same statements themselves before their first write.\n\n';
  return {
    path: 'sql/catalog/backup_logs.sql',
    content: `${header}${catalogStatements()
      .map((statement) => `${statement};\n`)
      .join('\n')}`,
  };
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
