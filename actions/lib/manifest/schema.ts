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
}

export interface TableCount {
  schema: string;
  name: string;
  /** Exact count in the dump's snapshot; null when the table's data was excluded from the dump. */
  rows: number | null;
}

export interface Extension {
  name: string;
  version: string;
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
  engine: 'postgres' | 'qdrant';
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
    /** Qdrant: every node snapshotted, without credentials. */
    nodes?: string[];
  };
  tool: { name: 'backstop'; version: string; pgDump?: string };
  /** pg_dump archive format; the restore picks pg_restore's mode from it. */
  format?: 'custom' | 'directory';
  /** Public keys only. null when the backup was made with allow-unencrypted. */
  encryption: { recipients: string[] } | null;
  files: ManifestFile[];
  tables?: TableCount[];
  collections?: QdrantCollection[];
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
