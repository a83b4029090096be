import { describe, expect, it } from 'vitest';
import { cliRuntime } from '../../actions/lib/action/cli.ts';
import { displayWidth, markdownToText } from '../../actions/lib/action/plain-text.ts';
import { formatProgress, isProgressLine, markdownTable } from '../../actions/lib/format.ts';

describe('summaries in a terminal', () => {
  it('headings underlined, tables in aligned columns (emoji two columns wide), marks dropped', () => {
    const markdown = [
      '## ✅ Backup `prod-db` **verified**',
      '',
      markdownTable(
        ['Table', 'Rows', 'Note'],
        [
          ['public.trades', '1,000', '✅ ok'],
          ['ticks', 12, 'see [the runbook](runbooks/x.md)'],
          ['a|b', '', '<br>'],
        ],
      ),
      '',
      '<details><summary>More</summary>',
      '',
      '- one',
      '</details>',
    ].join('\n');
    expect(markdownToText(markdown).split('\n')).toEqual([
      '✅ Backup prod-db verified',
      '──────────────────────────',
      '',
      'Table          Rows   Note',
      '─────────────  ─────  ───────────────────────────────',
      'public.trades  1,000  ✅ ok',
      'ticks          12     see the runbook (runbooks/x.md)',
      'a|b',
      '',
      'More',
      '',
      '- one',
    ]);
    expect(displayWidth('✅ ok')).toBe(5);
    expect(displayWidth('⚠️ none')).toBe(7);
  });

  it('the CLI prints summaries as text, never raw Markdown', async () => {
    const out: string[] = [];
    const { runtime } = cliRuntime(new Map(), {}, { out: (line) => void out.push(line), err: () => undefined });
    await runtime.writeSummary('## Drill\n\n| a | b |\n|---|---|\n| 1 | 2 |');
    expect(out.join('\n')).toBe('\nDrill\n─────\n\na  b\n─  ─\n1  2');
  });
});

describe('progress lines', () => {
  it('percent and ETA where the total is known, bytes so far where not', () => {
    const gib = 1024 ** 3;
    expect(formatProgress('postgres.dump.zst', gib, 4 * gib, 10)).toBe(
      'postgres.dump.zst: 1.0 GiB of 4.0 GiB (25%), 102.4 MiB/s, ETA 30.0 s',
    );
    expect(formatProgress('x', 5 * 1024 ** 2, undefined, 2)).toBe('x: 5.0 MiB so far, 2.5 MiB/s');
    expect(formatProgress('x', 0, 100, 0)).toBe('x: 0 B of 100 B (0%), n/a, ETA unknown');
    for (const line of [formatProgress('a b', 3 * gib, 4 * gib, 100), formatProgress('a', 10, undefined, 1)])
      expect(isProgressLine(line), line).toBe(true);
    expect(isProgressLine('Restored 4 tables: 1.0 GiB')).toBe(false);
  });

  it('on a terminal the CLI shows them as one live line, other lines as they are', () => {
    const out: string[] = [];
    const live: string[] = [];
    const io = {
      out: (line: string) => void out.push(line),
      err: () => undefined,
      live: (l: string) => void live.push(l),
    };
    const { runtime } = cliRuntime(new Map(), {}, io);
    runtime.info(formatProgress('f', 1, 2, 1));
    runtime.info('done');
    expect(live).toEqual(['f: 1 B of 2 B (50%), 1 B/s, ETA 1.0 s']);
    expect(out).toEqual(['done']);
  });
});
