import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { newBackupId } from '../manifest/ids.ts';
import { backupFolder, manifestKey, writeManifest } from '../manifest/catalog.ts';
import type {
  BackupKind,
  Extension,
  Manifest,
  ManifestFile,
  RoleRecord,
  SchemaOwner,
  SecurityInventory,
  TableCount,
  TimescaleObjects,
} from '../manifest/schema.ts';
import { errorMessage } from '../action/errors.ts';
import { storeStream, toolAndStore } from '../pipeline/backup.ts';
import { onInterrupt } from '../interrupt.ts';
import { startTool } from '../process.ts';
import { removeFolder, type Store } from '../storage/index.ts';
import { BACKSTOP_VERSION } from '../version.ts';
import { countOf } from '../format.ts';
import { connect, libpqEnvironment, type DatabaseUrl } from '../pg/connection.ts';
import { pgDumpArgv } from './argv.ts';
import { ArchiveRowCounter } from './archive-rows.ts';
import { countRows, listDumpedTables, serverInfo, tablePatternMatcher, type TableRef } from './inventory.ts';
import { describeExtensions } from './extensions.ts';
import { dumpRoles } from './roles.ts';
import { readSecurityInventory } from './security.ts';
import { detectProvider, isReservedRole, listSchemaOwners, type Provider } from './supabase.ts';
import { readTimescaleObjects } from './timescale.ts';
import { findClientTool, type BinDirChoice, type PgTool, type ServerVersion } from '../pg/tools.ts';

