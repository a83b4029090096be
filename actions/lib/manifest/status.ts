import { MANIFEST_FILE, type Manifest } from './schema.ts';
import { errorMessage } from '../action/errors.ts';
import type { Store } from '../storage/index.ts';
import { NOT_BACKUPS, listBackups } from './catalog.ts';
import { storedBytes } from './capacity.ts';
import { readDrills, type DrillRecordBase } from './drills.ts';

/** One complete backup as the status page shows it, with every drill of it. */
export interface BackupPoint {
  id: string;
  engine: Manifest['engine'];
  createdAt: string;
  finishedAt: string;
  durationSeconds: number;
  storedBytes: number;
  drills: DrillRecordBase[];
}

/** What the catalog says of one name: its complete backups (newest first) in the first destination that has any. */
export interface NameHistory {
  name: string;
  /** The destination read, for people; undefined when none had a complete backup. */
  destination?: string;
  backups: BackupPoint[];
  /** Destinations that could not be read, each with why. */
  problems: string[];
}

export interface NameStatus {
  name: string;
  engine?: Manifest['engine'];
  newest?: BackupPoint;
  newestAgeHours?: number;
  /** The newest drill of any backup of the name. */
  newestDrill?: DrillRecordBase;
  /** Restore seconds of the newest drills that restored something (not dry runs), newest first. */
  recentRtoSeconds: number[];
  stale: boolean;
}

/** Every name under a destination's root that holds at least one complete backup, sorted. */
export async function listNames(store: Store): Promise<string[]> {
  const names = new Set<string>();
  for await (const object of store.list('')) {
    const [name, id, file, ...rest] = object.key.split('/');
    if (name && id && file === MANIFEST_FILE && rest.length === 0 && !NOT_BACKUPS.has(id)) names.add(name);
  }
  return [...names].sort();
}

/** Names over every destination: a name that only one of them holds is still shown. */
export async function listNamesEverywhere(stores: Store[]): Promise<string[]> {
  const names = new Set<string>();
  for (const store of stores) for (const name of await listNames(store)) names.add(name);
  return [...names].sort();
}

/** A name's complete backups and drills, from the first destination that has any (restores read the same one). */
export async function readHistory(stores: Store[], name: string): Promise<NameHistory> {
  const problems: string[] = [];
  for (const store of stores) {
    try {
      const complete = (await listBackups(store, name)).filter((listing) => listing.manifest);
      if (complete.length === 0) continue;
      const backups = await Promise.all(
        complete.map(async ({ id, manifest }) => ({
          id,
          engine: manifest!.engine,
          createdAt: manifest!.createdAt,
          finishedAt: manifest!.finishedAt,
          durationSeconds: manifest!.durationSeconds,
          storedBytes: storedBytes(manifest!),
          drills: await readDrills(store, name, id),
        })),
      );
      return { name, destination: store.displayUrl, backups, problems };
    } catch (error) {
      problems.push(`${store.displayUrl}: ${errorMessage(error)}`);
    }
  }
  return { name, backups: [], problems };
}

/** How many of the newest drills' restore times the summary shows. */
export const RECENT_DRILLS = 5;

/** A name's row: its newest backup and how old it is, its newest drill, recent RTOs, and stale against the RPO. */
export function nameStatus(history: NameHistory, maxAgeHours: number, now: Date): NameStatus {
  const newest = history.backups[0];
  const drills = allDrills(history);
  const newestAgeHours = newest ? (now.getTime() - Date.parse(newest.finishedAt)) / 3_600_000 : undefined;
  return {
    name: history.name,
    engine: newest?.engine,
    newest,
    newestAgeHours,
    newestDrill: drills[0],
    recentRtoSeconds: drills
      .filter((drill) => !drill.dryRun)
      .slice(0, RECENT_DRILLS)
      .map((drill) => drill.restoreSeconds),
    stale: newestAgeHours === undefined || newestAgeHours > maxAgeHours,
  };
}

/** Every drill of every backup of the name, newest first. */
export function allDrills(history: NameHistory): DrillRecordBase[] {
  return history.backups.flatMap((backup) => backup.drills).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}
