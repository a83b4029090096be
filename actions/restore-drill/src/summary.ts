import type { Manifest } from '../../lib/manifest/schema.ts';
import type { DrillRecordBase } from '../../lib/manifest/drills.ts';
import { rowCountMatches, type DrillRecord } from '../../lib/postgres/drill.ts';
import type { Tally } from '../../lib/postgres/timescale.ts';
import type { QdrantDrillRecord } from '../../lib/qdrant/recover.ts';
import { formatCount, formatSeconds, markdownTable } from '../../lib/format.ts';

function checksumVerdict(record: DrillRecordBase): string {
  if (record.checksumsVerified) return '✅ sha256 of every file matches the manifest';
  if (record.problems.some((problem) => problem.startsWith('Checksum mismatch'))) return '❌ mismatch (see problems)';
  return '⚠️ not every file was read (see problems)';
}

export function postgresDrillSummary(record: DrillRecord, manifest: Manifest, source: string): string {
  const verdict = record.verified ? '✅ verified' : '❌ NOT verified';
  const lines = [
    `## ${verdict}: restore drill of ${record.backupId}${record.dryRun ? ' (dry run)' : ''}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['Backup', `${manifest.name} / ${manifest.id} (${manifest.kind}), PostgreSQL ${manifest.source.serverVersion}`],
        ['Read from', source],
        ['Backup age', `${record.backupAgeHours.toFixed(1)} h`],
        ['Restored into', record.target],
        [record.dryRun ? 'Verify time' : 'Restore time (RTO)', formatSeconds(record.restoreSeconds)],
        ['Checksums', checksumVerdict(record)],
        ...(record.dryRun
          ? [['Archive', `${record.tocEntries ?? 0} entries listed by pg_restore`]]
          : [
              [
                'Row counts',
                `${record.tables.filter(rowCountMatches).length} of ${record.tables.length} tables ` +
                  `match the manifest`,
              ],
              ...(record.timescaledb ? [[`TimescaleDB ${record.timescaledb.version}`, timescaleLine(record)]] : []),
            ]),
      ],
    ),
  ];
  if (record.problems.length > 0)
    lines.push('', '### Problems', '', ...record.problems.map((problem) => `- ${problem}`));
  const mismatched = record.tables.filter((table) => !rowCountMatches(table));
  if (mismatched.length > 0) {
    lines.push(
      '',
      markdownTable(
        ['Table', 'Manifest', 'Restored'],
        mismatched.map((t) => [
          `${t.schema}.${t.name}`,
          `${t.atLeast ? '≥ ' : ''}${formatCount(t.expected)}`,
          t.actual === null ? 'missing' : formatCount(t.actual),
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** How many of the manifest's TimescaleDB objects the restored database matches (the problems name the others). */
function timescaleLine(record: DrillRecord): string {
  const check = record.timescaledb!;
  const mark = (tally: Tally): string => (tally.matching === tally.expected ? '✅' : '❌');
  const part = (tally: Tally, what: string): string => `${mark(tally)} ${tally.matching} of ${tally.expected} ${what}`;
  return (
    `${part(check.hypertables, 'hypertables')}, ${part(check.continuousAggregates, 'continuous aggregates')}, ` +
    `${part(check.jobs, 'policy jobs')} match the manifest` +
    (check.definitionsCompared ? '' : ' (view definitions not compared: another PostgreSQL major)')
  );
}

export function qdrantDrillSummary(record: QdrantDrillRecord, manifest: Manifest, source: string): string {
  const verdict = record.verified ? '✅ verified' : '❌ NOT verified';
  const what = record.mode === 'restore' ? 'restore' : 'restore drill';
  const lines = [
    `## ${verdict}: Qdrant ${what} of ${record.backupId}${record.dryRun ? ' (dry run)' : ''}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['Backup', `${manifest.name} / ${manifest.id} (${manifest.kind}), Qdrant ${manifest.source.serverVersion}`],
        ['Read from', source],
        ['Backup age', `${record.backupAgeHours.toFixed(1)} h`],
        ['Recovered into', record.target],
        [record.dryRun ? 'Verify time' : 'Recovery time (RTO)', formatSeconds(record.restoreSeconds)],
        ['Checksums', checksumVerdict(record)],
      ],
    ),
    '',
    markdownTable(
      ['Collection', 'Recovered as', 'Points (manifest)', 'Points (recovered)', 'Vectors config'],
      record.collections.map((c) => [
        c.name,
        c.restoredAs + (record.mode === 'drill' && !record.dryRun ? ' (deleted after)' : ''),
        formatCount(c.expectedPoints),
        c.actualPoints === null ? '—' : formatCount(c.actualPoints),
        c.vectorsMatch === null ? '—' : c.vectorsMatch ? '✅ same' : '❌ differs',
      ]),
    ),
  ];
  if (record.problems.length > 0)
    lines.push('', '### Problems', '', ...record.problems.map((problem) => `- ${problem}`));
  return `${lines.join('\n')}\n`;
}

/** plan-only: which backup a later job will restore, and what it needs (no bytes were fetched). */
export function planSummary(manifest: Manifest, source: string): string {
  const extensions = (manifest.source.extensions ?? [])
    .map((extension) => `${extension.name} ${extension.version}`)
    .join(', ');
  const lines = [
    `### 🗺️ Planned: ${manifest.name}/${manifest.id}`,
    '',
    `${manifest.engine} ${manifest.source.serverVersion}, taken ${manifest.createdAt}, from ${source}.`,
    ...(extensions ? ['', `Extensions: ${extensions}.`] : []),
    '',
    'Nothing was downloaded or restored (plan-only).',
  ];
  return `${lines.join('\n')}\n`;
}
