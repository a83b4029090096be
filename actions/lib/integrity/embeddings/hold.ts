import type { PointKey } from './collection.ts';
import type { Tally } from './tally.ts';

/** Holds the row keys (with how many rows each has; 0 once a point matched), then streams the points past them. */
export async function compareHoldingRows(
  rowPages: AsyncIterable<(string | null)[]>,
  pointPages: AsyncIterable<PointKey[]>,
  tally: Tally,
): Promise<void> {
  const unmatched = new Map<string | null, number>();
  for await (const page of rowPages) {
    for (const key of page) {
      tally.rows++;
      unmatched.set(key, (unmatched.get(key) ?? 0) + 1);
    }
  }
  for await (const page of pointPages) {
    for (const point of page) {
      tally.points++;
      const rows = point.key === undefined ? undefined : unmatched.get(point.key);
      if (rows === undefined) tally.orphan(orphanLabel(point));
      else if (rows > 0) unmatched.set(point.key!, 0);
    }
  }
  // Insertion order is key order: the sample is the lowest missing keys.
  for (const [key, rows] of unmatched) for (let row = 0; row < rows; row++) tally.missing(key);
}

/** Holds the point keys (with how many points each has; 0 once a row matched), then streams the rows past them. */
export async function compareHoldingPoints(
  rowPages: AsyncIterable<(string | null)[]>,
  pointPages: AsyncIterable<PointKey[]>,
  tally: Tally,
): Promise<void> {
  const unmatched = new Map<string, number>();
  for await (const page of pointPages) {
    for (const point of page) {
      tally.points++;
      if (point.key === undefined) tally.orphan(orphanLabel(point));
      else unmatched.set(point.key, (unmatched.get(point.key) ?? 0) + 1);
    }
  }
  for await (const page of rowPages) {
    for (const key of page) {
      tally.rows++;
      const points = key === null ? undefined : unmatched.get(key);
      if (points === undefined) tally.missing(key);
      else if (points > 0) unmatched.set(key!, 0);
    }
  }
  for (const [key, points] of unmatched) for (let point = 0; point < points; point++) tally.orphan(key);
}

/** A point without a usable payload key can only be named by its id. */
function orphanLabel(point: PointKey): string {
  return point.key ?? `point ${point.id} (no key in payload)`;
}
