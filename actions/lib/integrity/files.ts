import { listBackups } from '../manifest/catalog.ts';
import type { FilesObject } from '../manifest/schema.ts';
import type { FileSource, SourceEntry } from '../files/source.ts';
import type { Store } from '../storage/index.ts';
import { fail, pass, type CheckResult } from './check.ts';

/** How many keys a finding names before it says "and N more". */
const NAMED = 5;

/**
 * The source bucket against the newest complete files backup of a name: counts, sizes and ETags. An object older
 * than the backup that the backup lacks, or holds in another version, was missed (a failure); objects new or changed
 * since are named too (the next backup takes them), as are objects the source no longer has (the backup keeps them).
 */
export async function checkFiles(source: FileSource, store: Store, name: string): Promise<CheckResult> {
  const title = `files: ${name}`;
  const newest = (await listBackups(store, name)).find((listing) => listing.manifest?.engine === 'files')?.manifest;
  if (!newest?.objects) return fail(title, `no complete files backup of "${name}" in ${store.displayUrl}`);
  const backedUp = new Map(newest.objects.map((object) => [object.key, object]));
  const listing = await source.list();
  const madeAt = Date.parse(newest.createdAt);
  const missed: string[] = [];
  const since: string[] = [];
  for (const entry of listing) {
    const object = backedUp.get(entry.key);
    if (object && same(object, entry)) continue;
    if (Date.parse(entry.lastModified) >= madeAt) since.push(entry.key);
    else missed.push(entry.key);
  }
  const present = new Set(listing.map((entry) => entry.key));
  const gone = newest.objects.filter((object) => !present.has(object.key)).map((object) => object.key);
  const details = { backupId: newest.id, source: listing.length, backup: newest.objects.length, missed, since, gone };
  const counts =
    `${source.url}: ${listing.length} objects, backup ${newest.id}: ${newest.objects.length}` +
    (since.length ? `; new or changed since: ${named(since)}` : '') +
    (gone.length ? `; deleted from the source since (the backup keeps them): ${named(gone)}` : '');
  if (missed.length > 0) {
    return fail(
      title,
      `missing from the backup or different in it, though older than it: ${named(missed)} (${counts})`,
      details,
    );
  }
  return pass(title, counts, details);
}

function same(object: FilesObject, entry: SourceEntry): boolean {
  return object.bytes === entry.bytes && object.etag === entry.etag;
}

function named(keys: string[]): string {
  const shown = keys.slice(0, NAMED).join(', ');
  return keys.length > NAMED ? `${shown} and ${keys.length - NAMED} more` : shown;
}
