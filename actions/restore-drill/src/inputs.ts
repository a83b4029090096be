import type { Origin } from '../../lib/action/origin.ts';
import { readFileSync, existsSync } from 'node:fs';
import { ConfigurationError } from '../../lib/action/errors.ts';
import { parseIdentities, type Identities } from '../../lib/crypto/age.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { checkBackupId, checkBackupName } from '../../lib/manifest/ids.ts';
import type { BinDirChoice } from '../../lib/pg/tools.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { CATALOG_INPUTS, readCatalog } from '../../lib/inputs/catalog.ts';
import type { CatalogMirror } from '../../lib/catalog/mirror.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import type { Store, Timeouts } from '../../lib/storage/index.ts';
import os from 'node:os';

export const INPUTS = {
  'storage-url': {
    description:
      'Where the backups are: s3://bucket/prefix, file:///path or ./path (the first that has the backup is used).',
    required: true,
  },
  name: { description: 'Backup name (the storage folder), as given to dump-postgres.', required: true },
  'backup-id': { description: 'The backup to drill; default: the newest complete one.' },
  'encryption-identity': {
    description: 'age identity (AGE-SECRET-KEY-1…), or a path to an age key file (a secret).',
    secret: true,
  },
  'target-url': {
    description:
      'PostgreSQL backups: postgresql:// URL of an EMPTY database (default: a throwaway local cluster). Qdrant ' +
      'backups: the Qdrant to recover into. Files backups: an empty s3://bucket/prefix or folder.',
    secret: 'url',
  },
  'qdrant-api-key': { description: 'API key of the target Qdrant (a secret).', secret: true },
  'restore-as': {
    description:
      'Qdrant only, a real restore: source=target collection names (or * for the same names); aliases are ' +
      'recreated. Default: a drill into scratch collections that are deleted.',
  },
  'max-restore-seconds': { description: 'RTO budget: fail when the restore takes longer.' },
  'max-age-hours': { description: 'RPO budget: fail when the backup is older.' },
  privileges: {
    description:
      "PostgreSQL: restore owners and grants, creating the backup's missing roles (NOLOGIN, no password) first; " +
      'false restores with --no-owner --no-acl.',
    default: 'true',
  },
  'dry-run': {
    description: 'Download, verify checksums, decrypt and list the archive; restore nothing.',
    default: 'false',
  },
  'plan-only': {
    description:
      'Only choose the backup and set its outputs (backup-id, engine, server-version, server-major, extensions); ' +
      'download nothing. For a plan job.',
    default: 'false',
  },
  jobs: {
    description: 'Parallel pg_restore jobs for directory-format backups; default the number of CPUs.',
    machineDefault: () => String(Math.max(1, os.availableParallelism())),
  },
  'pg-bin-dir': { description: 'Folder holding pg_restore (and initdb/pg_ctl for the throwaway cluster).' },
  ...TIMEOUT_INPUTS,
  'to-time': {
    description:
      'Point in time to recover to, ISO 8601 with offset (2026-01-18T03:25:00+01:00): the newest backup at or ' +
      'before it, plus WAL up to it for pgBackRest backups.',
  },
  'verify-sql': {
    description: 'A query that must return one true value in the recovered database (pgBackRest backups).',
  },
  'encryption-passphrase': {
    description: 'Passphrase of the pgBackRest repository (a secret: BACKSTOP_ENCRYPTION_PASSPHRASE).',
    secret: true,
  },
  ...CATALOG_INPUTS,
} as const satisfies InputSpecs;

export interface DrillInputs {
  stores: Store[];
  name: string;
  backupId?: string;
  identities: Identities;
  /** Parsed once the backup's engine is known. */
  targetUrl?: string;
  targetOrigin: Origin;
  qdrantKeyOrigin: Origin;
  restoreAsOrigin: Origin;
  qdrantApiKey?: string;
  restoreAs: string[];
  maxRestoreSeconds?: number;
  maxAgeHours?: number;
  privileges: boolean;
  dryRun: boolean;
  planOnly: boolean;
  jobs: number;
  pgBin: BinDirChoice;
  /** For S3 and a Qdrant target. */
  timeouts: Timeouts;
  toTime?: Date;
  toTimeOrigin: Origin;
  verifySql?: string;
  verifySqlOrigin: Origin;
  passphrase?: string;
  passphraseOrigin: Origin;
  /** Mirrors the drill's verdict into backstop.backup_logs (a no-op without catalog-url). */
  catalog: CatalogMirror;
}

export function readInputs(runtime: Runtime): DrillInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const backupId = inputs.optional('backup-id');
  const timeouts = readTimeouts(inputs);

  return inputs.fields<DrillInputs>({
    stores: () => readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts }),
    name: () => checkBackupName(inputs.string('name'), inputs.origin('name')),
    backupId: () => backupId && checkBackupId(backupId, inputs.origin('backup-id')),
    identities: () => readIdentities(runtime, inputs),
    targetUrl: () => inputs.optional('target-url'),
    targetOrigin: () => inputs.origin('target-url'),
    qdrantKeyOrigin: () => inputs.origin('qdrant-api-key'),
    restoreAsOrigin: () => inputs.origin('restore-as'),
    qdrantApiKey: () => inputs.optional('qdrant-api-key'),
    restoreAs: () => inputs.list('restore-as'),
    maxRestoreSeconds: () => inputs.optionalNumber('max-restore-seconds', { min: 0.001 }),
    maxAgeHours: () => inputs.optionalNumber('max-age-hours', { min: 0.0001 }),
    privileges: () => inputs.boolean('privileges'),
    dryRun: () => inputs.boolean('dry-run'),
    planOnly: () => inputs.boolean('plan-only'),
    jobs: () => inputs.integer('jobs', { min: 1, max: 64 }),
    pgBin: () => ({ dir: inputs.optional('pg-bin-dir'), origin: inputs.origin('pg-bin-dir') }),
    timeouts: () => timeouts,
    toTime: () => readTime(inputs.optional('to-time'), inputs.origin('to-time')),
    toTimeOrigin: () => inputs.origin('to-time'),
    verifySql: () => inputs.optional('verify-sql'),
    verifySqlOrigin: () => inputs.origin('verify-sql'),
    passphrase: () => inputs.optional('encryption-passphrase'),
    passphraseOrigin: () => inputs.origin('encryption-passphrase'),
    catalog: () => readCatalog(inputs, runtime),
  });
}

/** ISO 8601 with an explicit offset: a time without one means a different second on every runner's clock. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

export function readTime(value: string | undefined, origin: Origin): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(
    value
      .replace(' ', 'T')
      .replace(/([+-]\d{2})$/, '$1:00')
      .replace(/([+-]\d{2})(\d{2})$/, '$1:$2'),
  );
  if (!ISO_WITH_OFFSET.test(value) || Number.isNaN(at.getTime())) {
    throw new ConfigurationError(
      `${origin.title} is "${value}", not an ISO 8601 time with offset: write e.g. 2026-01-18T03:25:00Z or ` +
        '2026-01-18T04:25:00+01:00.',
    );
  }
  return at;
}

/** The identity itself, or a path to a key file (as age -i takes). The key read from a file is masked too. */
function readIdentities(runtime: Runtime, inputs: InputReader): Identities {
  const origin = inputs.origin('encryption-identity');
  const value = inputs.optional('encryption-identity');
  if (!value) return { keys: null, origin };
  const text = !value.includes('AGE-SECRET-KEY-') && existsSync(value) ? readFileSync(value, 'utf8') : value;
  const keys = parseIdentities(text, origin);
  for (const key of keys) runtime.setSecret(key);
  return { keys, origin };
}
