import type { Store } from '../storage/index.ts';
import { backupFolder, listBackups } from './catalog.ts';
import { readLatestDrill } from './drills.ts';
import { decideRetention, type RetentionPolicy } from './retention.ts';
import { MANIFEST_FILE, type Manifest } from './schema.ts';

export interface PruneOptions {
  stores: Store[];
  name: string;
  policy: RetentionPolicy;
  /** Folders without a manifest younger than this may be a backup still running: left alone. */
  incompleteGraceHours: number;
  dryRun: boolean;
  log: (line: string) => void;
  now?: Date;
  /**
   * Runs before a complete backup's folder is deleted, e.g. to drop a physical backup's data from pgBackRest's own
   * repository (`pgbackrest expire`). Its failure keeps the backup (reported as refused), manifest and all.
   */
  beforeDelete?: (store: Store, manifest: Manifest) => Promise<void>;
}

export interface PrunedBackup {
  id: string;
  bytes: number;
  /** Why it is kept, or why it goes ("retention", "incomplete"). */
  reasons: string[];
}

export interface StorePrune {
  store: string;
  kept: PrunedBackup[];
  deleted: PrunedBackup[];
  /** Backups the store refused to delete (S3 Object Lock, permissions): reported, not fatal. */
  refused: { id: string; error: string }[];
  /** Partial files and unfinished uploads of killed writers, older than the grace period, removed (or to be). */
  leftovers: number;
}

/** Backup ids start with their UTC time (20260118T030000Z-…): the age of a folder that has no manifest. */
function idTime(id: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return match
    ? new Date(Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!))
    : undefined;
}

/**
 * prune-backups, for every destination on its own (each holds what it holds): GFS over the complete backups,
 * ordered by their manifests' time; incomplete folders older than the grace period go too. A deletion removes the
 * manifest first, so a half-finished deletion never leaves a backup that looks complete but lacks files.
 */
export async function pruneBackups(options: PruneOptions): Promise<StorePrune[]> {
  const now = options.now ?? new Date();
  const results: StorePrune[] = [];
  for (const store of options.stores) {
    const listings = await listBackups(store, options.name);
    const complete = listings.filter((listing) => listing.manifest);
    const bases = chainBases(complete.map((listing) => listing.manifest!));
    const retained = await Promise.all(
      complete.map(async (listing) => ({
        id: listing.id,
        createdAt: new Date(listing.manifest!.createdAt),
        verified: (await readLatestDrill(store, options.name, listing.id).catch(() => undefined))?.verified === true,
        dependsOn: bases.get(listing.id),
      })),
    );
    const decision = decideRetention(retained, options.policy);
    const bytesOf = (id: string): number => listings.find((listing) => listing.id === id)?.bytes ?? 0;
    const result: StorePrune = { store: store.displayUrl, kept: [], deleted: [], refused: [], leftovers: 0 };
    for (const [id, reasons] of decision.keep) result.kept.push({ id, bytes: bytesOf(id), reasons });
    const graceEnd = now.getTime() - options.incompleteGraceHours * 3_600_000;
    const stale = listings.filter(
      (listing) => !listing.manifest && (idTime(listing.id)?.getTime() ?? now.getTime()) < graceEnd,
    );
    const referenced = referencedByKept(
      complete.map((listing) => listing.manifest!).filter((manifest) => decision.keep.has(manifest.id)),
    );
    const doomed = [
      ...decision.remove.map((id) => ({ id, bytes: bytesOf(id), reasons: ['retention'] })),
      ...stale.map((listing) => ({ id: listing.id, bytes: listing.bytes, reasons: ['incomplete (no manifest)'] })),
    ];
    for (const backup of doomed) {
      const stillNeeded = referenced.get(backup.id);
      if (stillNeeded) {
        const kept =
          `keeps ${stillNeeded.keys.size} stored object(s) that ${[...stillNeeded.by].sort().join(', ')} ` +
          'still reference(s)';
        const incomplete = backup.reasons[0] !== 'retention';
        // What is left of a pruned files backup is the bytes newer backups point at: kept, and said so.
        if (incomplete) {
          result.kept.push({ id: backup.id, bytes: stillNeeded.bytes, reasons: [kept] });
          if (!options.dryRun) await deleteBackup(store, options.name, backup.id, stillNeeded.keys).catch(() => {});
          continue;
        }
        backup.reasons.push(kept);
        backup.bytes = Math.max(0, backup.bytes - stillNeeded.bytes);
        options.log(`${store.displayUrl}: ${backup.id} ${kept}`);
      }
      if (options.dryRun) {
        result.deleted.push(backup);
        continue;
      }
      try {
        const manifest = listings.find((listing) => listing.id === backup.id)?.manifest;
        if (manifest) await options.beforeDelete?.(store, manifest);
        await deleteBackup(store, options.name, backup.id, stillNeeded?.keys);
        result.deleted.push(backup);
        options.log(`${store.displayUrl}: deleted ${backup.id} (${backup.reasons.join(', ')})`);
      } catch (error) {
        result.refused.push({ id: backup.id, error: (error as Error).message });
      }
    }
    result.leftovers = await removeLeftovers(store, options, graceEnd);
    result.kept.sort((a, b) => (a.id < b.id ? 1 : -1));
    results.push(result);
  }
  return results;
}

