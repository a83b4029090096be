import path from 'node:path';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import type { Origin } from '../../lib/action/origin.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import type { Store } from '../../lib/storage/index.ts';

export const INPUTS = {
  'storage-url': {
    description: 'Where the backups are, newline- or comma-separated (the first destination holding a name is read).',
    required: true,
  },
  names: { description: 'Backup names to show, newline- or comma-separated; default: every name in storage-url.' },
  'max-age-hours': {
    description: 'A name whose newest complete backup is older than this is stale (the RPO).',
    default: '26',
  },
  'html-path': { description: 'Where to write the HTML status page; default: in the runner’s temp folder.' },
  'fail-on-stale': { description: 'Fail the step when any name is stale.', default: 'false', type: 'boolean' },
  ...TIMEOUT_INPUTS,
} as const satisfies InputSpecs;

export interface StatusInputs {
  stores: Store[];
  /** Empty: every name found in the destinations. */
  names: string[];
  namesOrigin: Origin;
  maxAgeHours: number;
  htmlPath: string;
  htmlOrigin: Origin;
  failOnStale: boolean;
}

export function readInputs(runtime: Runtime): StatusInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const namesOrigin = inputs.origin('names');
  return {
    stores: readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts: readTimeouts(inputs) }),
    names: inputs.list('names').map((name) => checkBackupName(name, namesOrigin)),
    namesOrigin,
    maxAgeHours: inputs.optionalNumber('max-age-hours', { min: 0 }) ?? 26,
    htmlPath: path.resolve(
      inputs.optional('html-path') ?? path.join(runtime.context.tempDir, 'backstop-status', 'index.html'),
    ),
    htmlOrigin: inputs.origin('html-path'),
    failOnStale: inputs.boolean('fail-on-stale'),
  };
}
