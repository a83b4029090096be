import { VerificationError } from '../../lib/errors.ts';
import { findBackup } from '../../lib/manifest/catalog.ts';
import { drillPostgres } from '../../lib/postgres/drill.ts';
import type { Runtime } from '../../lib/runtime.ts';
import { readInputs } from './inputs.ts';
import { drillSummary } from './summary.ts';

/** restore-drill: find the backup → restore and verify → outputs, summary, and a failure unless verified. */
export async function run(runtime: Runtime): Promise<void> {
  const inputs = readInputs(runtime);
  const found = await findBackup(inputs.stores, inputs.name, inputs.backupId);
  const { manifest } = found;
  runtime.info(`Drilling ${manifest.name}/${manifest.id} (${manifest.engine}) from ${found.store.displayUrl}`);
  if (manifest.engine !== 'postgres') {
    throw new VerificationError(`Backup ${manifest.id} is a ${manifest.engine} backup; this restore-drill restores PostgreSQL backups.`);
  }
  const record = await drillPostgres({
    ...inputs,
    found,
    targetInput: 'target-url',
    tempDir: runtime.tempDir,
    log: (line) => runtime.info(line),
  });
  runtime.setOutput('backup-id', record.backupId);
  runtime.setOutput('restore-seconds', record.restoreSeconds.toFixed(1));
  runtime.setOutput('verified', record.verified);
  await runtime.writeSummary(drillSummary(record, manifest, found.store.displayUrl));
  if (!record.verified) {
    throw new VerificationError(`Drill of ${record.backupId} failed: ${record.problems.join(' | ')}`);
  }
  runtime.info(`Drill of ${record.backupId} verified in ${record.restoreSeconds.toFixed(1)} s`);
}
