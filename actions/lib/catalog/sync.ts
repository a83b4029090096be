import { listBackups } from '../manifest/catalog.ts';
import { readLatestDrill, type DrillRecordBase } from '../manifest/drills.ts';
import { MANIFEST_FILE, type Manifest } from '../manifest/schema.ts';
import type { DatabaseUrl } from '../pg/connection.ts';
import type { Store } from '../storage/index.ts';
import { CatalogDatabase } from './database.ts';
import { completedRow, drillColumns } from './rows.ts';

export interface SyncOptions {
  stores: Store[];
  /** Empty: every name that has a complete backup in any destination. */
  names: string[];
  database: DatabaseUrl;
  log: (line: string) => void;
  now?: Date;
}

export interface SyncResult {
  names: string[];
  backups: number;
  drills: number;
  /** Completed rows whose backup no destination holds any more, now marked purged. */
  purged: string[];
}

interface Held {
  manifest: Manifest;
  holders: Store[];
}

/**
 * catalog-sync: backup_logs rebuilt from storage, the source of truth. Every complete backup gets its row as its
 * manifest says (locations from every destination that holds it) and its newest drill's verdict; a completed row whose
 * backup is gone everywhere is marked purged. Running it twice writes the same rows.
 */
export async function syncCatalog(options: SyncOptions): Promise<SyncResult> {
  const names = options.names.length > 0 ? options.names : await namesIn(options.stores);
  const catalog = await CatalogDatabase.open(options.database);
  try {
    let backups = 0;
    let drills = 0;
    const present = new Set<string>();
    for (const name of names) {
      const held = await backupsOf(options.stores, name);
      for (const { manifest, holders } of held.values()) {
        present.add(manifest.id);
        await catalog.upsertBackup(completedRow(manifest, holders));
        backups += 1;
        const drill = await newestDrill(holders, manifest);
        if (drill && !drill.dryRun) {
          await catalog.setDrill(manifest.id, drillColumns(drill));
          drills += 1;
        }
      }
      options.log(`${name}: ${held.size} backup(s) in the catalog`);
    }
    const purged = await catalog.purgeMissing(names, present, options.now ?? new Date());
    return { names, backups, drills, purged };
  } finally {
    await catalog.close();
  }
}

/** The names with a complete backup in any destination: `<name>/<backup-id>/manifest.json`. */
async function namesIn(stores: Store[]): Promise<string[]> {
  const names = new Set<string>();
  for (const store of stores) {
    for await (const object of store.list('')) {
      const parts = object.key.split('/');
      if (parts.length === 3 && parts[2] === MANIFEST_FILE) names.add(parts[0]!);
    }
  }
  return [...names].sort();
}

async function backupsOf(stores: Store[], name: string): Promise<Map<string, Held>> {
  const held = new Map<string, Held>();
  for (const store of stores) {
    for (const listing of await listBackups(store, name)) {
      if (!listing.manifest) continue;
      const entry = held.get(listing.id) ?? { manifest: listing.manifest, holders: [] };
      entry.holders.push(store);
      held.set(listing.id, entry);
    }
  }
  return held;
}

/** The newest record over every destination (a drill writes to each, but a destination added later has none). */
async function newestDrill(holders: Store[], manifest: Manifest): Promise<DrillRecordBase | undefined> {
  let newest: DrillRecordBase | undefined;
  for (const store of holders) {
    const record = await readLatestDrill(store, manifest.name, manifest.id);
    if (record && (!newest || record.startedAt > newest.startedAt)) newest = record;
  }
  return newest;
}
