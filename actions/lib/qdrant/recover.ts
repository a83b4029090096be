import type { Identities } from '../crypto/age.ts';
import { PassThrough } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { backupFolder, type FoundBackup } from '../manifest/catalog.ts';
import { runDrill, type Budgets, type DrillRecordBase, type EngineOutcome } from '../manifest/drills.ts';
import type { ManifestFile, QdrantCollection } from '../manifest/schema.ts';
import { ChecksumError, fetchFile } from '../pipeline/fetch.ts';
import type { Store } from '../storage/index.ts';
import {
  collectionInfo,
  deleteCollection,
  listAliases,
  serverVersionOf,
  updateAliases,
  uploadSnapshot,
  type AliasOperation,
} from './api.ts';
import type { QdrantNode } from './client.ts';

export interface QdrantDrillOptions extends Budgets {
  found: FoundBackup;
  stores: Store[];
  /** The Qdrant to recover into (in workflows: a qdrant/qdrant service container). */
  target?: QdrantNode;
  identities: Identities;
  dryRun: boolean;
  /**
   * A real restore: each backed-up collection → the name to recover it as (aliases are recreated on it). Absent:
   * a drill into scratch collections `<name>-drill-<id>` that are deleted afterwards, whatever the outcome.
   */
  restoreAs?: Map<string, string>;
  /** Where the target and the restore-as mapping are given, for the hints. */
  targetOrigin: Origin;
  restoreAsOrigin: Origin;
  log: (line: string) => void;
  warn: (line: string) => void;
  now?: () => Date;
}

export interface CollectionCheck {
  name: string;
  restoredAs: string;
  expectedPoints: number;
  actualPoints: number | null;
  vectorsMatch: boolean | null;
}

export interface QdrantDrillRecord extends DrillRecordBase {
  engine: 'qdrant';
  mode: 'drill' | 'restore';
  collections: CollectionCheck[];
}

/** `trades=trades_v2, journal` or `*` (every collection under its own name) → source → target names. */
export function parseRestoreAs(items: string[], collections: string[], origin: Origin): Map<string, string> {
  const mapping = new Map<string, string>();
  for (const item of items) {
    if (item === '*') {
      for (const name of collections) mapping.set(name, name);
      continue;
    }
    const [source, target = source] = item.split('=').map((part) => part.trim());
    if (!source || !target || !collections.includes(source)) {
      throw new ConfigurationError(
        `${origin.title} has "${item}": use source=target pairs of the backup's collections ` +
          `(${collections.join(', ')}), or * for all under their own names.`,
      );
    }
    mapping.set(source, target);
  }
  return mapping;
}

/** Recovering across minor versions is only safe to the same or the next minor (shared/qdrant/NOTES.md). */
export function versionWarning(backupVersion: string, targetVersion: string): string | undefined {
  const minor = (version: string): [number, number] | undefined => {
    const match = /^(\d+)\.(\d+)/.exec(version);
    return match ? [Number(match[1]), Number(match[2])] : undefined;
  };
  const from = minor(backupVersion);
  const to = minor(targetVersion);
  if (!from || !to) return undefined;
  if (from[0] !== to[0] || to[1] - from[1] > 1 || to[1] < from[1]) {
    return (
      `The backup was made by Qdrant ${backupVersion}; the target runs ${targetVersion}. Snapshots are only ` +
      `safe to recover into the same or the next minor version.`
    );
  }
  return undefined;
}

type QdrantOutcome = EngineOutcome & Pick<QdrantDrillRecord, 'mode' | 'collections'>;

export async function drillQdrant(options: QdrantDrillOptions): Promise<QdrantDrillRecord> {
  const { manifest } = options.found;
  const target = options.target;
  // Before the drill starts: a missing or unreachable target says nothing about the backup, so it leaves no record.
  if (!options.dryRun && !target) {
    throw new ConfigurationError(
      `${options.targetOrigin.title} is required to drill a Qdrant backup: give the URL of a Qdrant to recover into ` +
        `(in a workflow, a qdrant/qdrant service container).`,
    );
  }
  if (target && !options.dryRun) {
    const warning = versionWarning(manifest.source.serverVersion, await serverVersionOf(target));
    if (warning) options.warn(warning);
  }
  const outcome: QdrantOutcome = {
    target: options.dryRun ? 'none (dry run)' : target!.url,
    restoreSeconds: 0,
    checksumsVerified: false,
    problems: [],
    mode: options.restoreAs ? 'restore' : 'drill',
    collections: [],
  };
  const { restoreAs } = options;
  const pointAliases =
    restoreAs && !options.dryRun
      ? () => recreateAliases(target!, manifest.collections ?? [], restoreAs, options.log)
      : undefined;
  return runDrill(
    {
      ...options,
      budgets: options,
      engine: 'qdrant',
      outcome,
      // A dry run only downloads: its time says nothing about how long a recovery takes.
      rtoInDryRun: false,
      onVerified: pointAliases,
    },
    (progress) => recoverAndCount(options, progress),
  );
}

