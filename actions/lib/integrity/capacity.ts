import type pg from 'pg';
import { formatBytes } from '../format.ts';
import { diskUsage, neededBytes, usedPercent, type DiskUsageSource, GROWTH_HEADROOM } from '../manifest/capacity.ts';
import { listBackups } from '../manifest/catalog.ts';
import { listNames } from '../manifest/status.ts';
import type { Store } from '../storage/index.ts';
import { LocalStore } from '../storage/local.ts';
import { fail, pass, type CheckResult } from './check.ts';

export interface CapacitySettings {
  /** A disk, a storage quota or a database quota this full (percent) fails. */
  maxPercent: number;
  storageQuotaBytes?: number;
  databaseQuotaBytes?: number;
}

export const DEFAULT_CAPACITY: CapacitySettings = { maxPercent: 80 };

interface NameUsage {
  name: string;
  /** Every object under `<name>/`: complete backups, incomplete ones, drill records, pgBackRest's repository. */
  bytes: number;
  /** The next backup's expected size (newest complete one × 1.2); 0 without one. */
  nextBytes: number;
}

/** What each name occupies in a destination, and what its next backup is expected to need. */
async function usageByName(store: Store, names: string[]): Promise<NameUsage[]> {
  return Promise.all(
    names.map(async (name) => {
      let bytes = 0;
      for await (const object of store.list(`${name}/`)) bytes += object.bytes;
      const newest = (await listBackups(store, name)).find((listing) => listing.manifest)?.manifest;
      return { name, bytes, nextBytes: newest ? neededBytes(newest) : 0 };
    }),
  );
}

/**
 * One destination: a local folder's filesystem (Use% against the allowed share, and room for the next backup of
 * every name in it), an S3 prefix's bytes per name against the storage quota (and room for the next backups).
 * `names`: the names to account for; empty: every name found there.
 */
export async function checkStoreCapacity(
  store: Store,
  names: string[],
  settings: CapacitySettings,
  usage: DiskUsageSource = diskUsage,
): Promise<CheckResult> {
  const check = `capacity: ${store.displayUrl}`;
  const byName = await usageByName(store, names.length > 0 ? names : await listNames(store));
  const next = byName.reduce((sum, entry) => sum + entry.nextBytes, 0);
  const stored = byName.reduce((sum, entry) => sum + entry.bytes, 0);
  const details = { names: byName, nextBackupsBytes: next, headroom: GROWTH_HEADROOM };
  const perName = byName.map((entry) => `${entry.name} ${formatBytes(entry.bytes)}`).join(', ') || 'no backups';
  if (store instanceof LocalStore) {
    const disk = await usage(store.root);
    const percent = usedPercent(disk);
    const line =
      `disk ${percent.toFixed(1)}% used (max ${settings.maxPercent}%), ${formatBytes(disk.freeBytes)} ` +
      `free; the next backups need about ${formatBytes(next)} (newest × ${GROWTH_HEADROOM}); ${perName}`;
    const all = { ...details, ...disk, usedPercent: percent };
    if (percent >= settings.maxPercent) return fail(check, line, all);
    if (next > disk.freeBytes) return fail(check, `the next backups do not fit: ${line}`, all);
    return pass(check, line, all);
  }
  const quota = settings.storageQuotaBytes;
  if (quota === undefined) return pass(check, `${formatBytes(stored)} stored (no quota set); ${perName}`, details);
  const percent = (stored / quota) * 100;
  const line =
    `${formatBytes(stored)} of the ${formatBytes(quota)} quota (${percent.toFixed(1)}%, max ${settings.maxPercent}%); ` +
    `the next backups need about ${formatBytes(next)}; ${perName}`;
  const all = { ...details, storedBytes: stored, quotaBytes: quota, usedPercent: percent };
  if (percent >= settings.maxPercent) return fail(check, line, all);
  if (stored + next > quota) return fail(check, `the next backups do not fit the quota: ${line}`, all);
  return pass(check, line, all);
}

/** The database's own size (pg_database_size) against its plan's quota: a full plan stops writes, backups too. */
export async function checkDatabaseCapacity(db: pg.Client, settings: CapacitySettings): Promise<CheckResult> {
  const { rows } = await db.query<{ bytes: string; name: string }>(
    'SELECT pg_database_size(current_database())::text AS bytes, current_database() AS name',
  );
  const bytes = Number(rows[0]!.bytes);
  const quota = settings.databaseQuotaBytes!;
  const percent = (bytes / quota) * 100;
  const line =
    `${rows[0]!.name} is ${formatBytes(bytes)} of the ${formatBytes(quota)} quota (${percent.toFixed(1)}%, max ` +
    `${settings.maxPercent}%)`;
  const details = { bytes, quotaBytes: quota, usedPercent: percent };
  return percent >= settings.maxPercent
    ? fail('capacity: database', line, details)
    : pass('capacity: database', line, details);
}
