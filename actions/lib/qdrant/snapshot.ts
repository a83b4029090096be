import { ChecksumError } from '../pipeline/fetch.ts';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import { backupFolder, manifestKey, writeManifest } from '../manifest/catalog.ts';
import { newBackupId } from '../manifest/ids.ts';
import type { BackupKind, Manifest, ManifestFile, QdrantCollection, QdrantSnapshot } from '../manifest/schema.ts';
import { storeStream } from '../pipeline/backup.ts';
import { removeFolder, type Store } from '../storage/index.ts';
import { BACKSTOP_VERSION } from '../version.ts';
import {
  collectionClusterInfo,
  collectionInfo,
  createSnapshot,
  deleteSnapshot,
  downloadSnapshot,
  listAliases,
  listCollections,
  serverVersionOf,
} from './api.ts';
import type { QdrantNode } from './client.ts';
import type { Origin } from '../action/origin.ts';

export interface SnapshotOptions {
  /** Every node of the cluster (one for a single server). */
  nodes: QdrantNode[];
  /** Collections to back up; empty means all. */
  collections: string[];
  /** Where they are named, for the error when Qdrant lacks one. */
  collectionsOrigin: Origin;
  name: string;
  kind: BackupKind;
  recipients: string[] | null;
  stores: Store[];
  /** Leave Qdrant's own copy of each snapshot on the server (it fills the server's disk night after night). */
  keepRemoteSnapshot: boolean;
  /** How long snapshot creation may run without an answer. */
  snapshotTimeoutMs: number;
  log: (line: string) => void;
  warn: (line: string) => void;
  /** Called once the backup has its id, before any byte is stored (the catalog's `running` row). */
  onStart?: (id: string, createdAt: Date) => void;
}

export interface SnapshotResult {
  manifest: Manifest;
  manifestUrl: string;
}

/**
 * snapshot-qdrant: for each collection and each node, Qdrant makes a snapshot; we stream it (sha256 while
 * streaming, compared with Qdrant's own checksum when it gives one) through zstd and age to every destination,
 * then delete the server-side snapshot. Aliases, points and vector configs go into the manifest, written last.
 */
export async function snapshotQdrant(options: SnapshotOptions): Promise<SnapshotResult> {
  const createdAt = new Date();
  const primary = options.nodes[0]!;
  const serverVersion = await serverVersionOf(primary);
  const collections = await chooseCollections(primary, options.collections, options.collectionsOrigin);
  const { aliases } = await listAliases(primary);
  const id = newBackupId(options.kind, createdAt);
  options.onStart?.(id, createdAt);
  const folder = backupFolder(options.name, id);
  options.log(
    `Qdrant ${serverVersion}, ${options.nodes.length} node(s): backing up ${collections.join(', ')} as ${id}`,
  );

  const files: ManifestFile[] = [];
  const records: QdrantCollection[] = [];
  try {
    for (const collection of collections) {
      const info = await collectionInfo(primary, collection);
      const snapshots: QdrantSnapshot[] = [];
      for (const [index, node] of options.nodes.entries()) {
        const { file, snapshot } = await snapshotOnNode(options, node, index, collection, folder);
        files.push(file);
        snapshots.push(snapshot);
      }
      records.push({
        name: collection,
        points: info.points_count ?? 0,
        vectorsConfig: info.config.params.vectors ?? null,
        shardNumber: info.config.params.shard_number ?? 1,
        payloadSchema: info.payload_schema,
        aliases: aliases.filter((alias) => alias.collection_name === collection).map((alias) => alias.alias_name),
        snapshots,
      });
      options.log(`${collection}: ${info.points_count ?? 0} points`);
    }
    const finishedAt = new Date();
    const manifest: Manifest = {
      version: 1,
      id,
      name: options.name,
      engine: 'qdrant',
      kind: options.kind,
      createdAt: createdAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: (finishedAt.getTime() - createdAt.getTime()) / 1000,
      source: { serverVersion, host: new URL(primary.url).host, nodes: options.nodes.map((node) => node.url) },
      tool: { name: 'backstop', version: BACKSTOP_VERSION },
      encryption: options.recipients ? { recipients: options.recipients } : null,
      files,
      collections: records,
    };
    await writeManifest(options.stores, manifest);
    return { manifest, manifestUrl: options.stores[0]!.urlOf(manifestKey(options.name, id)) };
  } catch (error) {
    await removeFolder(options.stores, folder);
    throw error;
  }
}

async function chooseCollections(node: QdrantNode, wanted: string[], origin: Origin): Promise<string[]> {
  const existing = (await listCollections(node)).collections.map((c) => c.name).sort();
  if (wanted.length === 0) {
    if (existing.length === 0)
      throw new ConfigurationError(`Qdrant at ${node.url} has no collections: there is nothing to back up.`);
    return existing;
  }
  const missing = wanted.filter((name) => !existing.includes(name));
  if (missing.length > 0) {
    throw new ConfigurationError(
      `${origin.title} names ${missing.join(', ')}, which Qdrant at ${node.url} does not have (it has: ` +
        `${existing.join(', ') || 'none'}).`,
    );
  }
  return wanted;
}

/** Does this node hold any shard of the collection? A node without one makes a valid but empty snapshot. */
async function holdsShards(node: QdrantNode, collection: string): Promise<boolean> {
  const info = await collectionClusterInfo(node, collection);
  return (info.local_shards ?? []).length > 0;
}

async function snapshotOnNode(
  options: SnapshotOptions,
  node: QdrantNode,
  index: number,
  collection: string,
  folder: string,
): Promise<{ file: ManifestFile; snapshot: QdrantSnapshot }> {
  const empty = !(await holdsShards(node, collection));
  const description = await createSnapshot(node, collection, options.snapshotTimeoutMs);
  const where = `snapshot ${description.name} of ${collection} on ${node.url}`;
  try {
    const { stream } = await downloadSnapshot(node, collection, description.name);
    // The connection breaking shows only as "aborted" or "socket hang up"; remember it to say what broke. Only when
    // it is the pipeline's own cause: a destination failing also ends the download, as an echo.
    let downloadFailure: Error | undefined;
    stream.once('error', (error) => (downloadFailure = error));
    const file = await storeStream(stream, options.stores, {
      path: `qdrant/node-${index}/${collection}.snapshot`,
      folder,
      compress: true,
      recipients: options.recipients,
      hashRaw: true,
      log: options.log,
    }).catch((error: unknown) => {
      if (error !== downloadFailure) throw error;
      throw new Error(
        `The download of the ${where} broke off before its ${description.size} bytes arrived ` +
          `(${errorMessage(downloadFailure)}). ` +
          'Nothing was kept; run the backup again.',
        { cause: error },
      );
    });
    if (file.rawBytes !== description.size) {
      throw new ChecksumError(
        `The ${where} should be ${description.size} bytes; ${file.rawBytes} arrived: the download was cut short.`,
      );
    }
    if (description.checksum && description.checksum !== file.rawSha256) {
      throw new ChecksumError(
        `Qdrant's checksum of the ${where} is ${description.checksum}; the downloaded bytes hash to ` +
          `${file.rawSha256}: ` +
          'the download was corrupted in transit. Nothing was kept; run the backup again.',
      );
    }
    return { file, snapshot: { node: index, file: file.path, empty, qdrantChecksum: description.checksum ?? null } };
  } finally {
    if (!options.keepRemoteSnapshot) {
      await deleteSnapshot(node, collection, description.name).catch((error: unknown) =>
        options.warn(
          `Could not delete the server-side snapshot ${description.name} on ${node.url}: ${(error as Error).message}`,
        ),
      );
    }
  }
}
