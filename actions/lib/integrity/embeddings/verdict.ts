import { fail, pass, type CheckResult } from '../check.ts';
import type { EmbeddingMapping } from './mapping.ts';
import type { Tally } from './tally.ts';

/** How many sampled keys the one-line finding names (the details keep the whole sample). */
const FINDING_SAMPLE = 5;

export function verdict(mapping: EmbeddingMapping, tally: Tally): CheckResult {
  const name = `embeddings: ${mapping.table} → ${mapping.collection}`;
  const details = {
    rows: tally.rows,
    points: tally.points,
    missingPoints: tally.missingPoints,
    orphanPoints: tally.orphanPoints,
    missingCount: tally.missingCount,
    orphanCount: tally.orphanCount,
  };
  const prefix = `${mapping.table} → ${mapping.collection}`;
  if (tally.missingCount === 0 && tally.orphanCount === 0) {
    const rows = `${tally.rows} ${plural(tally.rows, 'row has', 'rows have')}`;
    const points = `${tally.points} ${plural(tally.points, 'point has', 'points have')}`;
    return pass(name, `${prefix}: all ${rows} a point and all ${points} a row`, details);
  }
  const parts: string[] = [];
  if (tally.missingCount > 0) {
    const rows = `${tally.rows} ${plural(tally.rows, 'row', 'rows')}`;
    const have = tally.missingCount === 1 ? 'has' : 'have';
    parts.push(`${tally.missingCount} of ${rows} ${have} no point${example(tally.missingPoints)}`);
  }
  if (tally.orphanCount > 0) {
    const have = plural(tally.orphanCount, 'point has', 'points have');
    parts.push(`${tally.orphanCount} ${have} no row${example(tally.orphanPoints)}`);
  }
  return fail(name, `${prefix}: ${parts.join('; ')}`, details);
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

function example(sample: string[]): string {
  return sample.length === 0 ? '' : ` (e.g. ${sample.slice(0, FINDING_SAMPLE).join(', ')})`;
}