/** Which backup each incremental or differential physical backup is built on (by pgBackRest's `prior` label). */
function chainBases(manifests: Manifest[]): Map<string, string> {
  const byLabel = new Map(
    manifests.filter((manifest) => manifest.pgbackrest).map((manifest) => [manifest.pgbackrest!.label, manifest.id]),
  );
  const bases = new Map<string, string>();
  for (const manifest of manifests) {
    const base = manifest.pgbackrest?.prior ? byLabel.get(manifest.pgbackrest.prior) : undefined;
    if (base) bases.set(manifest.id, base);
  }
  return bases;
}

/** A writer killed outright (SIGKILL, a lost runner) leaves partial files or multipart uploads that no listing shows. */
async function removeLeftovers(store: Store, options: PruneOptions, graceEnd: number): Promise<number> {
  let removed = 0;
  for await (const leftover of store.leftovers(`${options.name}/`)) {
    if (leftover.startedAt.getTime() >= graceEnd) continue;
    if (!options.dryRun) await store.removeLeftover(leftover);
    removed += 1;
    options.log(
      `${store.displayUrl}: ${options.dryRun ? 'would remove' : 'removed'} the unfinished write of ${leftover.key}`,
    );
  }
  return removed;
}

/**
 * Stored objects of files backups that kept files backups point at (an unchanged object's bytes stay in the folder
 * of the backup that first stored it), by the id of the folder holding them.
 */
function referencedByKept(kept: Manifest[]): Map<string, { keys: Set<string>; bytes: number; by: Set<string> }> {
  const referenced = new Map<string, { keys: Set<string>; bytes: number; by: Set<string> }>();
  for (const manifest of kept) {
    for (const object of manifest.objects ?? []) {
      if (object.backupId === manifest.id) continue;
      const entry = referenced.get(object.backupId) ?? { keys: new Set<string>(), bytes: 0, by: new Set<string>() };
      const key = `${backupFolder(manifest.name, object.backupId)}/${object.storedPath}`;
      if (!entry.keys.has(key)) entry.bytes += object.storedBytes;
      entry.keys.add(key);
      entry.by.add(manifest.id);
      referenced.set(object.backupId, entry);
    }
  }
  return referenced;
}

/** Deletes a backup's folder, manifest first, except the keys a kept backup still needs. */
async function deleteBackup(store: Store, name: string, id: string, needed?: Set<string>): Promise<void> {
  const folder = backupFolder(name, id);
  const keys: string[] = [];
  for await (const object of store.list(`${folder}/`)) if (!needed?.has(object.key)) keys.push(object.key);
  const manifest = `${folder}/${MANIFEST_FILE}`;
  if (keys.includes(manifest)) await store.delete([manifest]);
  await store.delete(keys.filter((key) => key !== manifest));
}
