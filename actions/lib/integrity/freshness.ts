import { listBackups } from '../manifest/catalog.ts';
import { readLatestDrill } from '../manifest/drills.ts';
import type { Store } from '../storage/index.ts';
import { fail, pass, warn, type CheckResult } from './check.ts';
import type { BackupExpectation } from './config.ts';

/**
 * RPO: the newest complete backup of each name is younger than max-age-hours, and its latest drill verified. A
 * backup never drilled is a warning; a failed latest drill is a failure.
 */
export async function checkBackupFreshness(
  store: Store,
  expectation: BackupExpectation,
  now = new Date(),
): Promise<CheckResult> {
  const name = `backup freshness: ${expectation.name}`;
  const newest = (await listBackups(store, expectation.name)).find((backup) => backup.manifest);
  if (!newest?.manifest) return fail(name, `no complete backup of "${expectation.name}" in ${store.displayUrl}`);
  const ageHours = (now.getTime() - Date.parse(newest.manifest.finishedAt)) / 3_600_000;
  if (ageHours > expectation.maxAgeHours) {
    return fail(
      name,
      `the newest backup, ${newest.id}, is ${ageHours.toFixed(1)} h old (max-age-hours ${expectation.maxAgeHours})`,
      { backupId: newest.id, ageHours },
    );
  }
  const drill = await readLatestDrill(store, expectation.name, newest.id);
  const age = `${newest.id}, ${ageHours.toFixed(1)} h old`;
  if (!drill) return warn(name, `${age}; never drilled (run restore-drill)`, { backupId: newest.id, ageHours });
  if (!drill.verified)
    return fail(name, `${age}; its latest drill (${drill.startedAt}) did NOT verify`, {
      backupId: newest.id,
      ageHours,
      drill,
    });
  return pass(name, `${age}; drill of ${drill.startedAt} verified`, { backupId: newest.id, ageHours, drill });
}