export interface DumpOptions {
  database: DatabaseUrl;
  name: string;
  kind: BackupKind;
  format: 'custom' | 'directory';
  jobs: number;
  /** null: unencrypted (allow-unencrypted). */
  recipients: string[] | null;
  excludeTableData: string[];
  /** stream: exact counts read from the dump's own bytes (custom format); scan: count(*) of every table alongside. */
  rowCounts: 'stream' | 'scan';
  stores: Store[];
  pgBin: BinDirChoice;
  tempDir: string;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Called once the backup has its id, before any byte is stored (the catalog's `running` row). */
  onStart?: (id: string, createdAt: Date) => void;
}

export interface DumpResult {
  manifest: Manifest;
  manifestUrl: string;
  /** sha256 of the dump file; for directory format, of its `sha256  path` list (what sha256sum prints). */
  sha256: string;
}

/**
 * dump-postgres: pg_dump in an exported snapshot → zstd → age → every destination, row counts taken in that same
 * snapshot, manifest last. On failure, whatever was stored is removed (best effort); without a manifest it would
 * never be restored anyway.
 */
export async function dumpPostgres(options: DumpOptions): Promise<DumpResult> {
  const createdAt = new Date();
  const client = await connect(options.database);
  const id = newBackupId(options.kind, createdAt);
  options.onStart?.(id, createdAt);
  const folder = backupFolder(options.name, id);
  // Until the manifest is written, whatever reached a destination is removed on an interrupt, as on a failure.
  const forget = onInterrupt(`removed the unfinished backup ${id}`, () => removeFolder(options.stores, folder));
  try {
    const server = await serverInfo(client);
    const pgDump = await findClientTool('pg_dump', server, options.pgBin);
    options.log(`PostgreSQL ${server.version} at ${options.database.display}; ${pgDump.path} ${pgDump.version}`);

    // One snapshot for the dump and the counts: the manifest's row counts are exactly what the dump holds.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = await exportSnapshot(client);
    const extensions = await describeExtensions(client);
    const tables = await listDumpedTables(client);
    options.log(`Backup ${id}: ${tables.length} tables, snapshot ${snapshot}, ${options.format} format`);
    const access = await readAccess(client, options, server, folder);

    const excluded = tablePatternMatcher(options.excludeTableData);
    // Counted from the dump's own bytes when they can be read (the custom format), else by count(*) alongside it.
    const streamed = options.format === 'custom' && options.rowCounts === 'stream' ? new StreamedCounts() : undefined;
    const scanning = streamed ? undefined : countRows(client, tables, excluded);
    scanning?.catch(() => undefined);
    // After the scan, never alongside it: a read that fails rolls back to its savepoint, which queued counts must
    // not run into. Still in the dump's snapshot, while pg_dump runs.
    const recording = Promise.resolve(scanning).then(() => recordTimescale(client, extensions, options));
    recording.catch(() => undefined);
    const dumped =
      options.format === 'custom'
        ? [await dumpCustom(options, pgDump, snapshot, folder, streamed)]
        : await dumpDirectory(options, pgDump, snapshot, folder, id);
    const timescaledb = await recording;
    const databaseFiles = dumped.map((file): ManifestFile => ({ ...file, contents: 'database' }));
    const files = [...databaseFiles, access.rolesFile];
    const counts: TableCount[] = scanning
      ? await scanning
      : await streamedCounts(streamed!, client, tables, excluded, options.log);
    await client.query('COMMIT');

    const finishedAt = new Date();
    const manifest: Manifest = {
      version: 1,
      id,
      name: options.name,
      engine: 'postgres',
      kind: options.kind,
      createdAt: createdAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: (finishedAt.getTime() - createdAt.getTime()) / 1000,
      source: {
        serverVersion: server.version,
        serverVersionNum: server.versionNum,
        database: server.database,
        host: options.database.host,
        extensions,
        ...(access.provider ? { provider: access.provider } : {}),
        schemas: access.schemas,
      },
      tool: { name: 'backstop', version: BACKSTOP_VERSION, pgDump: pgDump.version },
      format: options.format,
      encryption: options.recipients ? { recipients: options.recipients } : null,
      files,
      tables: counts,
      ...(timescaledb ? { timescaledb } : {}),
      roles: access.roles,
      security: access.security,
    };
    await writeManifest(options.stores, manifest);
    return {
      manifest,
      manifestUrl: options.stores[0]!.urlOf(manifestKey(options.name, id)),
      sha256: databaseFiles.length === 1 ? databaseFiles[0]!.sha256 : digestOfList(databaseFiles),
    };
  } catch (error) {
    await removeFolder(options.stores, folder);
    throw error;
  } finally {
    forget();
    await client.end().catch(() => undefined);
  }
}

/**
 * The hypertables, continuous aggregates and policy jobs, for drills to compare. A TimescaleDB whose views this
 * Backstop cannot read (an old 2.x) still gets its backup: without the record, drills compare rows only.
 */
async function recordTimescale(
  client: pg.Client,
  extensions: Extension[],
  options: DumpOptions,
): Promise<TimescaleObjects | undefined> {
  const version = extensions.find((extension) => extension.name === 'timescaledb')?.version;
  if (!version) return undefined;
  await client.query('SAVEPOINT timescale_objects');
  try {
    const objects = await readTimescaleObjects(client, version);
    await client.query('RELEASE SAVEPOINT timescale_objects');
    options.log(
      `TimescaleDB ${version}: ${countOf(objects.hypertables.length, 'hypertable')}, ` +
        `${countOf(objects.continuousAggregates.length, 'continuous aggregate')}, ` +
        `${countOf(objects.jobs.length, 'policy job')} recorded`,
    );
    return objects;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT timescale_objects');
    options.warn(
      `TimescaleDB ${version}: its objects could not be read (${errorMessage(error)}); the manifest does not ` +
        'record them, so drills of this backup compare rows only.',
    );
    return undefined;
  }
}

/**
 * Who may see what: the roles file (pg_dumpall, cluster-wide, no passwords), every schema's owner, and the grants,
 * default privileges, row level security and policies in the dump's snapshot; and the provider they reveal.
 */
async function readAccess(
  client: pg.Client,
  options: DumpOptions,
  server: ServerVersion,
  folder: string,
): Promise<{
  rolesFile: ManifestFile;
  roles: RoleRecord[];
  schemas: SchemaOwner[];
  security: SecurityInventory;
  provider: Provider | undefined;
}> {
  const [schemas, security] = [await listSchemaOwners(client), await readSecurityInventory(client)];
  const pgDumpall = await findClientTool('pg_dumpall', server, options.pgBin);
  const { file, roles } = await dumpRoles({ ...options, pgDumpall, folder });
  const provider = detectProvider(
    schemas,
    roles.map((role) => role.name),
  );
  if (provider) options.log(`Provider: ${provider} (its roles and its auth and storage schemas)`);
  return {
    rolesFile: file,
    roles: roles.map((role) => ({ name: role.name, reserved: isReservedRole(provider, role.name) })),
    schemas,
    security,
    provider,
  };
}

async function exportSnapshot(client: pg.Client): Promise<string> {
  try {
    const { rows } = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
    return rows[0]!.snapshot;
  } catch (error) {
    throw new Error(
      `Could not export a snapshot (${(error as Error).message}): connect through a direct or session-mode ` +
        'connection, not a transaction-mode pooler (Supabase: port 5432, not 6543).',
    );
  }
}

/** Custom format to stdout, uncompressed (we compress with zstd, faster and smaller than pg_dump's gzip). */
async function dumpCustom(
  options: DumpOptions,
  pgDump: PgTool,
  snapshot: string,
  folder: string,
  counts: StreamedCounts | undefined,
): Promise<ManifestFile> {
  const argv = pgDumpArgv({ ...options, snapshot, archive: { format: 'custom' } });
  const tool = startTool(pgDump.path, argv, { env: libpqEnvironment(options.database), label: 'pg_dump' });
  const storing = storeStream(tool.child.stdout!, options.stores, {
    path: 'postgres.dump',
    folder,
    compress: true,
    recipients: options.recipients,
    observe: counts && ((chunk) => counts.push(chunk)),
    log: options.log,
  });
  // pg_dump's exit status decides: a dump that stopped early still ends its stdout cleanly.
  const [stored, exited] = await Promise.allSettled([storing, tool.exited]);
  return toolAndStore(stored, exited);
}

/**
 * Directory format with parallel jobs. pg_dump cannot stream it (each worker writes its own files), so it is
 * spooled to the temp folder with pg_dump's own fast gzip, then each file is encrypted and stored and deleted.
 * This needs free disk for the compressed dump; the custom format needs none.
 */
async function dumpDirectory(
  options: DumpOptions,
  pgDump: PgTool,
  snapshot: string,
  folder: string,
  id: string,
): Promise<ManifestFile[]> {
  const spool = path.join(options.tempDir, `backstop-${id}`);
  await fs.rm(spool, { recursive: true, force: true });
  const forget = onInterrupt('removed the spooled dump files', () => fs.rm(spool, { recursive: true, force: true }));
  try {
    const archive = { format: 'directory', path: spool, jobs: options.jobs } as const;
    const argv = pgDumpArgv({ ...options, snapshot, archive });
    const tool = startTool(pgDump.path, argv, { env: libpqEnvironment(options.database), label: 'pg_dump' });
    await tool.exited;
    const files: ManifestFile[] = [];
    for (const entry of (await fs.readdir(spool)).sort()) {
      const file = path.join(spool, entry);
      files.push(
        await storeStream(createReadStream(file, { highWaterMark: 1 << 20 }), options.stores, {
          path: `dump/${entry}`,
          folder,
          compress: false,
          recipients: options.recipients,
          log: options.log,
        }),
      );
      await fs.rm(file);
    }
    return files;
  } finally {
    forget();
    await fs.rm(spool, { recursive: true, force: true });
  }
}

/** The archive's row counter, which never fails the dump: an archive it cannot read sends us back to count(*). */
class StreamedCounts {
  private readonly counter = new ArchiveRowCounter();
  failure: Error | undefined;

