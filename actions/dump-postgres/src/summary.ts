import type { DumpResult } from '../../lib/postgres/dump.ts';
import { countOf, formatBytes, formatCount, formatRate, formatSeconds, markdownTable } from '../../lib/format.ts';
import { artifactSummaryLine, type ArtifactCopyResult } from '../../lib/artifact/copy.ts';
import type { Store } from '../../lib/storage/index.ts';
import type { TimescaleObjects } from '../../lib/manifest/schema.ts';

export function dumpSummary(result: DumpResult, stores: Store[], artifact: ArtifactCopyResult | null = null): string {
  const { manifest } = result;
  const tables = manifest.tables ?? [];
  const rows = tables.reduce((sum, table) => sum + (table.rows ?? 0), 0);
  const raw = manifest.files.reduce((sum, file) => sum + file.rawBytes, 0);
  const stored = manifest.files.reduce((sum, file) => sum + file.bytes, 0);
  const timescale = (manifest.source.extensions ?? []).find((extension) => extension.name === 'timescaledb');
  const lines = [
    `## ✅ Backup ${manifest.id}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['Database', `${manifest.source.database} on ${manifest.source.host}`],
        [
          'Server',
          `PostgreSQL ${manifest.source.serverVersion}${timescale ? `, TimescaleDB ${timescale.version}` : ''}`,
        ],
        ['Tables / rows', `${tables.length} / ${formatCount(rows)}`],
        ...(manifest.timescaledb ? [['TimescaleDB objects', timescaleLine(manifest.timescaledb)]] : []),
        [
          'Size',
          `${formatBytes(raw)} dumped → ${formatBytes(stored)} stored (${manifest.format}, ` +
            `zstd${manifest.encryption ? ', age' : ''})`,
        ],
        ['Time', `${formatSeconds(manifest.durationSeconds)} (${formatRate(raw, manifest.durationSeconds)})`],
        ['sha256', `\`${result.sha256}\``],
        [
          'Encryption',
          manifest.encryption
            ? `age, ${manifest.encryption.recipients.length} recipient(s)`
            : '⚠️ none (allow-unencrypted)',
        ],
        ['Destinations', stores.map((store) => store.displayUrl).join('<br>')],
        ...(artifact ? [['Artifact', artifactSummaryLine(artifact)]] : []),
      ],
    ),
  ];
  const excluded = tables.filter((table) => table.rows === null);
  if (excluded.length > 0)
    lines.push('', `Rows not dumped (exclude-table-data): ${excluded.map((t) => `${t.schema}.${t.name}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** What a drill of this backup will compare besides rows. */
function timescaleLine(objects: TimescaleObjects): string {
  const chunks = objects.hypertables.reduce((sum, table) => sum + table.chunks, 0);
  const compressed = objects.hypertables.reduce((sum, table) => sum + table.compressedChunks, 0);
  return (
    `${countOf(objects.hypertables.length, 'hypertable')} (${countOf(chunks, 'chunk')}, ${compressed} compressed), ` +
    `${countOf(objects.continuousAggregates.length, 'continuous aggregate')}, ` +
    `${countOf(objects.jobs.length, 'policy job')}`
  );
}
