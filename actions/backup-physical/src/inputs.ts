import path from 'node:path';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { PASSPHRASE_INPUTS, readPassphrase } from '../../lib/inputs/passphrase.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import { CATALOG_INPUTS, readCatalog } from '../../lib/inputs/catalog.ts';
import type { CatalogMirror } from '../../lib/catalog/mirror.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import { BACKUP_KINDS, type BackupKind } from '../../lib/manifest/schema.ts';
import type { Origin } from '../../lib/action/origin.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../lib/pg/connection.ts';
import type { PhysicalType } from '../../lib/pgbackrest/backup.ts';
import type { Store } from '../../lib/storage/index.ts';

export const INPUTS = {
  name: {
    description: 'Backup name: the storage folder and the pgBackRest stanza (as given to archive-config).',
    required: true,
  },
  'storage-url': {
    description:
      'Destinations (s3://bucket/prefix, file:///path); the first holds the pgBackRest repository, every one the manifest.',
    required: true,
  },
  'pg-data': { description: 'The PostgreSQL data directory on this machine (SHOW data_directory).', required: true },
  'database-url': {
    description: 'A local connection to that server (a secret), e.g. postgresql://postgres@localhost/postgres.',
    required: true,
    secret: 'url',
  },
  ...PASSPHRASE_INPUTS,
  type: { description: 'auto (full when none in 7 days, else incr), full, diff or incr.', default: 'auto' },
  kind: { description: `Why this backup exists: ${BACKUP_KINDS.join(', ')}.`, default: 'manual' },
  ...CATALOG_INPUTS,
} as const satisfies InputSpecs;

export interface PhysicalInputs {
  name: string;
  stores: Store[];
  pgData: string;
  pgDataOrigin: Origin;
  database: DatabaseUrl;
  passphrase: string | undefined;
  type: PhysicalType;
  kind: BackupKind;
  /** Mirrors the backup into backstop.backup_logs (a no-op without catalog-url). */
  catalog: CatalogMirror;
}

export function readInputs(runtime: Runtime): PhysicalInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  return inputs.fields<PhysicalInputs>({
    name: () => checkBackupName(inputs.string('name'), inputs.origin('name')),
    stores: () => readStores(inputs, 'storage-url', runtime.context.s3),
    pgData: () => path.resolve(inputs.string('pg-data')),
    pgDataOrigin: () => inputs.origin('pg-data'),
    database: () => parseDatabaseUrl(inputs.string('database-url'), inputs.origin('database-url')),
    passphrase: () => readPassphrase(inputs),
    type: () => inputs.choice('type', ['auto', 'full', 'diff', 'incr'] as const),
    kind: () => inputs.choice('kind', BACKUP_KINDS),
    catalog: () => readCatalog(inputs, runtime),
  });
}
