import type { FilesDrillRecord } from '../../lib/files/restore.ts';
import { formatBytes, formatCount, formatSeconds, markdownTable } from '../../lib/format.ts';
import type { Manifest } from '../../lib/manifest/schema.ts';

/** The job summary of a files drill or restore: what the manifest lists against what came back. */
export function filesDrillSummary(record: FilesDrillRecord, manifest: Manifest, source: string): string {
  const verdict = record.verified ? '✅ verified' : '❌ NOT verified';
  const what = record.mode === 'restore' ? 'restore' : 'restore drill';
  const lines = [
    `## ${verdict}: files ${what} of ${record.backupId}${record.dryRun ? ' (dry run)' : ''}`,
    '',
    markdownTable(
      ['', ''],
      [
        ['Backup', `${manifest.name} / ${manifest.id} (${manifest.kind}) of ${manifest.source.url ?? '?'}`],
        ['Read from', `${source} (${record.chain.length} backup folder(s): ${record.chain.join(', ')})`],
        ['Backup age', `${record.backupAgeHours.toFixed(1)} h`],
        ['Restored into', record.target],
        [record.mode === 'restore' ? 'Restore time (RTO)' : 'Verify time', formatSeconds(record.restoreSeconds)],
        [
          'Objects',
          `${formatCount(record.verifiedObjects)} of ${formatCount(record.objects)} ` +
            `(${formatBytes(record.verifiedBytes)} of ${formatBytes(record.bytes)}), both sha256 checked`,
        ],
      ],
    ),
  ];
  if (record.problems.length > 0)
    lines.push('', '### Problems', '', ...record.problems.map((problem) => `- ${problem}`));
  return `${lines.join('\n')}\n`;
}
