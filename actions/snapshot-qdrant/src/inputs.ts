import type { Origin } from '../../lib/action/origin.ts';
import { ENCRYPTION_INPUTS, readRecipients } from '../../lib/inputs/encryption.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { checkBackupName } from '../../lib/manifest/ids.ts';
import { BACKUP_KINDS, type BackupKind } from '../../lib/manifest/schema.ts';
import { parseQdrantUrl, type QdrantNode } from '../../lib/qdrant/client.ts';
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
  'qdrant-url': {
    description: 'Qdrant REST URL(s): one, or every node of a cluster (newline- or comma-separated).',
    required: true,
  },
  'qdrant-api-key': { description: 'Qdrant API key (a secret).', secret: true },
  collections: { description: 'Collections to back up, newline- or comma-separated; default: all.' },
  name: { description: 'Backup name: the storage folder, e.g. qdrant-prod.', required: true },
  'storage-url': {
    description: 'Destinations, newline- or comma-separated: s3://bucket/prefix, file:///path or ./path.',
    required: true,
  },
  kind: { description: `Why this backup exists: ${BACKUP_KINDS.join(', ')}.`, default: 'manual' },
  ...ENCRYPTION_INPUTS,
  'keep-remote-snapshot': { description: "Leave Qdrant's own copy of each snapshot on the server.", default: 'false' },
  'snapshot-timeout-seconds': { description: 'How long Qdrant may take to make one snapshot.', default: '3600' },
  ...ARTIFACT_INPUTS,
  ...TREND_INPUTS,
  ...TIMEOUT_INPUTS,
  ...CATALOG_INPUTS,
} as const satisfies InputSpecs;

export interface SnapshotInputs {
  nodes: QdrantNode[];
  collections: string[];
  collectionsOrigin: Origin;
  name: string;
  stores: Store[];
  kind: BackupKind;
  recipients: string[] | null;
  keepRemoteSnapshot: boolean;
  snapshotTimeoutMs: number;
  /** null: no artifact copy. */
  artifact: ArtifactCopyOptions | null;
  /** Mirrors the backup into backstop.backup_logs (a no-op without catalog-url). */
  catalog: CatalogMirror;
  trends: TrendSettings;
}

export function readInputs(runtime: Runtime): SnapshotInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const apiKey = inputs.optional('qdrant-api-key');
  const keyOrigin = inputs.origin('qdrant-api-key');
  const timeouts = readTimeouts(inputs);
  const read = inputs.fields<Omit<SnapshotInputs, 'artifact'>>({
    recipients: () => readRecipients(inputs),
    nodes: () =>
      inputs.list('qdrant-url').map((url) => ({
        url: parseQdrantUrl(url, inputs.origin('qdrant-url'), keyOrigin),
        apiKey,
        keyOrigin,
        timeouts,
      })),
    collections: () => inputs.list('collections'),
    collectionsOrigin: () => inputs.origin('collections'),
    name: () => checkBackupName(inputs.string('name'), inputs.origin('name')),
    stores: () => readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts }),
    kind: () => inputs.choice('kind', BACKUP_KINDS),
    keepRemoteSnapshot: () => inputs.boolean('keep-remote-snapshot'),
    snapshotTimeoutMs: () => inputs.integer('snapshot-timeout-seconds', { min: 10 }) * 1000,
    catalog: () => readCatalog(inputs, runtime),
    trends: () => readTrendSettings(inputs),
  });
  // The artifact copy is checked against the destinations, so only once they are known to be good.
  return { ...read, artifact: readArtifactCopy(inputs, read.stores) };
}
