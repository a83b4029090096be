import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type SnapshotQdrantOutput } from './main.ts';

/**
 * snapshot-qdrant: the one place its contract is written (action.yml and the README's tables are generated from it).
 */
export default defineAction<SnapshotQdrantOutput>({
  name: 'snapshot-qdrant',
  description:
    'Snapshot Qdrant collections (every node of a cluster), stream them through zstd and age to every destination, ' +
    'manifest last.',
  branding: { icon: 'box', color: 'purple' },
  inputs: documented(INPUTS, {
    'qdrant-url': {
      docs:
        "Qdrant REST URL (`http://localhost:6333`). For a cluster, every node's URL, newline- or " +
        'comma-separated: snapshots are per node. A node that holds no shard of a collection makes a valid, empty ' +
        'snapshot, recorded as such.',
    },
    'qdrant-api-key': {
      docs:
        'Sent as the `api-key` header. Masked before the first log line. A wrong or missing key fails with one ' +
        'line naming this input.',
    },
    collections: {
      defaultLabel: 'all',
      docs:
        'Collections to back up. A name Qdrant does not have fails before anything is written, listing the ' +
        'ones it has.',
    },
    name: { docs: 'Backup name, the storage folder.' },
    'storage-url': { docs: 'Destinations, as for dump-postgres.' },
    kind: { docs: '`hourly`, `daily`, `weekly`, `monthly`, `manual` or `pre-migration`.' },
    'encryption-recipients': { docs: 'age public keys; required unless `allow-unencrypted`.' },
    'allow-unencrypted': { docs: 'Store in the clear (warned in the log and summary).' },
    'keep-remote-snapshot': { docs: "Leave Qdrant's copy of each snapshot on the server." },
    'snapshot-timeout-seconds': {
      docs:
        'How long Qdrant may work on one snapshot without answering (large collections take minutes; the server ' +
        'keeps working after a client gives up).',
    },
  }),
  outputs: {
    'backup-id': { description: "The new backup's id.", docs: "the new backup's id" },
    'manifest-url': {
      description: "URL of the backup's manifest.json in the first destination.",
      docs: 'the manifest in the first destination',
    },
    points: { description: 'Points in all backed-up collections.', docs: 'points in all backed-up collections' },
    'size-bytes': { description: 'Stored bytes (after zstd and age).', docs: 'stored bytes' },
    'artifact-id': {
      description: 'Id of the artifact copy (see artifact-retention-days); empty when no copy was made.',
      docs: 'id of the artifact copy (`artifact-retention-days`); empty when none was made',
    },
  },
  run,
});
