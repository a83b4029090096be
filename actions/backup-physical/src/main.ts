import { mirroredBackup } from '../../lib/catalog/mirror.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { backupPhysical } from '../../lib/pgbackrest/backup.ts';
import { readInputs } from './inputs.ts';
import { physicalSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type BackupPhysicalOutput = 'backup-id' | 'label' | 'size-bytes' | 'manifest-url' | 'type';

/** backup-physical: inputs → pgbackrest backup + verify → manifest → outputs and summary. */
export async function run(runtime: Runtime<BackupPhysicalOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  if (!inputs.passphrase) runtime.warning('allow-unencrypted is set: the pgBackRest repository is not encrypted.');
  const backup = { name: inputs.name, engine: 'pgbackrest', kind: inputs.kind, stores: inputs.stores } as const;
  const result = await mirroredBackup(inputs.catalog, backup, (onStart) =>
    backupPhysical({
      ...inputs,
      s3: runtime.context.s3,
      s3Credentials: runtime.context.awsCredentials,
      log: (line) => runtime.info(line),
      onStart,
    }),
  );
  const record = result.manifest.pgbackrest!;
  runtime.setOutput('backup-id', result.manifest.id);
  runtime.setOutput('label', record.label);
  runtime.setOutput('size-bytes', record.repoDeltaBytes);
  runtime.setOutput('manifest-url', result.manifestUrl);
  runtime.setOutput('type', record.type);
  runtime.info(
    `Backup ${result.manifest.id} (pgBackRest ${record.label}, ${record.type}) complete: ${result.manifestUrl}`,
  );
  await runtime.writeSummary(physicalSummary(result, inputs.stores));
}
