import { formatBytes, formatSeconds, markdownTable } from '../../lib/format.ts';
import type { NameStatus } from '../../lib/manifest/status.ts';
import { drillVerdict } from '../../lib/report/status-page.ts';

/** One row per name: what a person on call reads first in the morning. */
export function statusSummary(statuses: NameStatus[], maxAgeHours: number): string {
  const stale = statuses.filter((status) => status.stale).length;
  const rows = statuses.map((status) => [
    status.name,
    status.engine ?? '–',
    status.newest?.id ?? 'none',
    status.newestAgeHours === undefined ? '–' : `${status.newestAgeHours.toFixed(1)} h`,
    status.newest ? formatBytes(status.newest.storedBytes) : '–',
    status.newestDrill ? `${drillVerdict(status.newestDrill)}, ${status.newestDrill.startedAt}` : 'never drilled',
    status.recentRtoSeconds.length > 0 ? status.recentRtoSeconds.map(formatSeconds).join(', ') : '–',
    status.stale ? '⚠️ stale' : '✅ fresh',
  ]);
  return [
    `## ${stale === 0 ? '✅' : '⚠️'} Backup status: ${statuses.length} name(s), ${stale} stale ` +
      `(max-age-hours ${maxAgeHours})`,
    '',
    markdownTable(
      ['Name', 'Engine', 'Newest complete backup', 'Age', 'Size', 'Newest drill', 'RTO of the last drills', 'Stale'],
      rows,
    ),
    '',
  ].join('\n');
}
