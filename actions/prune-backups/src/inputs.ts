import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import type { RetentionPolicy } from '../../lib/manifest/retention.ts';
import type { Origin } from '../../lib/action/origin.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { CATALOG_INPUTS, readCatalog } from '../../lib/inputs/catalog.ts';
import type { CatalogMirror } from '../../lib/catalog/mirror.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import type { Store } from '../../lib/storage/index.ts';

/** Defaults follow the seeds' policy: 7 days of hourly, 30 days of daily, 12 weeks, 12 months, 7 years of quarters. */
export const INPUTS = {
  'storage-url': {
    description: 'Destinations to prune (each on its own), newline- or comma-separated.',
    required: true,
  },
  name: { description: 'Backup name (the storage folder).', required: true },
  'keep-last': { description: 'Keep the newest N backups.', default: '3' },
  'keep-hourly': { description: 'Keep the newest backup of each of the newest N hours (UTC).', default: '168' },
  'keep-daily': { description: 'Keep the newest backup of each of the newest N days (UTC).', default: '30' },
  'keep-weekly': { description: 'Keep the newest backup of each of the newest N ISO weeks.', default: '12' },
  'keep-monthly': { description: 'Keep the newest backup of each of the newest N months.', default: '12' },
  'keep-quarterly': {
    description: 'Keep the newest backup of each of the newest N calendar quarters (UTC): 28 is 7 years (TD-102).',
    default: '28',
  },
  'keep-yearly': { description: 'Keep the newest backup of each of the newest N years.', default: '7' },
  'incomplete-grace-hours': {
    description: 'Folders without a manifest are deleted once older than this (a younger one may still be running).',
    default: '24',
  },
  'dry-run': { description: 'Print what would be deleted; delete nothing.', default: 'false' },
  ...TIMEOUT_INPUTS,
  'encryption-passphrase': {
    description:
      'pgBackRest backups: the repository passphrase (a secret), to expire their sets with pgbackrest expire.',
    secret: true,
  },
  ...CATALOG_INPUTS,
} as const satisfies InputSpecs;

export interface PruneInputs {
  stores: Store[];
  name: string;
  policy: RetentionPolicy;
  incompleteGraceHours: number;
  dryRun: boolean;
  passphrase?: string;
  passphraseOrigin: Origin;
  /** Sets purged_at of the deleted backups in backstop.backup_logs (a no-op without catalog-url). */
  catalog: CatalogMirror;
}

export function readInputs(runtime: Runtime): PruneInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const count = (name: keyof typeof INPUTS): number => inputs.integer(name, { min: 0, max: 100_000 });
  return inputs.fields<PruneInputs>({
    stores: () => readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts: readTimeouts(inputs) }),
    name: () => checkBackupName(inputs.string('name'), inputs.origin('name')),
    policy: () =>
      inputs.fields<RetentionPolicy>({
        last: () => count('keep-last'),
        hourly: () => count('keep-hourly'),
        daily: () => count('keep-daily'),
        weekly: () => count('keep-weekly'),
        monthly: () => count('keep-monthly'),
        quarterly: () => count('keep-quarterly'),
        yearly: () => count('keep-yearly'),
      }),
    incompleteGraceHours: () => inputs.optionalNumber('incomplete-grace-hours', { min: 0 }) ?? 24,
    dryRun: () => inputs.boolean('dry-run'),
    passphrase: () => inputs.optional('encryption-passphrase'),
    passphraseOrigin: () => inputs.origin('encryption-passphrase'),
    catalog: () => readCatalog(inputs, runtime),
  });
}
