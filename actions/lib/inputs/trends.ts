import type { InputSpecs } from '../action/descriptor.ts';
import type { InputReader } from '../action/input-reader.ts';

/** The trend inputs every backup action shares: how much a table may shrink between two backups. */
export const TREND_INPUTS = {
  'max-row-drop-percent': {
    description:
      'Warn when a table (Qdrant: a collection) has lost more than this share of its rows since the previous backup.',
    default: '10',
    docs:
      'The summary compares every table’s exact row count (Qdrant: every collection’s points) and the bytes with ' +
      'the previous complete backup of the same `name`. A table that lost more than this percentage of its rows, ' +
      'or is gone, is a data-loss signal: a warning naming it, and a failure with `fail-on-row-drop`.',
  },
  'fail-on-row-drop': {
    description:
      'Fail the step when a table lost more than max-row-drop-percent of its rows (after the backup is stored).',
    default: 'false',
    type: 'boolean',
    docs:
      'The backup is still written completely, manifest included, and the outputs and summary are set: the step ' +
      'fails after that, so nothing is lost and the previous backups stay untouched. Retention keeps older ' +
      'backups by time, so the backup from before the drop is still there to restore.',
  },
} as const satisfies InputSpecs;

export interface TrendSettings {
  maxRowDropPercent: number;
  failOnRowDrop: boolean;
}

export function readTrendSettings(inputs: InputReader): TrendSettings {
  return {
    maxRowDropPercent: inputs.optionalNumber('max-row-drop-percent', { min: 0, max: 100 }) ?? 10,
    failOnRowDrop: inputs.boolean('fail-on-row-drop'),
  };
}
