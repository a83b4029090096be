import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError } from '../action/errors.ts';
import { formatBytes } from '../format.ts';
import type { Store } from '../storage/index.ts';
import { LocalStore } from '../storage/local.ts';
import { listBackups } from './catalog.ts';
import type { Manifest } from './schema.ts';

/** The next backup is expected to be at most this much bigger than the newest one (TD-102's headroom). */
export const GROWTH_HEADROOM = 1.2;

export interface DiskUsage {
  /** Bytes an unprivileged writer may still use (statfs bavail). */
  freeBytes: number;
  /** Bytes in use (blocks - bfree): with freeBytes, what `df` shows as Use%. */
  usedBytes: number;
}

/** Use% as `df` computes it: used over what an unprivileged writer could have (the root reserve left out). */
export function usedPercent(usage: DiskUsage): number {
  const usable = usage.usedBytes + usage.freeBytes;
  return usable === 0 ? 100 : (usage.usedBytes / usable) * 100;
}

/** Where a folder's free space is read from: the real filesystem, or a stand-in in unit tests. */
export type DiskUsageSource = (folder: string) => Promise<DiskUsage>;

/** The filesystem that holds `folder`; a destination not created yet is on its nearest existing parent's. */
export async function diskUsage(folder: string): Promise<DiskUsage> {
  let at = path.resolve(folder);
  for (;;) {
    try {
      const stats = await fs.statfs(at);
      return { freeBytes: stats.bavail * stats.bsize, usedBytes: (stats.blocks - stats.bfree) * stats.bsize };
    } catch (error) {
      const parent = path.dirname(at);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw error;
      at = parent;
    }
  }
}

/** What a backup occupies in a destination: its files (a physical backup: what pgBackRest stored for it). */
export function storedBytes(manifest: Manifest): number {
  return manifest.files.reduce((sum, file) => sum + file.bytes, 0) + (manifest.pgbackrest?.repoDeltaBytes ?? 0);
}

/** The bytes the next backup of a name is expected to need: the newest one's stored size with headroom. */
export function neededBytes(previous: Manifest): number {
  return Math.ceil(storedBytes(previous) * GROWTH_HEADROOM);
}

/**
 * The backup before `currentId`: the newest other complete backup of the name, from the first destination that
 * lists one (restores read the same one). A destination that cannot be read is skipped.
 */
export async function previousCompleteBackup(
  stores: Store[],
  name: string,
  currentId: string,
): Promise<Manifest | undefined> {
  for (const store of stores) {
    const listings = await listBackups(store, name).catch(() => []);
    const previous = listings.find((listing) => listing.manifest && listing.id !== currentId)?.manifest;
    if (previous) return previous;
  }
  return undefined;
}

/** The newest complete backup of a name in one destination; none when it holds none (or cannot be read). */
async function newestIn(store: Store, name: string): Promise<Manifest | undefined> {
  return (await listBackups(store, name).catch(() => [])).find((listing) => listing.manifest)?.manifest;
}

export interface RoomShortage {
  destination: string;
  freeBytes: number;
  neededBytes: number;
}

/**
 * The local destinations that cannot hold the next backup of `name`: each against its own newest backup of it (what
 * it must hold again), read from the folder alone, so no network peer delays the start. A destination without a
 * previous backup has nothing to estimate from and is never short.
 */
export async function findShortages(
  stores: Store[],
  name: string,
  usage: DiskUsageSource = diskUsage,
): Promise<RoomShortage[]> {
  const shortages: RoomShortage[] = [];
  for (const store of stores) {
    if (!(store instanceof LocalStore)) continue;
    const previous = await newestIn(store, name);
    if (!previous) continue;
    const needed = neededBytes(previous);
    const { freeBytes } = await usage(store.root);
    if (freeBytes < needed) shortages.push({ destination: store.displayUrl, freeBytes, neededBytes: needed });
  }
  return shortages;
}

/**
 * Refuses to start a backup that cannot fit: a disk that fills mid-dump fails hours in and leaves the previous
 * backup as the newest anyway. One line per destination, naming free and needed bytes.
 */
export async function assertRoomForNextBackup(
  stores: Store[],
  name: string,
  usage: DiskUsageSource = diskUsage,
): Promise<void> {
  const shortages = await findShortages(stores, name, usage);
  if (shortages.length === 0) return;
  throw new ConfigurationError(
    `${shortages.map(shortageText).join('; ')}: nothing was written. Free space there (prune-backups) or give a ` +
      'bigger destination.',
  );
}

export function shortageText(shortage: RoomShortage): string {
  return (
    `${shortage.destination} has ${formatBytes(shortage.freeBytes)} (${shortage.freeBytes} bytes) free; the next ` +
    `backup needs about ${formatBytes(shortage.neededBytes)} (${shortage.neededBytes} bytes: the newest backup's ` +
    `stored size × ${GROWTH_HEADROOM})`
  );
}
