import type { Manifest } from '../../lib/manifest/schema.ts';
import { formatBytes, formatCount, formatRate, formatSeconds, markdownTable } from '../../lib/format.ts';
import { artifactSummaryLine, type ArtifactCopyResult } from '../../lib/artifact/copy.ts';
import type { Store } from '../../lib/storage/index.ts';
import { trendsMarkdown, type BackupTrends } from '../../lib/manifest/trends.ts';

export function snapshotSummary(
  manifest: Manifest,
  stores: Store[],
  artifact: ArtifactCopyResult | null = null,
  trends?: BackupTrends,
): string {
  const collections = manifest.collections ?? [];
  const fileOf = (path: string) => manifest.files.find((file) => file.path === path);
  const raw = manifest.files.reduce((sum, file) => sum + file.rawBytes, 0);
  const stored = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  const rows = collections.map((collection) => {
    const files = collection.snapshots.map((snapshot) => fileOf(snapshot.file));
    const empties = collection.snapshots.filter((snapshot) => snapshot.empty).length;
    return [
      collection.name,
      formatCount(collection.points),
      describeVectors(collection.vectorsConfig),
      collection.aliases.join(', ') || '—',
      `${formatBytes(files.reduce((sum, file) => sum + (file?.rawBytes ?? 0), 0))} → ` +
        `${formatBytes(files.reduce((sum, file) => sum + (file?.bytes ?? 0), 0))}`,
      collection.snapshots.every((snapshot) => snapshot.qdrantChecksum)
        ? '✅ matches Qdrant’s'
        : '✅ computed (Qdrant gave none)',
      `${collection.snapshots.length}${empties ? ` (${empties} without shards)` : ''}`,
    ];
  });
  return [
    `## ✅ Qdrant backup ${manifest.id}`,
    '',
    `Qdrant ${manifest.source.serverVersion} · ${formatBytes(raw)} of snapshots → ${formatBytes(stored)} stored in ` +
      `${formatSeconds(manifest.durationSeconds)} ` +
      `(${formatRate(raw, manifest.durationSeconds)}) · ` +
      `${manifest.encryption ? 'age-encrypted' : '⚠️ not encrypted (allow-unencrypted)'} · ` +
      stores.map((store) => store.displayUrl).join(', '),
    '',
    markdownTable(['Collection', 'Points', 'Vectors', 'Aliases', 'Snapshot → stored', 'sha256', 'Nodes'], rows),
    '',
    ...(artifact ? [artifactSummaryLine(artifact), ''] : []),
    trendsMarkdown(trends),
  ].join('\n');
}

function describeVectors(config: unknown): string {
  if (config && typeof config === 'object' && 'size' in config) {
    const single = config as { size: number; distance?: string };
    return `${single.size}d ${single.distance ?? ''}`.trim();
  }
  if (config && typeof config === 'object') return Object.keys(config).join(', ') || '—';
  return '—';
}
