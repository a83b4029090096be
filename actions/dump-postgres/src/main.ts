import { assertRoomForNextBackup } from '../../lib/manifest/capacity.ts';
import { trendsOfStoredBackup } from '../../lib/manifest/trends.ts';
import { dumpPostgres } from '../../lib/postgres/dump.ts';
import { mirroredBackup } from '../../lib/catalog/mirror.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { artifactIdOf, copyToArtifactIfAsked } from '../../lib/artifact/copy.ts';
import { readInputs } from './inputs.ts';
import { dumpSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type DumpPostgresOutput =
  | 'backup-id'
  | 'manifest-url'
  | 'size-bytes'
  | 'sha256'
  | 'duration-seconds'
  | 'server-version'
  | 'artifact-id';

/** dump-postgres: inputs → one library call → outputs and summary. */
export async function run(runtime: Runtime<DumpPostgresOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  if (!inputs.recipients) {
    runtime.warning(
      'allow-unencrypted is set: this backup is stored without encryption. Anyone who can read the storage can read ' +
        'the data.',
    );
  }
  const backup = { name: inputs.name, engine: 'postgres', kind: inputs.kind, stores: inputs.stores } as const;
  const result = await mirroredBackup(inputs.catalog, backup, async (onStart) => {
    // Before anything is written: a local disk that cannot hold the backup is refused now, not hours in.
    await assertRoomForNextBackup(inputs.stores, inputs.name);
    return dumpPostgres({
      ...inputs,
      tempDir: runtime.context.tempDir,
      log: (line) => runtime.info(line),
      warn: (line) => runtime.warning(line),
      onStart,
    });
  });
  const { manifest } = result;
  runtime.setOutput('backup-id', manifest.id);
  runtime.setOutput('manifest-url', result.manifestUrl);
  runtime.setOutput(
    'size-bytes',
    manifest.files.reduce((sum, file) => sum + file.bytes, 0),
  );
  runtime.setOutput('sha256', result.sha256);
  runtime.setOutput('duration-seconds', manifest.durationSeconds.toFixed(1));
  runtime.setOutput('server-version', manifest.source.serverVersion);
  runtime.info(`Backup ${manifest.id} complete: ${result.manifestUrl}`);
  const artifact = await copyToArtifactIfAsked(runtime, inputs.artifact, manifest);
  runtime.setOutput('artifact-id', artifactIdOf(artifact));
  const { trends, failure } = await trendsOfStoredBackup(inputs.stores, manifest, inputs.trends, (line) =>
    runtime.warning(line),
  );
  await runtime.writeSummary(dumpSummary(result, inputs.stores, artifact, trends));
  if (failure) throw failure;
}
