import type { DumpResult } from '../../lib/postgres/dump.ts';
import { countOf, formatBytes, formatCount, formatRate, formatSeconds, markdownTable } from '../../lib/format.ts';
import { artifactSummaryLine, type ArtifactCopyResult } from '../../lib/artifact/copy.ts';
import type { Store } from '../../lib/storage/index.ts';
import type { TimescaleObjects } from '../../lib/manifest/schema.ts';
import { trendsMarkdown, type BackupTrends } from '../../lib/manifest/trends.ts';

/** The roles file and the privileges recorded: what a restore needs to behave like the source. */
function accessRows(manifest: DumpResult['manifest']): string[][] {
  const rows: string[][] = [];
  if (manifest.source.provider) rows.push(['Provider', manifest.source.provider]);
  if (manifest.roles) {
    const reserved = manifest.roles.filter((role) => role.reserved).length;
    rows.push([
      'Roles',
      `${manifest.roles.length} in the roles file, without passwords` +
        (reserved > 0 ? ` (${reserved} reserved by ${manifest.source.provider})` : ''),
    ]);
  }
  const security = manifest.security;
  if (security) {
    const grants = Object.values(security.grants).reduce((sum, count) => sum + count, 0);
    rows.push([
      'Grants / policies',
      `${formatCount(grants)} grants, ${security.defaultPrivileges} default privileges / ${security.policies.length} ` +
        `policies on ${security.rls.length} tables with row level security`,
    ]);
  }
  return rows;
}

export function dumpSummary(
  result: DumpResult,
  stores: Store[],
  artifact: ArtifactCopyResult | null = null,
  trends?: BackupTrends,
): string {
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
        ...accessRows(manifest),
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
  lines.push('', trendsMarkdown(trends));
  return lines.join('\n');
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