/** Every collection recovered and checked; one that fails is a problem of its own, the others still run. */
async function recoverAndCount(options: QdrantDrillOptions, outcome: QdrantOutcome): Promise<void> {
  const { manifest } = options.found;
  const checks = outcome.collections;
  let everyFileRead = true;
  const started = Date.now();
  for (const collection of manifest.collections ?? []) {
    const restoredAs = options.restoreAs
      ? options.restoreAs.get(collection.name)
      : `${collection.name}-drill-${manifest.id.slice(-4)}`;
    if (!restoredAs) continue;
    try {
      checks.push(await recoverOne(options, collection, restoredAs));
    } catch (error) {
      // It could not run (wrong key, existing collection): a setup problem, not a verdict on the backup.
      if (error instanceof ConfigurationError) throw error;
      everyFileRead = false;
      outcome.problems.push(`${collection.name}: ${errorMessage(error)}`);
      checks.push({
        name: collection.name,
        restoredAs,
        expectedPoints: collection.points,
        actualPoints: null,
        vectorsMatch: null,
      });
    }
  }
  outcome.restoreSeconds = (Date.now() - started) / 1000;
  for (const check of checks.filter((c) => c.actualPoints !== null)) {
    if (check.actualPoints !== check.expectedPoints) {
      outcome.problems.push(
        `${check.name}: ${check.actualPoints} points after recovery, the manifest says ${check.expectedPoints}`,
      );
    }
    if (check.vectorsMatch === false) {
      outcome.problems.push(`${check.name}: the recovered vectors config differs from the manifest's`);
    }
  }
  outcome.checksumsVerified = everyFileRead && checks.length > 0;
}

/** The snapshot to recover for a collection: the first node's that holds shards. */
function snapshotFile(options: QdrantDrillOptions, collection: QdrantCollection): ManifestFile {
  const snapshot = collection.snapshots.find((s) => !s.empty) ?? collection.snapshots[0];
  const file = options.found.manifest.files.find((f) => f.path === snapshot?.file);
  if (!file?.rawSha256) throw new Error(`The manifest lists no snapshot file for ${collection.name}.`);
  return file;
}

async function recoverOne(
  options: QdrantDrillOptions,
  collection: QdrantCollection,
  restoredAs: string,
): Promise<CollectionCheck> {
  const { manifest, store } = options.found;
  const folder = backupFolder(manifest.name, manifest.id);
  const file = snapshotFile(options, collection);
  if (options.dryRun) {
    // Every byte fetched, checksummed, decrypted and decompressed; the snapshot's own sha256 checked too.
    const sink = new PassThrough().resume();
    await fetchFile(store, folder, file, sink, { identities: options.identities, log: options.log });
    return {
      name: collection.name,
      restoredAs: '(dry run)',
      expectedPoints: collection.points,
      actualPoints: collection.points,
      vectorsMatch: true,
    };
  }
  const target = options.target!;
  if (await exists(target, restoredAs)) {
    if (options.restoreAs) {
      throw new ConfigurationError(
        `Collection ${restoredAs} already exists on ${target.url}: a restore never replaces a collection. Delete ` +
          `it, or map ${collection.name} to another name with ${options.restoreAsOrigin}.`,
      );
    }
    options.warn(`Deleting ${restoredAs}, left behind by an earlier drill of this backup.`);
    await deleteCollection(target, restoredAs);
  }
  options.log(`Recovering ${collection.name} into ${restoredAs} on ${target.url}`);
  try {
    await streamSnapshot(options, folder, file, target, restoredAs);
    const info = await collectionInfo(target, restoredAs);
    return {
      name: collection.name,
      restoredAs,
      expectedPoints: collection.points,
      actualPoints: info.points_count ?? 0,
      vectorsMatch: isDeepStrictEqual(info.config.params.vectors ?? null, collection.vectorsConfig),
    };
  } finally {
    // A drill never leaves its scratch collection behind, even when recovery or verification failed.
    if (!options.restoreAs) {
      await deleteCollection(target, restoredAs).catch((error: unknown) =>
        options.warn(
          `Could not delete the scratch collection ${restoredAs}: ${errorMessage(error)}. Delete it by hand.`,
        ),
      );
    }
  }
}

/**
 * Storage → sha256 check → age → zstd → multipart upload, with Qdrant checking the snapshot's own sha256
 * (`checksum`) before it recovers anything. A damaged stored file is reported as such, before Qdrant's view.
 */
async function streamSnapshot(
  options: QdrantDrillOptions,
  folder: string,
  file: ManifestFile,
  target: QdrantNode,
  restoredAs: string,
): Promise<void> {
  const { store } = options.found;
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  const fetching = fetchFile(store, folder, file, body, { identities: options.identities, log: options.log });
  const uploading = uploadSnapshot(
    target,
    restoredAs,
    { priority: 'snapshot', checksum: file.rawSha256! },
    { stream: body, bytes: file.rawBytes, fileName: `${restoredAs}.snapshot` },
  ).finally(() => body.destroy());
  const [fetched, uploaded] = await Promise.allSettled([fetching, uploading]);
  if (
    fetched.status === 'rejected' &&
    (fetched.reason instanceof ChecksumError || fetched.reason instanceof ConfigurationError)
  ) {
    throw fetched.reason;
  }
  if (uploaded.status === 'rejected') throw uploaded.reason;
  if (fetched.status === 'rejected') throw fetched.reason;
}

async function exists(node: QdrantNode, collection: string): Promise<boolean> {
  try {
    await collectionInfo(node, collection);
    return true;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return false;
    throw error;
  }
}

/** Aliases are not in snapshots: point each recorded alias at the restored collection, in one atomic update. */
async function recreateAliases(
  target: QdrantNode,
  collections: QdrantCollection[],
  mapping: Map<string, string>,
  log: (line: string) => void,
): Promise<void> {
  const existing = new Set((await listAliases(target)).aliases.map((a) => a.alias_name));
  const actions: AliasOperation[] = [];
  for (const collection of collections) {
    const restoredAs = mapping.get(collection.name);
    if (!restoredAs) continue;
    for (const alias of collection.aliases) {
      if (existing.has(alias)) actions.push({ delete_alias: { alias_name: alias } });
      actions.push({ create_alias: { collection_name: restoredAs, alias_name: alias } });
    }
  }
  if (actions.length === 0) return;
  await updateAliases(target, actions);
  log(`Recreated ${actions.filter((action) => 'create_alias' in action).length} alias(es).`);
}
