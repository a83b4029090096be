import pg from 'pg';
import type { DatabaseUrl } from '../pg/connection.ts';
import { CATALOG_TABLE, catalogStatements } from './ddl.ts';
import type { BackupRow, DrillColumns } from './rows.ts';

/** A catalog that does not answer within this is down, as far as a backup is concerned. */
const CONNECT_TIMEOUT_MS = 10_000;
const QUERY_TIMEOUT_MS = 30_000;

/** Two first uses at once (a dump and a snapshot in one workflow) must not race to create the table. */
const DDL_LOCK = "pg_advisory_xact_lock(hashtext('backstop.backup_logs'))";

/** Times are UTC ISO strings; the columns are TD-102's TIMESTAMP (without time zone), so they hold UTC. */
const UTC = (param: string): string => `(${param}::timestamptz AT TIME ZONE 'UTC')`;

/**
 * A backup's row, params as backupParams() orders them. created_at is written here, not left to TD-102's
 * `DEFAULT NOW()`: that would be the session's local time, hours off the other (UTC) columns on a server whose
 * TimeZone is not UTC. An upsert leaves it as the first write set it.
 */
const INSERT_BACKUP = `INSERT INTO ${CATALOG_TABLE} (backup_id, name, engine, backup_type, backup_timestamp,
         backup_size_bytes, checksum_sha256, location_local, location_s3, status, error_message, created_at)
       VALUES ($1, $2, $3, $4, ${UTC('$5')}, $6, $7, $8, $9, $10, $11, (now() AT TIME ZONE 'UTC'))`;

/**
 * The backup_logs table of one database: created on first use, then written row by row. Errors are thrown: the
 * mirror (mirror.ts) turns them into a warning for the actions; catalog-sync lets them fail the command.
 */
export class CatalogDatabase {
  private readonly client: pg.Client;

  private constructor(client: pg.Client) {
    this.client = client;
  }

  static async open(database: DatabaseUrl): Promise<CatalogDatabase> {
    const client = new pg.Client({
      connectionString: database.url,
      application_name: 'backstop-catalog',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
    });
    // A connection the server drops while idle must not crash the process with an unhandled 'error' event.
    client.on('error', () => undefined);
    try {
      await client.connect();
      const catalog = new CatalogDatabase(client);
      await catalog.ensureTable();
      return catalog;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private async ensureTable(): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await this.client.query(`SELECT ${DDL_LOCK}`);
      for (const statement of catalogStatements()) await this.client.query(statement);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Inserts or replaces the backup's own columns; the drill and purge columns of an existing row stay. */
  async upsertBackup(row: BackupRow): Promise<void> {
    await this.client.query(
      `${INSERT_BACKUP}
       ON CONFLICT (backup_id) DO UPDATE SET name = EXCLUDED.name, engine = EXCLUDED.engine,
         backup_type = EXCLUDED.backup_type, backup_timestamp = EXCLUDED.backup_timestamp,
         backup_size_bytes = EXCLUDED.backup_size_bytes, checksum_sha256 = EXCLUDED.checksum_sha256,
         location_local = EXCLUDED.location_local, location_s3 = EXCLUDED.location_s3, status = EXCLUDED.status,
         error_message = EXCLUDED.error_message`,
      backupParams(row),
    );
  }

  /** A row for a backup made before the catalog was set up; an existing row (its locations, its status) stays. */
  async insertBackupIfMissing(row: BackupRow): Promise<void> {
    await this.client.query(
      `${INSERT_BACKUP}
       ON CONFLICT (backup_id) DO NOTHING`,
      backupParams(row),
    );
  }

  /** The newest drill's verdict; a drill that verified keeps no error, one that failed says why. */
  async setDrill(backupId: string, drill: DrillColumns): Promise<void> {
    await this.client.query(
      `UPDATE ${CATALOG_TABLE} SET recovery_tested = $2, test_timestamp = ${UTC('$3')},
         recovery_time_seconds = $4, verified_at = ${UTC('$5')}, error_message = $6
       WHERE backup_id = $1`,
      [
        backupId,
        drill.recoveryTested,
        drill.testTimestamp,
        drill.recoveryTimeSeconds,
        drill.verifiedAt,
        drill.errorMessage,
      ],
    );
  }

  async setPurged(backupIds: string[], at: Date): Promise<void> {
    if (backupIds.length === 0) return;
    await this.client.query(
      `UPDATE ${CATALOG_TABLE} SET purged_at = ${UTC('$2')} WHERE backup_id = ANY($1) AND purged_at IS NULL`,
      [backupIds, at.toISOString()],
    );
  }

  /**
   * Completed rows of these names whose backup no storage holds any more: deleted by hand or by a prune that had no
   * catalog-url. Marked purged now (their deletion time is nowhere to be read); the ids that were marked.
   */
  async purgeMissing(names: string[], present: Set<string>, at: Date): Promise<string[]> {
    const { rows } = await this.client.query<{ backup_id: string }>(
      `SELECT backup_id FROM ${CATALOG_TABLE} WHERE name = ANY($1) AND status = 'completed' AND purged_at IS NULL`,
      [names],
    );
    const missing = rows.map((row) => row.backup_id).filter((id) => !present.has(id));
    await this.setPurged(missing, at);
    return missing;
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

function backupParams(row: BackupRow): unknown[] {
  return [
    row.backupId,
    row.name,
    row.engine,
    row.backupType,
    row.backupTimestamp,
    row.sizeBytes,
    row.sha256,
    row.locationLocal,
    row.locationS3,
    row.status,
    row.errorMessage,
  ];
}
