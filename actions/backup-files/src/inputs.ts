import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import type { FileSource } from '../../lib/files/source.ts';
import { ENCRYPTION_INPUTS, readRecipients } from '../../lib/inputs/encryption.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { readSourceOpener, SOURCE_INPUTS } from '../../lib/inputs/source.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import { BACKUP_KINDS, type BackupKind } from '../../lib/manifest/schema.ts';
import type { Store } from '../../lib/storage/index.ts';

export const INPUTS = {
  'source-url': {
    description: 'The bucket to back up: s3://bucket or s3://bucket/prefix (a Supabase Storage bucket, R2, MinIO…).',
    required: true,
  },
  ...SOURCE_INPUTS,
  name: { description: 'Backup name: the storage folder, e.g. storage-avatars.', required: true },
  'storage-url': {
    description: 'Destinations, newline- or comma-separated: s3://bucket/prefix, file:///path or ./path.',
    required: true,
  },
  kind: { description: `Why this backup exists: ${BACKUP_KINDS.join(', ')}.`, default: 'manual' },
  ...ENCRYPTION_INPUTS,
  'full-every-days': {
    description: 'Store every object again when the last full backup is this many days old (else only changes).',
    default: '7',
  },
  concurrency: { description: 'Objects streamed at once.', default: '8' },
  ...TIMEOUT_INPUTS,
} as const satisfies InputSpecs;

export interface BackupFilesInputs {
  source: FileSource;
  name: string;
  stores: Store[];
  kind: BackupKind;
  recipients: string[] | null;
  fullEveryDays: number;
  concurrency: number;
}

export function readInputs(runtime: Runtime): BackupFilesInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const recipients = readRecipients(inputs);
  const timeouts = readTimeouts(inputs);
  const name = checkBackupName(inputs.string('name'), inputs.origin('name'));
  const stores = readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts });
  return {
    source: readSourceOpener(runtime, inputs, timeouts)(inputs.string('source-url'), inputs.origin('source-url')),
    name,
    stores,
    kind: inputs.choice('kind', BACKUP_KINDS),
    recipients,
    fullEveryDays: inputs.integer('full-every-days', { min: 1, max: 365 }),
    concurrency: inputs.integer('concurrency', { min: 1, max: 64 }),
  };
}
