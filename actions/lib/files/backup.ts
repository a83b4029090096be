import { createHash } from 'node:crypto';
import { errorMessage } from '../action/errors.ts';
import { formatBytes, formatCount } from '../format.ts';
import { backupFolder, listBackups, manifestKey, writeManifest } from '../manifest/catalog.ts';
import { newBackupId } from '../manifest/ids.ts';
import type { BackupKind, FilesBackupRecord, FilesObject, Manifest, ManifestFile } from '../manifest/schema.ts';
import { storeStream } from '../pipeline/backup.ts';
import { removeFolder, type Store } from '../storage/index.ts';
import { BACKSTOP_VERSION } from '../version.ts';
import { worthCompressing } from './compression.ts';
import { forEachAtMost } from './pool.ts';
import type { FileSource, SourceEntry } from './source.ts';

export interface FilesBackupOptions {
  source: FileSource;
  name: string;
  kind: BackupKind;
  recipients: string[] | null;
  stores: Store[];
  /** A full backup (every object stored again) when the chain's full one is at least this old. */
  fullEveryDays: number;
  /** Objects streamed at once. */
  concurrency: number;
  log: (line: string) => void;
  warn: (line: string) => void;
  now?: () => Date;
}

export interface FilesBackupResult {
  manifest: Manifest;
  manifestUrl: string;
  /** Bytes read from the source and stored in this run (not the reused ones). */
  readBytes: number;
}

const PROGRESS_INTERVAL_MS = 15_000;

/**
 * backup-files: list the source, compare with the previous complete backup by size and ETag, stream each new or
 * changed object (sha256 → zstd unless already compressed → age → sha256 → every destination) with many in flight,
 * point unchanged ones at the earlier copy, then write the manifest (every object of the listing) last.
 */
export async function backupFiles(options: FilesBackupOptions): Promise<FilesBackupResult> {
  const now = options.now ?? (() => new Date());
  const createdAt = now();
  const id = newBackupId(options.kind, createdAt);
  const folder = backupFolder(options.name, id);
  const previous = await previousBackup(options);
  const full = !previous || fullIsDue(previous, createdAt, options.fullEveryDays);
  const listing = await options.source.list();
  const earlier = new Map((full ? [] : (previous?.objects ?? [])).map((object) => [object.key, object]));
  const reused: FilesObject[] = [];
  const changed: SourceEntry[] = [];
  for (const entry of listing) {
    const before = earlier.get(entry.key);
    if (before && before.bytes === entry.bytes && before.etag === entry.etag) reused.push(before);
    else changed.push(entry);
  }
  options.log(
    `${options.source.url}: ${formatCount(listing.length)} objects; ` +
      (full
        ? `a full backup ${id} stores all of them`
        : `backup ${id} stores ${formatCount(changed.length)} new or changed, ${formatCount(reused.length)} ` +
          `unchanged since ${previous!.id}`),
  );

  const stored: FilesObject[] = [];
  const files: ManifestFile[] = [];
  const skipped: FilesBackupRecord['skipped'] = [];
  const progress = { objects: 0, bytes: 0 };
  const timer = setInterval(
    () =>
      options.log(
        `${formatCount(progress.objects)} of ${formatCount(changed.length)} objects stored ` +
          `(${formatBytes(progress.bytes)})`,
      ),
    PROGRESS_INTERVAL_MS,
  );
  timer.unref();
  try {
    await forEachAtMost(changed, options.concurrency, async (entry) => {
      const outcome = await storeObject(options, folder, id, entry);
      if (!('object' in outcome)) {
        skipped.push(outcome);
        if (outcome.reason !== 'deleted') options.warn(`${entry.key}: ${outcome.reason}`);
        return;
      }
      stored.push(outcome.object);
      files.push(outcome.file);
      progress.objects += 1;
      progress.bytes += outcome.object.bytes;
    });
    const finishedAt = now();
    const manifest: Manifest = {
      version: 1,
      id,
      name: options.name,
      engine: 'files',
      kind: options.kind,
      createdAt: createdAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: (finishedAt.getTime() - createdAt.getTime()) / 1000,
      source: { serverVersion: 's3', host: options.source.host, url: options.source.url },
      tool: { name: 'backstop', version: BACKSTOP_VERSION },
      encryption: options.recipients ? { recipients: options.recipients } : null,
      files: files.sort((a, b) => (a.path < b.path ? -1 : 1)),
      objects: [...stored, ...reused].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      filesBackup: {
        full,
        previous: full ? null : previous!.id,
        fullBackupId: full ? id : previous!.filesBackup!.fullBackupId,
        fullCreatedAt: full ? createdAt.toISOString() : previous!.filesBackup!.fullCreatedAt,
        storedObjects: stored.length,
        reusedObjects: reused.length,
        // An object deleted between the listing and its download is simply no longer there: not worth a warning.
        skipped: skipped.filter((entry) => entry.reason !== 'deleted'),
      },
    };
    await writeManifest(options.stores, manifest);
    return {
      manifest,
      manifestUrl: options.stores[0]!.urlOf(manifestKey(options.name, id)),
      readBytes: progress.bytes,
    };
  } catch (error) {
    await removeFolder(options.stores, folder);
    throw error;
  } finally {
    clearInterval(timer);
  }
}