  push(chunk: Buffer): void {
    if (this.failure) return;
    try {
      this.counter.push(chunk);
    } catch (error) {
      this.failure = error as Error;
    }
  }

  finish(): Map<string, { rows: number; bytes: number }> {
    if (this.failure) throw this.failure;
    return this.counter.finish();
  }
}

/**
 * The manifest's counts from the dump stream. A table the stream has no data for (a partitioned parent, or one
 * whose data was left out) is counted with count(*) in the same snapshot, which is still open; so is every table
 * when the archive could not be read.
 */
async function streamedCounts(
  streamed: StreamedCounts,
  client: pg.Client,
  tables: TableRef[],
  excluded: (table: TableRef) => boolean,
  log: (line: string) => void,
): Promise<TableCount[]> {
  let fromStream: Map<string, { rows: number; bytes: number }>;
  try {
    fromStream = streamed.finish();
  } catch (error) {
    log(`Row counts: the dump stream could not be read (${errorMessage(error)}); counting with count(*) instead.`);
    return countRows(client, tables, excluded);
  }
  const key = (table: TableRef): string => `${table.schema}.${table.name}`;
  const unseen = tables.filter((table) => !fromStream.has(key(table)));
  const scanned = new Map((await countRows(client, unseen, excluded)).map((count) => [key(count), count.rows]));
  return tables.map((table): TableCount => {
    const streamedTable = fromStream.get(key(table));
    if (!streamedTable) return { ...table, rows: scanned.get(key(table))! };
    return { ...table, rows: streamedTable.rows, dataBytes: streamedTable.bytes };
  });
}

function digestOfList(files: ManifestFile[]): string {
  const list = files.map((file) => `${file.sha256}  ${file.path}\n`).join('');
  return createHash('sha256').update(list).digest('hex');
}
