import { ENCRYPTION_INPUTS, readRecipients } from '../../lib/inputs/encryption.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import { BACKUP_KINDS, type BackupKind } from '../../lib/manifest/schema.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../lib/pg/connection.ts';
import type { BinDirChoice } from '../../lib/pg/tools.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import type { ArtifactCopyOptions } from '../../lib/artifact/copy.ts';
import { ARTIFACT_INPUTS, readArtifactCopy } from '../../lib/inputs/artifact.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { CATALOG_INPUTS, readCatalog } from '../../lib/inputs/catalog.ts';
import type { CatalogMirror } from '../../lib/catalog/mirror.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import { readTrendSettings, TREND_INPUTS, type TrendSettings } from '../../lib/inputs/trends.ts';
import type { Store } from '../../lib/storage/index.ts';

export const INPUTS = {
  'database-url': {
    description: 'postgresql:// URL of the database to back up (a secret).',
    required: true,
    secret: 'url',
  },
  name: {
    description: 'Backup name: the storage folder this database’s backups live in, e.g. prod-db.',
    required: true,
  },
  'storage-url': {
    description: 'Destinations, newline- or comma-separated: s3://bucket/prefix, file:///path or ./path.',
    required: true,
  },
  kind: { description: `Why this backup exists: ${BACKUP_KINDS.join(', ')}.`, default: 'manual' },
  format: {
    description: 'pg_dump archive format: custom (streamed, no temp file) or directory (parallel jobs).',
    default: 'custom',
  },
  jobs: { description: 'Parallel pg_dump jobs for the directory format.', default: '4' },
  ...ENCRYPTION_INPUTS,
  'exclude-table-data': { description: 'pg_dump patterns of tables whose rows are skipped (schema kept).' },
  'row-counts': {
    description: 'How the manifest counts rows: stream (read from the dump itself) or scan (count(*) of each table).',
    default: 'stream',
  },
  'pg-bin-dir': { description: 'Folder holding pg_dump; default: the newest installed.' },
  ...ARTIFACT_INPUTS,
  ...TREND_INPUTS,
  ...TIMEOUT_INPUTS,
  ...CATALOG_INPUTS,
} as const satisfies InputSpecs;

export interface DumpInputs {
  database: DatabaseUrl;
  name: string;
  stores: Store[];
  kind: BackupKind;
  format: 'custom' | 'directory';
  jobs: number;
  recipients: string[] | null;
  excludeTableData: string[];
  rowCounts: 'stream' | 'scan';
  pgBin: BinDirChoice;
  /** null: no artifact copy. */
  artifact: ArtifactCopyOptions | null;
  /** Mirrors the backup into backstop.backup_logs (a no-op without catalog-url). */
  catalog: CatalogMirror;
  trends: TrendSettings;
}

/** Reads and checks every input; secrets are masked before anything else happens. */
export function readInputs(runtime: Runtime): DumpInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const read = inputs.fields<Omit<DumpInputs, 'artifact'>>({
    recipients: () => readRecipients(inputs),
    database: () => parseDatabaseUrl(inputs.string('database-url'), inputs.origin('database-url')),
    name: () => checkBackupName(inputs.string('name'), inputs.origin('name')),
    stores: () => readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts: readTimeouts(inputs) }),
    kind: () => inputs.choice('kind', BACKUP_KINDS),
    format: () => inputs.choice('format', ['custom', 'directory'] as const),
    jobs: () => inputs.integer('jobs', { min: 1, max: 64 }),
    excludeTableData: () => inputs.list('exclude-table-data'),
    rowCounts: () => inputs.choice('row-counts', ['stream', 'scan'] as const),
    pgBin: () => ({ dir: inputs.optional('pg-bin-dir'), origin: inputs.origin('pg-bin-dir') }),
    catalog: () => readCatalog(inputs, runtime),
    trends: () => readTrendSettings(inputs),
  });
  // The artifact copy is checked against the destinations, so only once they are known to be good.
  return { ...read, artifact: readArtifactCopy(inputs, read.stores) };
}
