import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import type { Identities } from '../crypto/age.ts';
import { HashingStream } from '../crypto/hash.ts';
import { backupFolder, type FoundBackup } from '../manifest/catalog.ts';
import { type Budgets, type DrillRecordOf, type EngineOutcome, runDrill } from '../manifest/drills.ts';
import type { FilesObject, ManifestFile } from '../manifest/schema.ts';
import { ChecksumError, fetchFile } from '../pipeline/fetch.ts';
import type { Store } from '../storage/index.ts';
import { forEachAtMost } from './pool.ts';

export interface FilesDrillOptions extends Budgets {
  found: FoundBackup;
  /** Every destination: the drill record goes next to the backup in each that has it. */
  stores: Store[];
  identities: Identities;
  /** Where the listing is restored (an S3 bucket/prefix or a folder); none: verify only. */
  target?: Store;
  targetOrigin: Origin;
  dryRun: boolean;
  concurrency: number;
  log: (line: string) => void;
}

export interface FilesOutcome extends EngineOutcome {
  /** What the manifest lists. */
  objects: number;
  bytes: number;
  /** What was read back, decrypted and matched both checksums (and, with a target, was written there). */
  verifiedObjects: number;
  verifiedBytes: number;
  /** The backups whose folders hold this backup's bytes, oldest first. */
  chain: string[];
  mode: 'restore' | 'verify';
}

export type FilesDrillRecord = DrillRecordOf<'files', FilesOutcome>;

/**
 * The drill of a files backup: every object of its listing read from the backup that holds its bytes (the chain),
 * both checksums verified (the stored bytes while streaming, the content once decrypted and decompressed), count
 * and bytes compared with the manifest. With a target, the exact listing of that backup is written there: objects
 * deleted later come back, objects created later are not there (the target must be empty).
 */
export async function drillFiles(options: FilesDrillOptions): Promise<FilesDrillRecord> {
  const { manifest } = options.found;
  const objects = manifest.objects ?? [];
  const writing = options.target && !options.dryRun ? options.target : undefined;
  if (writing) await assertEmpty(writing, options.targetOrigin);
  const outcome: FilesOutcome = {
    target: writing ? writing.displayUrl : options.dryRun ? 'none (dry run)' : 'none (verified only)',
    restoreSeconds: 0,
    checksumsVerified: false,
    problems: [],
    objects: objects.length,
    bytes: sum(objects),
    verifiedObjects: 0,
    verifiedBytes: 0,
    chain: [...new Set(objects.map((object) => object.backupId))].sort(),
    mode: writing ? 'restore' : 'verify',
  };
  return runDrill({ ...options, budgets: options, engine: 'files', outcome, rtoInDryRun: true }, async (progress) => {
    const started = Date.now();
    await forEachAtMost(objects, options.concurrency, async (object) => {
      try {
        await restoreObject(options, object, writing);
        progress.verifiedObjects += 1;
        progress.verifiedBytes += object.bytes;
      } catch (error) {
        // The key is wrong or missing: a setup problem for every object alike, not a verdict on the backup.
        if (error instanceof ConfigurationError) throw error;
        progress.problems.push(`${object.key}: ${errorMessage(error)}`);
      }
    });
    progress.restoreSeconds = (Date.now() - started) / 1000;
    if (progress.verifiedObjects !== objects.length || progress.verifiedBytes !== progress.bytes) {
      progress.problems.push(
        `${progress.verifiedObjects} of ${objects.length} objects (${progress.verifiedBytes} of ${progress.bytes} ` +
          `bytes) ${writing ? 'restored' : 'verified'}; the manifest lists them all.`,
      );
    }
    progress.checksumsVerified = progress.verifiedObjects === objects.length;
    options.log(
      `${progress.verifiedObjects} of ${objects.length} objects ${writing ? `restored to ${writing.displayUrl}` : 'verified'}` +
        ` from ${outcome.chain.length} backup folder(s) in ${progress.restoreSeconds.toFixed(1)} s`,
    );
  });
}

/** One object: its stored bytes through age and zstd, hashed, into the target (or nowhere, verifying only). */
async function restoreObject(
  options: FilesDrillOptions,
  object: FilesObject,
  target: Store | undefined,
): Promise<void> {
  const file: ManifestFile = {
    path: object.storedPath,
    bytes: object.storedBytes,
    sha256: object.storedSha256,
    rawBytes: object.bytes,
    compression: object.compression,
    encryption: object.encryption,
  };
  const folder = backupFolder(options.found.manifest.name, object.backupId);
  const content = new HashingStream();
  const fetched = fetchFile(options.found.store, folder, file, content, {
    identities: options.identities,
    log: () => {},
  });
  if (!target) content.resume();
  const [read, written] = await Promise.allSettled([fetched, target?.put(object.key, content)]);
  // A damaged stored object also breaks the write: the read's error says what is wrong.
  if (read.status === 'rejected') throw read.reason;
  if (written.status === 'rejected') throw written.reason;
  const sha256 = content.digest();
  if (sha256 === object.sha256 && content.bytes === object.bytes) return;
  // Written already (a put is atomic, not conditional): a restore must not leave an object the manifest disowns.
  if (target) await target.delete([object.key]).catch(() => undefined);
  throw new ChecksumError(
    `its content hashes to ${sha256} (${content.bytes} bytes) once decrypted, the manifest says ${object.sha256} ` +
      `(${object.bytes} bytes): do not trust ${backupFolder(options.found.manifest.name, object.backupId)}.`,
  );
}

/** A restore writes one backup's exact listing: into an empty place only, so nothing else mixes with it. */
async function assertEmpty(target: Store, origin: Origin): Promise<void> {
  for await (const object of target.list('')) {
    throw new ConfigurationError(
      `${origin.title} (${target.displayUrl}) already holds objects (${object.key}, …): a restore writes a ` +
        "backup's exact listing into an empty bucket, prefix or folder; choose one, or empty it first.",
    );
  }
}

function sum(objects: FilesObject[]): number {
  return objects.reduce((total, object) => total + object.bytes, 0);
}
