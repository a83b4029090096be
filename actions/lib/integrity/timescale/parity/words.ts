import type { Side } from '../../parity.ts';

/** The two sides of the comparison: database-url's first, compare-url's second. */
export type Sides = [Side, Side];

/** "1 day in database-url, 7 days in compare-url". */
export function bothSides(sides: Sides, values: [string, string]): string {
  return `${values[0]} in ${sides[0].label}, ${values[1]} in ${sides[1].label}`;
}

/** "3 jobs", "1 job". */
export function counted(count: number, word: string, plural = `${word}s`): string {
  return `${count} ${count === 1 ? word : plural}`;
}

/** The first few names, and how many there are in all when there are more. */
export function listed(names: string[], max = 4): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')}, … (${names.length} in all)`;
}

/**
 * Pairs the items of both sides by key, in the first side's order and then the second's: [key, item of the first
 * side, item of the second side]. An item only one side has is paired with undefined.
 */
export function paired<T>(items: [T[], T[]], keyOf: (item: T) => string): [string, T | undefined, T | undefined][] {
  const keys = [...new Set([...items[0], ...items[1]].map(keyOf))];
  const find = (side: T[], key: string) => side.find((item) => keyOf(item) === key);
  return keys.map((key) => [key, find(items[0], key), find(items[1], key)]);
}

/** "public.candle_15m is missing in compare-url" for an item only one side has; undefined when both have it. */
export function missing(sides: Sides, what: string, present: [unknown, unknown]): string | undefined {
  if (present[0] === undefined) return `${what} is missing in ${sides[0].label}`;
  if (present[1] === undefined) return `${what} is missing in ${sides[1].label}`;
  return undefined;
}
