import { ConfigurationError } from '../action/errors.ts';
import type { InputSpecs } from '../action/descriptor.ts';
import type { InputReader } from '../action/input-reader.ts';
import type { ArtifactCopyOptions } from '../artifact/copy.ts';
import { LocalStore } from '../storage/local.ts';
import type { Store } from '../storage/types.ts';

/** The artifact-copy inputs every backup action shares, declared once so they read and default identically. */
export const ARTIFACT_INPUTS = {
  'artifact-retention-days': {
    description:
      'Also keep the backup as a GitHub Actions artifact for this many days (1-90); empty: no artifact copy. Needs ' +
      'a local folder among storage-url.',
    defaultLabel: '— (no copy)',
    docs:
      '`1`–`90`: once the backup is complete (manifest written), its files and `manifest.json` are also ' +
      'uploaded as one GitHub Actions artifact, `backstop-<name>-<backup-id>`, kept that many days: a third copy ' +
      "of a small backup (3-2-1) that the run's page offers for download. The zip is built straight from the " +
      'first local folder among `storage-url` (stored, not recompressed: the files are zstd + age already), ' +
      'so `storage-url` must hold one, e.g. `${{ runner.temp }}/backstop`; without one the action fails ' +
      'before anything is written. Outside a runner (CLI), or when the upload fails, a warning: the ' +
      'backup stands in its destinations and the step still succeeds.',
  },
  'artifact-max-mb': {
    description: 'Largest backup (MiB) copied as an artifact; a bigger one is not copied (a notice, not a failure).',
    default: '500',
    docs:
      'A backup bigger than this (MiB, decimals allowed) is not copied: a notice and a summary line, not a ' +
      "failure. Artifacts count against the account's storage quota.",
  },
} as const satisfies InputSpecs;

/** 1 MB here is a MiB: the summaries print sizes in binary units, so the limit reads the same way. */
const MIB = 1024 * 1024;

/**
 * null when no artifact copy is asked for. The copy is zipped straight from a local destination's folder (no temp
 * copy), so a storage-url without one is a configuration error, raised here, before anything is written.
 */
export function readArtifactCopy(inputs: InputReader, stores: Store[]): ArtifactCopyOptions | null {
  if (inputs.optional('artifact-retention-days') === undefined) return null;
  const retentionDays = inputs.integer('artifact-retention-days', { min: 1, max: 90 });
  const maxMb =
    inputs.optionalNumber('artifact-max-mb', { min: 0.001 }) ?? Number(ARTIFACT_INPUTS['artifact-max-mb'].default);
  const store = stores.find((candidate): candidate is LocalStore => candidate instanceof LocalStore);
  if (!store) {
    throw new ConfigurationError(
      'Input "artifact-retention-days" is set but no storage-url destination is a local folder: the artifact ' +
        'is zipped ' +
        'from one, so add one, e.g. ${{ runner.temp }}/backstop, or leave artifact-retention-days empty.',
    );
  }
  return { retentionDays, maxBytes: Math.floor(maxMb * MIB), maxMb, store };
}
