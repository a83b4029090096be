/**
 * manifest.json: the last object written for a backup, and the only proof a backup is complete. Plain JSON (not
 * encrypted) so catalogs, retention and people can read it without keys; it holds no secret and no row data.
 */
export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export const BACKUP_KINDS = ['hourly', 'daily', 'weekly', 'monthly', 'manual', 'pre-migration'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

export type Compression = 'zstd' | 'gzip' | 'none';
export type Encryption = 'age' | 'none';

export interface ManifestFile {
  /** Relative to the backup's folder. */
  path: string;
  /** Stored bytes (after compression and encryption): what sha256 covers. */
  bytes: number;
  sha256: string;
  /** Bytes the tool produced, before our compression. */
  rawBytes: number;
  /** sha256 of the tool's output before compression and encryption, when the engine needs it (Qdrant's upload
   *  checksum); `age -d | zstd -d | sha256sum` gives it back by hand. */
  rawSha256?: string;
  compression: Compression;
  encryption: Encryption;
  /** What the file holds: the dump itself, or the cluster's roles. Absent in older manifests: the database. */
  contents?: FileContents;
}

/** `database`: the pg_dump archive; `roles`: pg_dumpall --roles-only --no-role-passwords (no password in it). */
export type FileContents = 'database' | 'roles' | 'pgbackrest-info';

export interface TableCount {
  schema: string;
  name: string;
  /** Exact count in the dump's snapshot; null when the table's data was excluded from the dump. */
  rows: number | null;
  /** Bytes of its rows in the dump (COPY text, before compression), read from the dump stream as it passes.
   *  Absent when the rows were counted with count(*) instead (directory format, `row-counts: scan`). */
  dataBytes?: number;
}

export interface Extension {
  name: string;
  version: string;
  /** The schema its objects are in (pg_extension.extnamespace). */
  schema?: string;
  /** Schemas the extension itself created (its members, e.g. pg_cron's `cron`): what leaves with it. */
  memberSchemas?: string[];
  /**
   * Dumped objects outside the extension that use its objects (a view calling its function, a column of its type),
   * as pg_restore --list names their catalog ids (`<catalog oid> <object oid>`): a target that lacks the extension
   * cannot restore them, and pg_dump's own dependencies do not say so.
   */
  dependents?: string[];
}

/** A schema and its owner, so a drill can tell a provider's managed schemas from the user's. */
export interface SchemaOwner {
  name: string;
  owner: string;
}

/** A role of the roles file; `reserved`: one the provider manages (never altered where it already exists). */
export interface RoleRecord {
  name: string;
  reserved: boolean;
}

/**
 * Who may see what, as the dump's snapshot saw it: what a drill checks the restore against. Objects an extension
 * owns are left out (the extension recreates them).
 */
export interface SecurityInventory {
  /**
   * How many roles besides the owner hold privileges on each schema, table, view, sequence and function that has
   * any: `schema auth`, `relation public.trades`, `function public.handle_new_user()` (argument types only).
   */
  grants: Record<string, number>;
  /** ALTER DEFAULT PRIVILEGES entries (role, schema, object type, grantee). */
  defaultPrivileges: number;
  /** Tables with row level security enabled, and whether it is forced on their owner too. */
  rls: { schema: string; name: string; forced: boolean }[];
  policies: { schema: string; table: string; name: string }[];
}

/**
 * TimescaleDB's objects as the dump's snapshot saw them: what a drill compares the restored database with. Names are
 * TimescaleDB's own (a dump restores its catalog as it was, internal names included); intervals are as the server
 * prints them ('1 day', '12:00:00'), which the same extension version prints the same way.
 */
export interface TimescaleObjects {
  /** The extension version of the source: a dump of TimescaleDB restores only into this same version. */
  version: string;
  hypertables: HypertableRecord[];
  continuousAggregates: ContinuousAggregateRecord[];
  /** The policy jobs (compression/columnstore, retention, refresh, reorder, user jobs), not TimescaleDB's own. */
  jobs: TimescaleJobRecord[];
}

export interface HypertableRecord {
  schema: string;
  name: string;
  timeColumn: string;
  /** The time dimension's chunk interval ('1 day'), or the integer interval of an integer time column. */
  chunkInterval: string;
  compression: {
    /** Compression (the columnstore, since 2.18) is enabled on the hypertable. */
    enabled: boolean;
    segmentBy: string[];
    /** Column and direction, e.g. `"time" DESC`. */
    orderBy: string[];
  };
  chunks: number;
  compressedChunks: number;
}

export interface ContinuousAggregateRecord {
  schema: string;
  name: string;
  /** The hypertable it reads, schema.name (a hierarchical one reads its parent's materialization hypertable). */
  source: string;
  materializedOnly: boolean;
  /** sha256 of the view's definition as the server prints it (timescaledb_information.continuous_aggregates). */
  definitionSha256: string;
  /** Rows of its materialization hypertable: what has been materialized. */
  rows: number;
}

export interface TimescaleJobRecord {
  /** The job's procedure, e.g. policy_compression, policy_retention, policy_refresh_continuous_aggregate. */
  proc: string;
  /** The hypertable or continuous aggregate it works on (schema.name); null for a job tied to none. */
  hypertable: string | null;
  scheduleInterval: string;
  scheduled: boolean;
  config: Record<string, unknown> | null;
}

/** One collection of a Qdrant backup: what a drill compares and what a restore recreates. */
export interface QdrantCollection {
  name: string;
  points: number;
  /** config.params.vectors as Qdrant reported it: one vector config or named ones. */
  vectorsConfig: unknown;
  shardNumber: number;
  payloadSchema: unknown;
  /** Aliases are not inside snapshots: recorded here, recreated on restore. */
  aliases: string[];
  /** One snapshot per node of the cluster (`nodes` in source). */
  snapshots: QdrantSnapshot[];
}

export interface QdrantSnapshot {
  /** Index into source.nodes. */
  node: number;
  /** The stored file (a path in `files`). */
  file: string;
  /** The node holds no shard of this collection: its snapshot is valid but empty. */
  empty: boolean;
  /** The checksum Qdrant gave when it made the snapshot (absent with S3 snapshot storage). */
  qdrantChecksum: string | null;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  id: string;
  name: string;
  engine: 'postgres' | 'qdrant' | 'pgbackrest' | 'files';
  kind: BackupKind;
  createdAt: string;
  finishedAt: string;
  durationSeconds: number;
  source: {
    serverVersion: string;
    host: string;
    /** PostgreSQL */
    serverVersionNum?: number;
    database?: string;
    extensions?: Extension[];
    /** The managed service the database runs on, when recognised (its reserved roles and schemas). */
    provider?: 'supabase';
    /** PostgreSQL: every schema of the database and its owner. */
    schemas?: SchemaOwner[];
    /** Qdrant: every node snapshotted, without credentials. */
    nodes?: string[];
    /** Files: the bucket and prefix backed up (s3://bucket/prefix). */
    url?: string;
  };
  tool: { name: 'backstop'; version: string; pgDump?: string };
  /** pg_dump archive format; the restore picks pg_restore's mode from it. */
  format?: 'custom' | 'directory';
  /** Public keys only. null when the backup was made with allow-unencrypted. */
  encryption: { recipients: string[] } | null;
  files: ManifestFile[];
  tables?: TableCount[];
  /** PostgreSQL with the timescaledb extension: its hypertables, continuous aggregates and policy jobs. */
  timescaledb?: TimescaleObjects;
  /** PostgreSQL: the roles in the roles file (cluster-wide), without any password. */
  roles?: RoleRecord[];
  /** PostgreSQL: grants, default privileges, row level security and policies in the dump. */
  security?: SecurityInventory;
  collections?: QdrantCollection[];
  /** pgBackRest: the physical backup this manifest stands for (its files are in the repository, not here). */
  pgbackrest?: PgbackrestBackupRecord;
  /** Files: every object of the source when the backup was made, each pointing at the backup that holds its bytes. */
  objects?: FilesObject[];
  /** Files: how this backup relates to the ones before it. */
  filesBackup?: FilesBackupRecord;
}

/**
 * One object of a files backup's listing. Its bytes are stored once, in the folder of `backupId` (this backup, or an
 * earlier one when the object had not changed), at `storedPath`: `<name>/<backupId>/<storedPath>`.
 */
export interface FilesObject {
  /** Relative to the source's prefix. */
  key: string;
  bytes: number;
  etag: string;
  lastModified: string;
  /** sha256 of the object's content, as the source served it. */
  sha256: string;
  backupId: string;
  storedPath: string;
  storedBytes: number;
  /** sha256 of the stored bytes (after compression and encryption). */
  storedSha256: string;
  compression: Compression;
  encryption: Encryption;
}

export interface FilesBackupRecord {
  /** Every object stored again (a full backup), or only new and changed ones (incremental). */
  full: boolean;
  /** The backup whose listing this one was compared with; null for a full backup. */
  previous: string | null;
  /** The newest full backup of the chain (this one when full), and when it was made. */
  fullBackupId: string;
  fullCreatedAt: string;
  storedObjects: number;
  reusedObjects: number;
  /** Objects that changed while being read, twice: not in this backup (the next run tries again). */
  skipped: { key: string; reason: string }[];
}

/**
 * A pgBackRest backup set as Backstop records it. The data lives in pgBackRest's repository (`<name>/pgbackrest/`);
 * the Backstop folder holds `pgbackrest-info.json` (the set as `pgbackrest info` described it) and this manifest.
 */
export interface PgbackrestBackupRecord {
  stanza: string;
  /** pgBackRest's own label, e.g. 20260118-030000F or 20260118-030000F_20260118-040000I. */
  label: string;
  type: 'full' | 'diff' | 'incr';
  /** The backup it depends on (diff, incr); null for a full one. */
  prior: string | null;
  /** Where pgBackRest's backup started and stopped (ISO times): the database is consistent from `stoppedAt` on. */
  startedAt: string;
  stoppedAt: string;
  lsn: { start: string; stop: string };
  /** The WAL segments the backup itself needs (restore replays these at least). */
  wal: { start: string | null; stop: string | null };
  /** The cluster's size, what this backup copied, and what the repository stores for it (zstd, encrypted). */
  sizeBytes: number;
  deltaBytes: number;
  repoSizeBytes: number;
  repoDeltaBytes: number;
  pgbackrestVersion: string;
  /** The repository, for people: file path or s3://bucket/path. */
  repo: string;
  cipher: 'aes-256-cbc' | 'none';
  /** The role database-url connected as: the drill connects to the restored cluster as it. */
  role: string;
}

/**
 * From when on a backup holds the database: a physical backup from where pgBackRest stopped it, a dump from when it
 * finished (its snapshot is older, but the backup is complete only then).
 */
export function consistentAt(manifest: Manifest): string {
  return manifest.pgbackrest?.stoppedAt ?? manifest.finishedAt;
}

/** Checks the fields a restore relies on; anything else may grow over time. */
export function parseManifest(text: string, where: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON: the manifest is damaged; restore from another destination.`);
  }
  const manifest = data as Partial<Manifest>;
  if (typeof manifest !== 'object' || manifest === null) throw new Error(`${where} is not a manifest object.`);
  if (manifest.version !== MANIFEST_VERSION) {
    throw new Error(
      `${where} has manifest version ${String(manifest.version)}; this Backstop reads version ${MANIFEST_VERSION}: ` +
        'use the Backstop release that wrote it.',
    );
  }
  const missing = (['id', 'name', 'engine', 'createdAt', 'files'] as const).filter((key) => manifest[key] == null);
  if (missing.length > 0) throw new Error(`${where} lacks ${missing.join(', ')}: the manifest is damaged.`);
  if (manifest.engine === 'files') return checkFilesManifest(manifest, where);
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) {
    // A backup of nothing restores nothing: reading on would start pg_restore on an input nobody writes.
    throw new Error(`${where} lists no files: the manifest is damaged; restore from another destination or backup.`);
  }
  for (const file of manifest.files ?? []) {
    if (typeof file.path !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256) || typeof file.bytes !== 'number') {
      throw new Error(`${where} lists a file without path, bytes or sha256: the manifest is damaged.`);
    }
    if (file.path.split('/').includes('..') || file.path.startsWith('/')) {
      throw new Error(`${where} lists a file outside its backup folder (${file.path}).`);
    }
  }
  return manifest as Manifest;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * A files backup may store nothing of its own (an incremental after a quiet day): its listing is what must be sound,
 * every object pointing at a backup folder of the same name and a stored path inside it.
 */
function checkFilesManifest(manifest: Partial<Manifest>, where: string): Manifest {
  if (!Array.isArray(manifest.files) || !Array.isArray(manifest.objects)) {
    throw new Error(`${where} is a files backup without files or objects: the manifest is damaged.`);
  }
  for (const object of manifest.objects) {
    const sound =
      typeof object.key === 'string' &&
      typeof object.bytes === 'number' &&
      SHA256.test(object.sha256) &&
      SHA256.test(object.storedSha256) &&
      /^\d{8}T\d{6}Z-[a-z-]+-[0-9a-f]{4}$/.test(object.backupId) &&
      /^objects\/[0-9a-f/]+(\.zst)?(\.age)?$/.test(object.storedPath);
    if (!sound) {
      throw new Error(
        `${where} lists an object without a sound key, checksums or stored path: the manifest is damaged.`,
      );
    }
  }
  return manifest as Manifest;
}
