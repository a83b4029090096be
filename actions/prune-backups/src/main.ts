import { ConfigurationError } from '../../lib/action/errors.ts';
import { pruneBackups, type StorePrune } from '../../lib/manifest/prune.ts';
import type { CatalogMirror } from '../../lib/catalog/mirror.ts';
import { expireBeforeDelete } from '../../lib/pgbackrest/expire.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { readInputs } from './inputs.ts';
import { pruneSummary } from './summary.ts';

/** A backup is purged once no destination keeps it (each is pruned on its own, so one may keep what another drops). */
async function mirrorPurged(catalog: CatalogMirror, results: StorePrune[]): Promise<void> {
  const kept = new Set(results.flatMap((result) => result.kept.map((backup) => backup.id)));
  const gone = results.flatMap((result) => result.deleted.map((backup) => backup.id)).filter((id) => !kept.has(id));
  catalog.purged([...new Set(gone)], new Date());
  await catalog.close();
}

/** The outputs this action sets (described in action.ts). */
export type PruneBackupsOutput = 'kept' | 'deleted' | 'deleted-bytes';

/** prune-backups: inputs → GFS retention in every destination → outputs and summary. */
export async function run(runtime: Runtime<PruneBackupsOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  for (const store of inputs.stores) {
    if (!(await store.exists())) {
      throw new ConfigurationError(
        `Input "storage-url": ${store.displayUrl} does not exist: check the URL (pruning a mistyped location would ` +
          'report nothing to delete and hide the mistake).',
      );
    }
  }
  const log = (line: string): void => runtime.info(line);
  const beforeDelete = expireBeforeDelete({
    ...inputs,
    s3: runtime.context.s3,
    s3Credentials: runtime.context.awsCredentials,
    log,
  });
  const results = await pruneBackups({ ...inputs, log, beforeDelete });
  if (!inputs.dryRun) await mirrorPurged(inputs.catalog, results);
  if (results.every((result) => result.kept.length + result.deleted.length + result.leftovers === 0)) {
    runtime.warning(
      `No backups named "${inputs.name}" in ${inputs.stores.map((store) => store.displayUrl).join(', ')}: nothing to ` +
        'prune. Check the name (it is the storage folder the backups were written under).',
    );
  }
  const deleted = results.flatMap((result) => result.deleted);
  runtime.setOutput(
    'kept',
    results.reduce((sum, result) => sum + result.kept.length, 0),
  );
  runtime.setOutput('deleted', deleted.length);
  runtime.setOutput(
    'deleted-bytes',
    deleted.reduce((sum, backup) => sum + backup.bytes, 0),
  );
  for (const refused of results.flatMap((result) => result.refused.map((r) => ({ ...r, store: result.store })))) {
    runtime.warning(`${refused.store}: could not delete ${refused.id} (${refused.error}); it is kept.`);
  }
  for (const result of results) {
    for (const backup of result.deleted)
      runtime.info(
        `${inputs.dryRun ? 'would delete' : 'deleted'} ${result.store} ${backup.id}: ${backup.reasons.join(', ')}`,
      );
  }
  await runtime.writeSummary(pruneSummary(results, inputs.dryRun));
}
