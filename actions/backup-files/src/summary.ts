import { formatBytes, formatCount, formatSeconds, markdownTable } from '../../lib/format.ts';
import type { Manifest } from '../../lib/manifest/schema.ts';
import type { Store } from '../../lib/storage/index.ts';

export function filesSummary(manifest: Manifest, stores: Store[]): string {
  const objects = manifest.objects ?? [];
  const record = manifest.filesBackup!;
  const stored = objects.filter((object) => object.backupId === manifest.id);
  const sum = (list: { bytes: number }[]): number => list.reduce((total, object) => total + object.bytes, 0);
  const storedBytes = manifest.files.reduce((total, file) => total + file.bytes, 0);
  const skipped = record.skipped.map((entry) => [entry.key, entry.reason]);
  return [
    `## ${skipped.length ? '⚠️' : '✅'} Files backup ${manifest.id}`,
    '',
    `${manifest.source.url} · ${record.full ? 'full' : `incremental on ${record.previous}`} · ` +
      `${formatSeconds(manifest.durationSeconds)} · ` +
      `${manifest.encryption ? 'age-encrypted' : '⚠️ not encrypted (allow-unencrypted)'} · ` +
      stores.map((store) => store.displayUrl).join(', '),
    '',
    markdownTable(
      ['', 'Objects', 'Bytes'],
      [
        ['In the source (listed)', formatCount(objects.length), formatBytes(sum(objects))],
        [
          'Stored by this backup',
          formatCount(stored.length),
          `${formatBytes(sum(stored))} → ${formatBytes(storedBytes)}`,
        ],
        ['Unchanged (earlier copies)', formatCount(record.reusedObjects), formatBytes(sum(objects) - sum(stored))],
      ],
    ),
    '',
    ...(skipped.length
      ? ['Changed while being read, twice (not in this backup):', '', markdownTable(['Key', 'Why'], skipped), '']
      : []),
  ].join('\n');
}
