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
  const { manifest, manifestUrl } = await mirroredBackup(inputs.catalog, backup, (onStart) =>
    snapshotQdrant({
      ...inputs,
      log: (line) => runtime.info(line),
      warn: (line) => runtime.warning(line),
      onStart,
    }),
  );
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
  await runtime.writeSummary(snapshotSummary(manifest, inputs.stores, artifact));
}
