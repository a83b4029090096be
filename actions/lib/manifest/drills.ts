import { text } from 'node:stream/consumers';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { Store } from '../storage/index.ts';
import { backupFolder, manifestKey, putJson, type FoundBackup } from './catalog.ts';
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
  return (
    `The backup is ${ageHours.toFixed(1)} h old, over max-age-hours ${budgets.maxAgeHours} (RPO): check that ` +
    `the backup workflow still runs.`
  );
}

/** RTO: did the restore take longer than allowed? */
export function restoreTimeProblem(seconds: number, budgets: Budgets): string | undefined {
  if (budgets.maxRestoreSeconds === undefined || seconds <= budgets.maxRestoreSeconds) return undefined;
  return `The restore took ${seconds.toFixed(1)} s, over max-restore-seconds ${budgets.maxRestoreSeconds} (RTO).`;
}

/** The engine's share of a drill record. The engine fills it in as it goes: a failure midway keeps what it learnt. */
export interface EngineOutcome {
  target: string;
  restoreSeconds: number;
  checksumsVerified: boolean;
  /** What the engine found wrong with the restored data, in the order it found it. */
  problems: string[];
}

export interface RunDrillOptions<Engine extends Manifest['engine'], Outcome extends EngineOutcome> {
  found: FoundBackup;
  /** Every destination: the record is written next to the backup wherever the backup is. */
  stores: Store[];
  budgets: Budgets;
  dryRun: boolean;
  now?: () => Date;
  engine: Engine;
  /** What the record says of the engine's work before the engine has done any: where, 0 s, nothing verified. */
  outcome: Outcome;
  /** Whether a dry run's time is held to max-restore-seconds (false where a dry run restores nothing). */
  rtoInDryRun: boolean;
  /**
   * Runs only when the drill found no problem, before the record is written: a restore makes recovered data live
   * only once it is verified. Its failure says nothing about the backup, so it ends the drill without a record.
   */
  onVerified?: () => Promise<void>;
}

export type DrillRecordOf<Engine extends Manifest['engine'], Outcome extends EngineOutcome> = DrillRecordBase & {
  engine: Engine;
} & Omit<Outcome, keyof EngineOutcome>;

/**
 * One drill, whatever the engine: RPO when it starts, the engine's restore and checks (`restore` fills in
 * `options.outcome`), RTO after, then the record next to the backup. The backup is verified when nothing is wrong.
 */
export async function runDrill<Engine extends Manifest['engine'], Outcome extends EngineOutcome>(
  options: RunDrillOptions<Engine, Outcome>,
  restore: (outcome: Outcome) => Promise<void>,
): Promise<DrillRecordOf<Engine, Outcome>> {
  const { manifest } = options.found;
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const ageHours = backupAgeHours(manifest, startedAt);
  const { outcome } = options;
  let failure: string | undefined;
  try {
    await restore(outcome);
  } catch (error) {
    // It could not run (bad target, wrong key, missing tools): a setup problem, not a verdict on the backup.
    if (error instanceof ConfigurationError) throw error;
    failure = errorMessage(error);
  }
  const { target, restoreSeconds, checksumsVerified, problems: found, ...engineFields } = outcome;
  // A restore that failed has no time worth holding to the RTO.
  const timed = failure === undefined && (options.rtoInDryRun || !options.dryRun);
  const problems = [
    failure,
    ageProblem(ageHours, options.budgets),
    ...found,
    timed ? restoreTimeProblem(restoreSeconds, options.budgets) : undefined,
  ].filter((problem) => problem !== undefined);
  if (problems.length === 0) await options.onVerified?.();

  const record: DrillRecordOf<Engine, Outcome> = {
    version: 1,
    backupId: manifest.id,
    name: manifest.name,
    engine: options.engine,
    startedAt: startedAt.toISOString(),
    finishedAt: now().toISOString(),
    dryRun: options.dryRun,
    target,
    restoreSeconds,
    backupAgeHours: ageHours,
    verified: problems.length === 0,
    checksumsVerified,
    problems,
    ...engineFields,
  };
  await writeDrillRecord(options.stores, manifest, record);
  return record;
}

/** Writes the record next to the backup in every destination that holds the backup. */
export async function writeDrillRecord(stores: Store[], manifest: Manifest, record: DrillRecordBase): Promise<void> {
  const holders: Store[] = [];
  for (const store of stores) {
    if ((await store.head(manifestKey(manifest.name, manifest.id)).catch(() => undefined)) !== undefined)
      holders.push(store);
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

/** Every drill record of a backup, oldest first (their file names are their start times). */
export async function readDrills(store: Store, name: string, id: string): Promise<DrillRecordBase[]> {
  const keys: string[] = [];
  for await (const object of store.list(`${backupFolder(name, id)}/drills/`)) keys.push(object.key);
  return Promise.all(keys.sort().map(async (key) => JSON.parse(await text(await store.get(key))) as DrillRecordBase));
}
