import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';

/** One unit of work: the rows with start <= time < end. */
export interface TimeRange {
  start: Date;
  end: Date;
}

export interface Shard {
  /** 1-based */
  index: number;
  count: number;
}

export function parseShard(text: string, origin: Origin): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new ConfigurationError(
      `${origin.title} is "${text}": use i/n with 1 ≤ i ≤ n, e.g. 2/4 for the second of four runners.`,
    );
  }
  return { index, count };
}

/**
 * Ranges aligned to the chunk interval (multiples of it since the Unix epoch, so a 1-day interval gives UTC days and
 * each range is exactly one hypertable chunk or one daily partition), covering [from, to), then every n-th of them
 * for shard i/n. The first and last ranges are clipped to from and to.
 */
export function planRanges(
  from: Date,
  to: Date,
  intervalMs: number,
  shard: Shard = { index: 1, count: 1 },
): TimeRange[] {
  const ranges: TimeRange[] = [];
  let start = Math.floor(from.getTime() / intervalMs) * intervalMs;
  for (let position = 0; start < to.getTime(); position++, start += intervalMs) {
    if (position % shard.count !== shard.index - 1) continue;
    ranges.push({
      start: new Date(Math.max(start, from.getTime())),
      end: new Date(Math.min(start + intervalMs, to.getTime())),
    });
  }
  return ranges;
}

/** 2026-01-05 for whole UTC days, else the ISO bounds. */
export function describeRange(range: TimeRange): string {
  const day = 86_400_000;
  if (range.start.getTime() % day === 0 && range.end.getTime() - range.start.getTime() === day)
    return range.start.toISOString().slice(0, 10);
  return `${range.start.toISOString()}–${range.end.toISOString()}`;
}
