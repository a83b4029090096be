import { assertRoomForNextBackup } from '../../lib/manifest/capacity.ts';
import { trendsOfStoredBackup } from '../../lib/manifest/trends.ts';
import { snapshotQdrant } from '../../lib/qdrant/snapshot.ts';
import { mirroredBackup } from '../../lib/catalog/mirror.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { artifactIdOf, copyToArtifactIfAsked } from '../../lib/artifact/copy.ts';
import { readInputs } from './inputs.ts';
import { snapshotSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type SnapshotQdrantOutput = 'backup-id' | 'manifest-url' | 'points' | 'size-bytes' | 'artifact-id';

/** snapshot-qdrant: inputs → one library call → outputs and summary. */
export async function run(runtime: Runtime<SnapshotQdrantOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  if (!inputs.recipients) {
    runtime.warning(
      'allow-unencrypted is set: these snapshots are stored without encryption. Anyone who can read the storage can ' +
        'read the data.',
    );
  }
  const backup = { name: inputs.name, engine: 'qdrant', kind: inputs.kind, stores: inputs.stores } as const;
  const { manifest, manifestUrl } = await mirroredBackup(inputs.catalog, backup, async (onStart) => {
    // Before any snapshot is taken: a local disk that cannot hold the backup is refused now, not midway.
    await assertRoomForNextBackup(inputs.stores, inputs.name);
    return snapshotQdrant({
      ...inputs,
      log: (line) => runtime.info(line),
      warn: (line) => runtime.warning(line),
      onStart,
    });
  });
  runtime.setOutput('backup-id', manifest.id);
  runtime.setOutput('manifest-url', manifestUrl);
  runtime.setOutput(
    'points',
    (manifest.collections ?? []).reduce((sum, collection) => sum + collection.points, 0),
  );
  runtime.setOutput(
    'size-bytes',
    manifest.files.reduce((sum, file) => sum + file.bytes, 0),
  );
  runtime.info(`Backup ${manifest.id} complete: ${manifestUrl}`);
  const artifact = await copyToArtifactIfAsked(runtime, inputs.artifact, manifest);
  runtime.setOutput('artifact-id', artifactIdOf(artifact));
  const { trends, failure } = await trendsOfStoredBackup(inputs.stores, manifest, inputs.trends, (line) =>
    runtime.warning(line),
  );
  await runtime.writeSummary(snapshotSummary(manifest, inputs.stores, artifact, trends));
  if (failure) throw failure;
}
