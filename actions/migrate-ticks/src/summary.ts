import { formatCount, formatSeconds, markdownTable } from '../../lib/format.ts';
import { ESTIMATED_ROWS_PER_SECOND, type MigrationResult } from '../../lib/ticks/migrate.ts';
import { describeRange } from '../../lib/ticks/plan.ts';

const SLOWEST_SHOWN = 5;

export function migrationSummary(result: MigrationResult): string {
  if (result.dryRun) return dryRunSummary(result);
  const rate = result.seconds > 0 ? Math.round(result.rowsCopied / result.seconds) : 0;
  const lines = [
    `## ✅ migrate-ticks: ${formatCount(result.rowsCopied)} rows in ${result.copied.length} range(s), every range ` +
      `verified`,
    '',
    markdownTable(
      ['', ''],
      [
        ['From → to', `${result.sourceTable} → ${result.targetTable} (${result.shape})`],
        [
          'TimescaleDB',
          result.timescaleVersion
            ? `${result.timescaleVersion} (direct-compress COPY not used)`
            : 'not installed in the target',
        ],
        ...(result.candles ? [['Candles', result.candles]] : []),
        ['Span', result.from && result.to ? `${result.from.toISOString()} – ${result.to.toISOString()}` : 'no rows'],
        ['Ranges', `${result.copied.length} copied, ${result.skipped} skipped (already in the ledger)`],
        [
          'Verified by',
          result.verify === 'reread'
            ? 'counts along the stream, then every row read back on both sides (count and checksum)'
            : "counts along the stream: the source's COPY, the tuples crossing the pipe, the target's COPY",
        ],
        ['Time', `${formatSeconds(result.seconds)}, ${formatCount(rate)} rows/s`],
      ],
    ),
  ];
  const slowest = [...result.copied].sort((a, b) => b.seconds - a.seconds).slice(0, SLOWEST_SHOWN);
  if (slowest.length > 1) {
    lines.push(
      '',
      '### Slowest ranges',
      '',
      markdownTable(
        ['Range', 'Rows', 'Seconds'],
        slowest.map((r) => [describeRange(r.range), formatCount(r.rows), r.seconds.toFixed(1)]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

function dryRunSummary(result: MigrationResult): string {
  const pending = result.plan.filter((p) => !p.done);
  const rows = pending.reduce((sum, p) => sum + p.sourceRows, 0);
  return [
    `## migrate-ticks plan (dry run, nothing written): ${pending.length} range(s), ${formatCount(rows)} rows to copy`,
    '',
    `${result.sourceTable} → ${result.targetTable}; estimated ${formatSeconds(rows / ESTIMATED_ROWS_PER_SECOND)} at ` +
      `~${formatCount(ESTIMATED_ROWS_PER_SECOND)} rows/s ` +
      '(measured on a 2-core runner; divide by workers on bigger machines).',
    '',
    markdownTable(
      ['Range', 'Source rows', 'Status'],
      result.plan.map((p) => [describeRange(p.range), formatCount(p.sourceRows), p.done ? 'done (ledger)' : 'to copy']),
    ),
    '',
  ].join('\n');
}