/**
 * The backup this one builds on: the newest complete files backup of the name, of the same source and the same
 * recipients (a reused object stays encrypted to the keys it was stored with), held by every destination (a
 * destination added since would lack the earlier copies). None: a full backup.
 */
async function previousBackup(options: FilesBackupOptions): Promise<Manifest | undefined> {
  const listings = await listBackups(options.stores[0]!, options.name);
  const newest = listings.map((listing) => listing.manifest).find((manifest) => manifest?.engine === 'files');
  if (!newest?.objects || !newest.filesBackup || newest.source.url !== options.source.url) return undefined;
  if (!sameRecipients(newest.encryption?.recipients ?? null, options.recipients)) {
    options.log(`The encryption recipients changed since ${newest.id}: this backup stores every object again.`);
    return undefined;
  }
  for (const store of options.stores.slice(1)) {
    if ((await store.head(manifestKey(options.name, newest.id))) === undefined) {
      options.log(`${store.displayUrl} lacks ${newest.id}: this backup stores every object again.`);
      return undefined;
    }
  }
  return newest;
}

function sameRecipients(a: string[] | null, b: string[] | null): boolean {
  return JSON.stringify(a && [...a].sort()) === JSON.stringify(b && [...b].sort());
}

function fullIsDue(previous: Manifest, at: Date, fullEveryDays: number): boolean {
  const fullAt = Date.parse(previous.filesBackup!.fullCreatedAt);
  return at.getTime() - fullAt >= fullEveryDays * 86_400_000;
}

/** Where an object's bytes go in its backup's folder: named by its key's hash (keys may hold any character). */
export function storedPathOf(key: string): string {
  const hash = createHash('sha256').update(key).digest('hex');
  return `objects/${hash.slice(0, 2)}/${hash}`;
}

type Stored = { object: FilesObject; file: ManifestFile };
type Skipped = { key: string; reason: string };

/**
 * One object through the pipeline. Its ETag is asked again once it is stored: a different one means the object
 * changed while it was read (a server that streams a file being overwritten can mix both versions), and it is read
 * once more; changed again, it is left out of this backup and reported.
 */
async function storeObject(
  options: FilesBackupOptions,
  folder: string,
  id: string,
  listed: SourceEntry,
): Promise<Stored | Skipped> {
  let lastChange = '';
  for (let attempt = 1; attempt <= 2; attempt++) {
    const download = await options.source.get(listed.key);
    if (!download) return { key: listed.key, reason: 'deleted' } satisfies Skipped;
    const { body, entry } = download;
    const file = await storeStream(body, options.stores, {
      path: storedPathOf(entry.key),
      folder,
      compress: worthCompressing(entry.key),
      recipients: options.recipients,
      hashRaw: true,
      log: options.log,
    }).catch((error: unknown) => {
      throw new Error(`${options.source.urlOf(entry.key)}: ${errorMessage(error)}`, { cause: error });
    });
    const etagNow = await options.source.etagOf(entry.key);
    if (etagNow === entry.etag && file.rawBytes === entry.bytes) {
      const object: FilesObject = {
        ...entry,
        sha256: file.rawSha256!,
        backupId: id,
        storedPath: file.path,
        storedBytes: file.bytes,
        storedSha256: file.sha256,
        compression: file.compression,
        encryption: file.encryption,
      };
      return { object, file } satisfies Stored;
    }
    lastChange =
      etagNow === undefined
        ? 'deleted while it was read'
        : `ETag ${entry.etag} when read, ${etagNow} after (${file.rawBytes} of ${entry.bytes} bytes read)`;
    if (attempt === 1) options.log(`${entry.key} changed while it was read (${lastChange}): reading it again`);
    await Promise.allSettled(options.stores.map((store) => store.delete([`${folder}/${file.path}`])));
  }
  return {
    key: listed.key,
    reason: `changed while it was read, twice (${lastChange}): not in this backup; the next run tries again`,
  } satisfies Skipped;
}
