import type { CheckResult } from '../../lib/integrity/check.ts';
import { markdownTable } from '../../lib/format.ts';

const ICON = { pass: '✅', warn: '⚠️', fail: '❌' } as const;

export function integritySummary(results: CheckResult[], passed: boolean, where: string): string {
  const count = (status: CheckResult['status']): number => results.filter((r) => r.status === status).length;
  return [
    `## ${passed ? '✅' : '❌'} Integrity of ${where}: ${count('pass')} passed, ${count('warn')} warnings, ` +
      `${count('fail')} failed`,
    '',
    markdownTable(
      ['', 'Check', 'Finding'],
      results.map((r) => [ICON[r.status], r.name, r.finding]),
    ),
    '',
  ].join('\n');
}
