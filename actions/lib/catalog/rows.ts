import { createHash } from 'node:crypto';
import { backupFolder } from '../manifest/catalog.ts';
import type { DrillRecordBase } from '../manifest/drills.ts';
import type { BackupKind, Manifest, ManifestFile } from '../manifest/schema.ts';
import type { Store } from '../storage/index.ts';

/** What a backup knows of itself before it has a manifest: enough for its `running` and `failed` rows. */
export interface BackupStart {
  id: string;
  name: string;
  engine: Manifest['engine'];
  kind: BackupKind;
  createdAt: Date;
}

export type BackupStatus = 'running' | 'completed' | 'failed';

/** The backup's columns of a backup_logs row (times as ISO strings, UTC). */
export interface BackupRow {
  backupId: string;
  name: string;
  engine: Manifest['engine'];
  backupType: string;
  backupTimestamp: string;
  sizeBytes: number | null;
  sha256: string | null;
  locationLocal: string | null;
  locationS3: string | null;
  status: BackupStatus;
  errorMessage: string | null;
}

/** A drill's columns of a backup_logs row. */
export interface DrillColumns {
  recoveryTested: boolean;
  testTimestamp: string;
  recoveryTimeSeconds: number | null;
  verifiedAt: string | null;
  errorMessage: string | null;
}

/** Long enough for any one-line error Backstop writes; a runaway tool message must not fill the table. */
const MAX_ERROR_CHARS = 2000;

export function startedRow(start: BackupStart, stores: Store[]): BackupRow {
  return {
    backupId: start.id,
    name: start.name,
    engine: start.engine,
    backupType: start.kind,
    backupTimestamp: start.createdAt.toISOString(),
    sizeBytes: null,
    sha256: null,
    ...locations(stores, backupFolder(start.name, start.id)),
    status: 'running',
    errorMessage: null,
  };
}

/** `error` must already be redacted: the row leaves the process. */
export function failedRow(start: BackupStart, stores: Store[], error: string): BackupRow {
  return { ...startedRow(start, stores), status: 'failed', errorMessage: oneLine(error) };
}

/** A complete backup as its manifest describes it; `stores`: the destinations that hold it. */
export function completedRow(manifest: Manifest, stores: Store[]): BackupRow {
  return {
    backupId: manifest.id,
    name: manifest.name,
    engine: manifest.engine,
    backupType: manifest.kind,
    backupTimestamp: manifest.createdAt,
    sizeBytes: storedBytes(manifest),
    sha256: dataSha256(manifest),
    ...locations(stores, backupFolder(manifest.name, manifest.id)),
    status: 'completed',
    errorMessage: null,
  };
}

/** A drill record's verdict: RTO rounded up to whole seconds (the column is TD-102's INTEGER). */
export function drillColumns(record: DrillRecordBase): DrillColumns {
  return {
    recoveryTested: record.verified,
    testTimestamp: record.startedAt,
    recoveryTimeSeconds: Math.ceil(record.restoreSeconds),
    verifiedAt: record.verified ? record.finishedAt : null,
    errorMessage: record.verified ? null : oneLine(record.problems.join(' | ') || 'the drill did not verify'),
  };
}

/** A drill that ended before it could write a record (no target, wrong key): not tested, and why. */
export function drillFailure(at: Date, error: string): DrillColumns {
  return {
    recoveryTested: false,
    testTimestamp: at.toISOString(),
    recoveryTimeSeconds: null,
    verifiedAt: null,
    errorMessage: oneLine(error),
  };
}

/** The data files: a pgBackRest manifest has none of its own (the data is in pgBackRest's repository). */
function dataFiles(manifest: Manifest): ManifestFile[] {
  return manifest.files.filter((file) => file.contents === undefined || file.contents === 'database');
}

/** One data file: its sha256; several (directory format, Qdrant): of their list as sha256sum prints it. */
export function dataSha256(manifest: Manifest): string | null {
  const files = dataFiles(manifest);
  if (files.length === 0) return null;
  if (files.length === 1) return files[0]!.sha256;
  const list = files.map((file) => `${file.sha256}  ${file.path}\n`).join('');
  return createHash('sha256').update(list).digest('hex');
}

function storedBytes(manifest: Manifest): number {
  if (manifest.pgbackrest) return manifest.pgbackrest.repoDeltaBytes;
  return manifest.files.reduce((sum, file) => sum + file.bytes, 0);
}

function locations(stores: Store[], folder: string): Pick<BackupRow, 'locationLocal' | 'locationS3'> {
  const urls = stores.map((store) => store.urlOf(folder));
  return {
    locationLocal: urls.find((url) => url.startsWith('file:')) ?? null,
    locationS3: urls.find((url) => url.startsWith('s3:')) ?? null,
  };
}

function oneLine(text: string): string {
  const line = text.split('\n').find((part) => part.trim() !== '') ?? text;
  return line.length <= MAX_ERROR_CHARS ? line : `${line.slice(0, MAX_ERROR_CHARS - 1)}…`;
}
