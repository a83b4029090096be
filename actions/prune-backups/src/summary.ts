import type { StorePrune } from '../../lib/manifest/prune.ts';
import { formatBytes, markdownTable } from '../../lib/format.ts';

export function pruneSummary(results: StorePrune[], dryRun: boolean): string {
  const lines: string[] = [];
  for (const result of results) {
    const freed = result.deleted.reduce((sum, backup) => sum + backup.bytes, 0);
    lines.push(
      `## ${dryRun ? 'Would prune (dry run)' : 'Pruned'} ${result.store}: ${result.kept.length} kept, ` +
        `${result.deleted.length} ${dryRun ? 'to delete' : 'deleted'} (${formatBytes(freed)})` +
        (result.leftovers > 0
          ? `; ${result.leftovers} unfinished write(s) of killed runs ${dryRun ? 'to remove' : 'removed'}`
          : ''),
      '',
      markdownTable(
        ['Backup', 'Verdict', 'Why', 'Size'],
        [
          ...result.kept.map((b) => [b.id, 'kept', b.reasons.join(', '), formatBytes(b.bytes)]),
          ...result.deleted.map((b) => [
            b.id,
            dryRun ? 'would delete' : 'deleted',
            b.reasons.join(', '),
            formatBytes(b.bytes),
          ]),
          ...result.refused.map((r) => [r.id, '⚠️ refused by the store', r.error, '']),
        ],
      ),
      '',
    );
  }
  return lines.join('\n');
}
