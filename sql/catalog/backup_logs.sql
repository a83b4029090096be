-- Generated from actions/lib/catalog/ddl.ts by `npm run generate` (edit that file, not this one).
-- TD-102 backup_logs in the backstop schema, plus name and engine. Idempotent: safe to run twice.
-- The actions given catalog-url run the same statements themselves before their first write.

CREATE SCHEMA IF NOT EXISTS backstop;

CREATE TABLE IF NOT EXISTS backstop.backup_logs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  backup_id VARCHAR(255) NOT NULL UNIQUE,
  backup_type VARCHAR(50) NOT NULL,
  backup_timestamp TIMESTAMP NOT NULL,
  backup_size_bytes BIGINT,
  checksum_md5 VARCHAR(32),
  checksum_sha256 VARCHAR(64),
  location_local VARCHAR(512),
  location_s3 VARCHAR(512),
  status VARCHAR(50) NOT NULL,
  recovery_tested BOOLEAN DEFAULT FALSE,
  test_timestamp TIMESTAMP,
  recovery_time_seconds INTEGER,
  created_at TIMESTAMP DEFAULT NOW(),
  verified_at TIMESTAMP,
  purged_at TIMESTAMP,
  error_message TEXT
);

ALTER TABLE backstop.backup_logs ADD COLUMN IF NOT EXISTS name VARCHAR(100);

ALTER TABLE backstop.backup_logs ADD COLUMN IF NOT EXISTS engine VARCHAR(20);

CREATE INDEX IF NOT EXISTS idx_backup_logs_timestamp ON backstop.backup_logs (backup_timestamp DESC);

CREATE INDEX IF NOT EXISTS idx_backup_logs_status ON backstop.backup_logs (status);

CREATE INDEX IF NOT EXISTS idx_backup_logs_type ON backstop.backup_logs (backup_type);

COMMENT ON TABLE backstop.backup_logs IS 'One row per Backstop backup (TD-102), mirrored by the actions given catalog-url. The manifests in storage are the source of truth: backstop catalog-sync rebuilds this table from them.';

COMMENT ON COLUMN backstop.backup_logs.id IS 'Row id (TD-102); Backstop keys rows by backup_id.';

COMMENT ON COLUMN backstop.backup_logs.backup_id IS 'The Backstop backup id (e.g. 20260118T030000Z-daily-3f9a): the folder <prefix>/<name>/<backup_id>/.';

COMMENT ON COLUMN backstop.backup_logs.backup_type IS 'The backup kind: hourly, daily, weekly, monthly, manual or pre-migration (part of the id; retention reads it).';

COMMENT ON COLUMN backstop.backup_logs.backup_timestamp IS 'When the backup started (manifest createdAt), UTC.';

COMMENT ON COLUMN backstop.backup_logs.backup_size_bytes IS 'Stored bytes of every file of the backup (after zstd and age); pgBackRest: what this backup added to its repository.';

COMMENT ON COLUMN backstop.backup_logs.checksum_md5 IS 'Always NULL: Backstop hashes once, with sha256, while streaming; MD5 would cost a second pass of CPU and is not collision resistant. Kept for TD-102 compatibility.';

COMMENT ON COLUMN backstop.backup_logs.checksum_sha256 IS 'sha256 of the stored data file (several data files: of their sha256sum-style list, "<sha256>  <path>" lines); NULL for pgBackRest, whose repository checksums each of its files itself (pgbackrest verify checks them).';

COMMENT ON COLUMN backstop.backup_logs.location_local IS 'file:// URL of the backup folder (its manifest) in the first local destination, if any; pgBackRest: the repository it names is <prefix>/<name>/pgbackrest/.';

COMMENT ON COLUMN backstop.backup_logs.location_s3 IS 's3:// URL of the backup folder in the first S3 destination, if any.';

COMMENT ON COLUMN backstop.backup_logs.status IS 'running (started, no manifest yet), completed (manifest written) or failed (see error_message).';

COMMENT ON COLUMN backstop.backup_logs.recovery_tested IS 'Whether the newest restore drill of this backup verified it.';

COMMENT ON COLUMN backstop.backup_logs.test_timestamp IS 'When the newest restore drill of this backup started, UTC.';

COMMENT ON COLUMN backstop.backup_logs.recovery_time_seconds IS 'How long the newest drill took to restore this backup (its RTO, seconds, rounded up).';

COMMENT ON COLUMN backstop.backup_logs.created_at IS 'When this row was first written (the server''s clock), UTC: Backstop writes it; the default is TD-102''s.';

COMMENT ON COLUMN backstop.backup_logs.verified_at IS 'When the newest drill that verified this backup finished, UTC; NULL if none did.';

COMMENT ON COLUMN backstop.backup_logs.purged_at IS 'When prune-backups deleted this backup from its destinations, UTC.';

COMMENT ON COLUMN backstop.backup_logs.error_message IS 'The one-line error of a failed backup, or the problems of a failed drill; secrets masked.';

COMMENT ON COLUMN backstop.backup_logs.name IS 'The backup name (the storage folder <prefix>/<name>/), e.g. prod-db. Backstop addition.';

COMMENT ON COLUMN backstop.backup_logs.engine IS 'What made the backup: postgres, qdrant, pgbackrest or files. Backstop addition.';
