import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { type BackupFilesOutput, run } from './main.ts';

/**
 * backup-files: the one place its contract is written (action.yml and the README's tables are generated from it).
 */
export default defineAction<BackupFilesOutput>({
  name: 'backup-files',
  description:
    'Back up an S3 bucket (Supabase Storage, R2, MinIO, AWS) incrementally: each new or changed object streamed ' +
    'through zstd and age to every destination, the whole listing in the manifest, written last.',
  branding: { icon: 'folder', color: 'purple' },
  inputs: documented(INPUTS, {
    'source-url': {
      docs:
        'The bucket (and optional prefix) to back up. Every object under it is listed in each backup; objects ' +
        'deleted from the source drop out of the next listing, and restoring an older backup brings them back.',
    },
    'source-endpoint-url': {
      defaultLabel: 'AWS_ENDPOINT_URL_S3, else AWS',
      docs:
        "Supabase Storage's S3 endpoint is `https://<ref>.storage.supabase.co/storage/v1/s3`; R2's " +
        '`https://<account>.r2.cloudflarestorage.com`. Requests are path-style.',
    },
    'source-access-key-id': {
      defaultLabel: 'AWS_ACCESS_KEY_ID',
      docs:
        'Masked before the first log line. Supabase: Project Settings → Storage → S3 access keys. A key the source ' +
        'does not know fails with one line naming this input.',
    },
    'source-secret-access-key': {
      defaultLabel: 'AWS_SECRET_ACCESS_KEY',
      docs: 'Masked before the first log line. A wrong secret fails with one line naming this input.',
    },
    'source-region': { defaultLabel: 'AWS_REGION', docs: "Supabase: the project's region, e.g. `eu-central-1`." },
    name: { docs: 'Backup name, the storage folder: one per bucket.' },
    'storage-url': { docs: 'Destinations, as for dump-postgres.' },
    kind: { docs: '`hourly`, `daily`, `weekly`, `monthly`, `manual` or `pre-migration`.' },
    'encryption-recipients': {
      docs:
        'age public keys; required unless `allow-unencrypted`. Each object is encrypted on its own; changing the ' +
        'recipients makes the next backup a full one.',
    },
    'allow-unencrypted': { docs: 'Store in the clear (warned in the log and summary).' },
    'full-every-days': {
      docs:
        'Between full backups, each backup stores only objects new or changed (by size and ETag) since the ' +
        'previous complete one and points at the earlier copies of the rest; prune-backups keeps those copies ' +
        'while a kept backup needs them.',
    },
    concurrency: {
      docs:
        'Objects in flight at once. Memory follows this, not the object sizes (multi-GB objects stream): ~100 MiB, ' +
        'plus 64 MiB of multipart parts per object in flight and destination, ~10 MiB of stage buffers per object ' +
        'and ~64 MiB V8 frees late; measured ~200 MiB for one object at a time, 430–480 MiB for eight 64 MiB objects ' +
        'at once ([the bound](../../docs/storage.md#backup-files-per-object-in-flight-not-per-object-size)).',
    },
  }),
  outputs: {
    'backup-id': { description: "The new backup's id.", docs: "the new backup's id" },
    'manifest-url': {
      description: "URL of the backup's manifest.json in the first destination.",
      docs: 'the manifest in the first destination',
    },
    objects: { description: 'Objects in the source listing.', docs: 'objects in the source listing' },
    'stored-objects': {
      description: 'Objects this backup stored (new or changed; all of them when full).',
      docs: 'objects this backup stored',
    },
    'size-bytes': { description: 'Bytes this backup stored (after zstd and age).', docs: 'stored bytes' },
    full: { description: 'true when this backup stored every object.', docs: '`true` for a full backup' },
  },
  run,
});
