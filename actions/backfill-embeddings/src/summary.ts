import type { BackfillResult } from '../../lib/embeddings/index.ts';
import { PAYLOAD } from '../../lib/embeddings/index.ts';
import { formatCount, formatSeconds, markdownTable } from '../../lib/format.ts';

export function backfillSummary(result: BackfillResult, database: string, qdrant: string): string {
  const rows = result.sources.map((source) => [
    `${source.table} → ${source.collection}${source.created ? ' (created)' : ''}`,
    formatCount(source.rows),
    formatCount(source.embedded),
    formatCount(source.skipped),
    source.stale > 0
      ? `${formatCount(source.deleted)} (${source.stale} stale: prune is off)`
      : formatCount(source.deleted),
    formatCount(source.tokens),
    source.dimensions === undefined ? '—' : String(source.dimensions),
    formatSeconds(source.seconds),
  ]);
  const coverage = result.sources.map(
    (source) =>
      `  - { table: ${source.table}, key: ${source.key}, collection: ${source.collection}, match: 'payload:${PAYLOAD.rowId}' }`,
  );
  return [
    '## ✅ Embeddings backfill',
    '',
    `${database} → Qdrant at ${qdrant} · embedder: ${result.embedder}`,
    '',
    markdownTable(
      ['Source → collection', 'Rows', 'Embedded', 'Skipped', 'Deleted', 'Tokens', 'Dimensions', 'Time'],
      rows,
    ),
    '',
    ...(result.absent.length > 0 ? [`Skipped (no such table): ${result.absent.join(', ')}`, ''] : []),
    'Coverage check for validate-integrity (its `config`):',
    '',
    '```yaml',
    'embeddings:',
    ...coverage,
    '```',
    '',
  ].join('\n');
}
