import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import type { Store } from '../storage/index.ts';
import { consistentAt, MANIFEST_FILE, parseManifest, type Manifest } from './schema.ts';

/**
 * The catalog is the storage itself: `<name>/<backup-id>/manifest.json` marks a complete backup, a folder without
 * one is incomplete (still running, or killed) and is never restored nor called "latest".
 */
export interface BackupListing {
  id: string;
  /** Present only for complete backups. */
  manifest?: Manifest;
  bytes: number;
}

export function backupFolder(name: string, id: string): string {
  return `${name}/${id}`;
}

export function manifestKey(name: string, id: string): string {
  return `${backupFolder(name, id)}/${MANIFEST_FILE}`;
}

/**
 * Folders under `<name>/` that are no backup: pgBackRest's repository for physical backups and WAL (each of its
 * backups gets a Backstop folder of its own with a manifest). Never listed, never pruned as "incomplete".
 */
export const NOT_BACKUPS = new Set(['pgbackrest']);

/** Every backup of `name` in one destination, newest first by the manifest's time (never listing order). */
export async function listBackups(store: Store, name: string): Promise<BackupListing[]> {
  const folders = new Map<string, { bytes: number; hasManifest: boolean }>();
  for await (const object of store.list(`${name}/`)) {
    const [, id, ...rest] = object.key.split('/');
    if (!id || rest.length === 0 || NOT_BACKUPS.has(id)) continue;
    const folder = folders.get(id) ?? { bytes: 0, hasManifest: false };
    folder.bytes += object.bytes;
    if (rest.join('/') === MANIFEST_FILE) folder.hasManifest = true;
    folders.set(id, folder);
  }
  const listings: BackupListing[] = [];
  for (const [id, folder] of folders) {
    const manifest = folder.hasManifest ? await readManifest(store, name, id) : undefined;
    listings.push({ id, manifest, bytes: folder.bytes });
  }
  return listings.sort((a, b) => sortKey(b).localeCompare(sortKey(a)));
}

function sortKey(listing: BackupListing): string {
  return `${listing.manifest?.createdAt ?? ''}|${listing.id}`;
}

export async function readManifest(store: Store, name: string, id: string): Promise<Manifest> {
  const key = manifestKey(name, id);
  const body = await text(await store.get(key));
  return parseManifest(body, store.urlOf(key));
}

export interface FoundBackup {
  store: Store;
  manifest: Manifest;
}

/**
 * The backup to restore: `id` when given, else the newest complete one, from the first destination that has it.
 * Destinations that cannot be read are skipped (3-2-1 exists for the day one of them is down), and named in the
 * error when none has the backup.
 */
export async function findBackup(stores: Store[], name: string, id?: string): Promise<FoundBackup> {
  const problems: string[] = [];
  for (const store of stores) {
    try {
      if (id) {
        if ((await store.head(manifestKey(name, id))) !== undefined) {
          return { store, manifest: await readManifest(store, name, id) };
        }
        problems.push(`${store.displayUrl}: no complete backup ${id}`);
        continue;
      }
      const newest = (await listBackups(store, name)).find((listing) => listing.manifest);
      if (newest?.manifest) return { store, manifest: newest.manifest };
      problems.push(`${store.displayUrl}: no complete backup of "${name}"`);
    } catch (error) {
      problems.push(`${store.displayUrl}: ${(error as Error).message}`);
    }
  }
  throw new Error(`No backup to restore (${problems.join('; ')}).`);
}

/**
 * The backup to restore to a point in time: the newest complete one that holds the database as of a moment at or
 * before `at` (a physical backup from where it stopped, a dump once it finished). `engine` narrows the choice (a
 * point-in-time restore of a physical backup needs a pgBackRest one). No such backup is a mistake in the time, said
 * in one line with the oldest usable moment.
 */
export async function findBackupAsOf(
  stores: Store[],
  name: string,
  at: Date,
  origin: Origin,
  engine?: Manifest['engine'],
): Promise<FoundBackup> {
  const problems: string[] = [];
  let oldest: string | undefined;
  for (const store of stores) {
    try {
      const complete = (await listBackups(store, name))
        .map((listing) => listing.manifest)
        .filter((manifest): manifest is Manifest => manifest !== undefined)
        .filter((manifest) => !engine || manifest.engine === engine);
      const chosen = complete
        .filter((manifest) => Date.parse(consistentAt(manifest)) <= at.getTime())
        .sort((a, b) => consistentAt(b).localeCompare(consistentAt(a)))[0];
      if (chosen) return { store, manifest: chosen };
      const first = complete.map(consistentAt).sort()[0];
      if (first && (!oldest || first < oldest)) oldest = first;
      problems.push(`${store.displayUrl}: no complete backup of "${name}"`);
    } catch (error) {
      problems.push(`${store.displayUrl}: ${(error as Error).message}`);
    }
  }
  if (oldest) {
    throw new ConfigurationError(
      `${origin.title} is ${at.toISOString()}, before the oldest complete ${engine ? `${engine} ` : ''}backup of ` +
        `"${name}" (consistent from ${oldest}): choose a time after that.`,
    );
  }
  throw new Error(`No backup to restore (${problems.join('; ')}).`);
}

/** Writes a small JSON document to every destination. */
export async function putJson(stores: Store[], key: string, value: unknown): Promise<void> {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  await Promise.all(stores.map((store) => store.put(key, Readable.from([Buffer.from(body)]))));
}

/** The manifest goes last, after every data file is stored and checksummed: it is what makes a backup complete. */
export async function writeManifest(stores: Store[], manifest: Manifest): Promise<void> {
  await putJson(stores, manifestKey(manifest.name, manifest.id), manifest);
}
