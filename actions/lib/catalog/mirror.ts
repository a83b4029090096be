import { errorMessage } from '../action/errors.ts';
import type { DrillRecordBase } from '../manifest/drills.ts';
import { newBackupId } from '../manifest/ids.ts';
import type { BackupKind, Manifest } from '../manifest/schema.ts';
import type { DatabaseUrl } from '../pg/connection.ts';
import type { Store } from '../storage/index.ts';
import { CatalogDatabase } from './database.ts';
import {
  completedRow,
  drillColumns,
  drillFailure,
  failedRow,
  startedRow,
  type BackupStart,
  type DrillColumns,
} from './rows.ts';

export interface MirrorOptions {
  /** undefined: no catalog-url, every call is a no-op. */
  database: DatabaseUrl | undefined;
  warn: (line: string) => void;
  /** Masks every registered secret: an error message goes into the table as text. */
  redact: (text: string) => string;
}

/**
 * What an action mirrors into backup_logs. The manifest is the record; the table is a copy for SQL and dashboards.
 * So a catalog that is down, refuses or times out costs one warning and the rest of the run's writes, never the
 * backup: writes are queued one after another, every failure is caught, and `close()` (in a finally) waits for them.
 */
export class CatalogMirror {
  private readonly options: MirrorOptions;
  private queue: Promise<void> = Promise.resolve();
  private opened: Promise<CatalogDatabase> | undefined;
  private failed = false;

  constructor(options: MirrorOptions) {
    this.options = options;
  }

  backupStarted(start: BackupStart, stores: Store[]): void {
    this.write((db) => db.upsertBackup(startedRow(start, stores)));
  }

  backupCompleted(manifest: Manifest, stores: Store[]): void {
    this.write((db) => db.upsertBackup(completedRow(manifest, stores)));
  }

  backupFailed(start: BackupStart, stores: Store[], error: unknown): void {
    const message = this.options.redact(errorMessage(error));
    this.write((db) => db.upsertBackup(failedRow(start, stores, message)));
  }

  /** A backup made before the catalog was set up gets its row from the manifest first. */
  drillRecorded(manifest: Manifest, stores: Store[], record: DrillRecordBase): void {
    this.drill(manifest, stores, drillColumns(record));
  }

  drillFailed(manifest: Manifest, stores: Store[], at: Date, error: unknown): void {
    this.drill(manifest, stores, drillFailure(at, this.options.redact(errorMessage(error))));
  }

  purged(backupIds: string[], at: Date): void {
    this.write((db) => db.setPurged(backupIds, at));
  }

  /** Waits for every queued write (each already caught), then ends the connection. */
  async close(): Promise<void> {
    await this.queue;
    if (this.opened) await (await this.opened.catch(() => undefined))?.close();
  }

  private drill(manifest: Manifest, stores: Store[], drill: DrillColumns): void {
    this.write(async (db) => {
      await db.insertBackupIfMissing(completedRow(manifest, stores));
      await db.setDrill(manifest.id, drill);
    });
  }

  private write(step: (db: CatalogDatabase) => Promise<void>): void {
    const { database } = this.options;
    if (!database) return;
    this.queue = this.queue.then(async () => {
      if (this.failed) return;
      try {
        this.opened ??= CatalogDatabase.open(database);
        await step(await this.opened);
      } catch (error) {
        this.failed = true;
        this.options.warn(
          `The catalog ${database.display} (${database.origin}) could not be written: ` +
            `${this.options.redact(errorMessage(error))}. The backups and their manifests are not affected; run ` +
            '`backstop catalog-sync` once it is reachable to fill backstop.backup_logs in from storage.',
        );
      }
    });
  }
}

/** What a backup action knows before its library call: the rest of its rows comes from the call. */
export interface MirroredBackup {
  name: string;
  engine: Manifest['engine'];
  kind: BackupKind;
  stores: Store[];
}

/**
 * Runs a backup with its rows mirrored: `running` once it has its id, `completed` from its manifest, or `failed`
 * with its (masked) one-line error; a backup that failed before it had an id gets one of its own kind and time, so
 * the failure still has a row. The error is thrown on unchanged; the catalog's own failure never is.
 */
export async function mirroredBackup<Result extends { manifest: Manifest }>(
  catalog: CatalogMirror,
  backup: MirroredBackup,
  run: (onStart: (id: string, createdAt: Date) => void) => Promise<Result>,
): Promise<Result> {
  const startedAt = new Date();
  let start: BackupStart | undefined;
  try {
    const result = await run((id, createdAt) => {
      start = { ...backup, id, createdAt };
      catalog.backupStarted(start, backup.stores);
    });
    catalog.backupCompleted(result.manifest, backup.stores);
    return result;
  } catch (error) {
    start ??= { ...backup, id: newBackupId(backup.kind, startedAt), createdAt: startedAt };
    catalog.backupFailed(start, backup.stores, error);
    throw error;
  } finally {
    await catalog.close();
  }
}
