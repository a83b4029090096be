import { text } from 'node:stream/consumers';
import type { Store } from '../storage/index.ts';
import { backupFolder, manifestKey, putJson } from './catalog.ts';
import type { Manifest } from './schema.ts';

/**
 * What every restore drill records next to its backup (`drills/<time>.json`), whatever the engine. Retention reads
 * `verified` to keep the newest backup whose drill passed; people read the rest.
 */
export interface DrillRecordBase {
  version: 1;
  backupId: string;
  name: string;
  engine: Manifest['engine'];
  startedAt: string;
  finishedAt: string;
  dryRun: boolean;
  /** Where it was restored, for people: a redacted URL or "a throwaway local PostgreSQL". */
  target: string;
  restoreSeconds: number;
  backupAgeHours: number;
  verified: boolean;
  /** Every stored file was read to its end and matched the manifest's sha256. */
  checksumsVerified: boolean;
  problems: string[];
}

export interface Budgets {
  maxRestoreSeconds?: number;
  maxAgeHours?: number;
}

export function backupAgeHours(manifest: Manifest, at: Date): number {
  return (at.getTime() - Date.parse(manifest.finishedAt)) / 3_600_000;
}

/** RPO: is the backup older than allowed when the drill starts? */
export function ageProblem(ageHours: number, budgets: Budgets): string | undefined {
  if (budgets.maxAgeHours === undefined || ageHours <= budgets.maxAgeHours) return undefined;
  return `The backup is ${ageHours.toFixed(1)} h old, over max-age-hours ${budgets.maxAgeHours} (RPO): check that the backup workflow still runs.`;
}

/** RTO: did the restore take longer than allowed? */
export function restoreTimeProblem(seconds: number, budgets: Budgets): string | undefined {
  if (budgets.maxRestoreSeconds === undefined || seconds <= budgets.maxRestoreSeconds) return undefined;
  return `The restore took ${seconds.toFixed(1)} s, over max-restore-seconds ${budgets.maxRestoreSeconds} (RTO).`;
}

/** Writes the record next to the backup in every destination that holds the backup. */
export async function writeDrillRecord(stores: Store[], manifest: Manifest, record: DrillRecordBase): Promise<void> {
  const holders: Store[] = [];
  for (const store of stores) {
    if ((await store.head(manifestKey(manifest.name, manifest.id)).catch(() => undefined)) !== undefined) holders.push(store);
  }
  // Milliseconds kept: two drills in the same second (a retry) must not overwrite each other's record.
  const stamp = record.startedAt.replace(/[-:]/g, '');
  await putJson(holders, `${backupFolder(manifest.name, manifest.id)}/drills/${stamp}.json`, record);
}

/** The newest drill record of a backup, or undefined when it was never drilled. */
export async function readLatestDrill(store: Store, name: string, id: string): Promise<DrillRecordBase | undefined> {
  const keys: string[] = [];
  for await (const object of store.list(`${backupFolder(name, id)}/drills/`)) keys.push(object.key);
  const latest = keys.sort().at(-1);
  return latest ? (JSON.parse(await text(await store.get(latest))) as DrillRecordBase) : undefined;
}
