import { VerificationError } from '../../lib/action/errors.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { backupFiles } from '../../lib/files/backup.ts';
import { readInputs } from './inputs.ts';
import { filesSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type BackupFilesOutput = 'backup-id' | 'manifest-url' | 'objects' | 'stored-objects' | 'size-bytes' | 'full';

/** backup-files: inputs → one library call → outputs and summary; fails, after the manifest, if objects were skipped. */
export async function run(runtime: Runtime<BackupFilesOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  if (!inputs.recipients) {
    runtime.warning(
      'allow-unencrypted is set: these objects are stored without encryption. Anyone who can read the storage can ' +
        'read them.',
    );
  }
  const { manifest, manifestUrl } = await backupFiles({
    ...inputs,
    log: (line) => runtime.info(line),
    warn: (line) => runtime.warning(line),
  });
  const record = manifest.filesBackup!;
  runtime.setOutput('backup-id', manifest.id);
  runtime.setOutput('manifest-url', manifestUrl);
  runtime.setOutput('objects', manifest.objects!.length);
  runtime.setOutput('stored-objects', record.storedObjects);
  runtime.setOutput(
    'size-bytes',
    manifest.files.reduce((sum, file) => sum + file.bytes, 0),
  );
  runtime.setOutput('full', record.full);
  runtime.info(`Backup ${manifest.id} complete: ${manifestUrl}`);
  await runtime.writeSummary(filesSummary(manifest, inputs.stores));
  if (record.skipped.length > 0) {
    throw new VerificationError(
      `Backup ${manifest.id} is complete except ${record.skipped.length} object(s) that changed while being read, ` +
        `twice: ${record.skipped.map((entry) => entry.key).join(', ')}. They are not in this backup; the next run ` +
        'tries again (an object rewritten all the time needs a quieter hour).',
    );
  }
}
