import type { PointKey } from './collection.ts';
import { compareKeys, inOrder } from './order.ts';
import type { Tally } from './tally.ts';

export async function* flatten<T>(pages: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}

/** An iterator with its current item in view; close() ends the underlying stream (the row cursor's transaction). */
class Peek<T> {
  current: T | undefined;
  done = false;
  private readonly iterator: AsyncIterator<T>;

  constructor(source: AsyncIterable<T>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  async advance(): Promise<void> {
    const next = await this.iterator.next();
    this.done = next.done === true;
    this.current = next.done ? undefined : next.value;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }
}

/** Merges the rows (in key order) with the points (in id order); holds nothing but the two current pages. */
export async function compareSorted(
  rowStream: AsyncIterable<string | null>,
  pointStream: AsyncIterable<PointKey>,
  tally: Tally,
): Promise<void> {
  const rows = new Peek(inOrder(rowStream, (key) => key, 'the table keys'));
  const points = new Peek(inOrder(pointStream, (point) => point.id, "Qdrant's scroll"));
  try {
    await rows.advance();
    await points.advance();
    while (!rows.done || !points.done) {
      // A NULL key (they come last) has no point whatever the points side holds.
      const order = rows.done
        ? 1
        : points.done || rows.current === null
          ? -1
          : compareKeys(rows.current!, points.current!.id);
      if (order < 0) {
        tally.rows++;
        tally.missing(rows.current!);
        await rows.advance();
      } else if (order > 0) {
        tally.points++;
        tally.orphan(points.current!.id);
        await points.advance();
      } else {
        // One point covers every row with its key (the key column need not be unique).
        const key = points.current!.id;
        tally.points++;
        await points.advance();
        while (!rows.done && rows.current === key) {
          tally.rows++;
          await rows.advance();
        }
      }
    }
  } finally {
    await rows.close();
    await points.close();
  }
}
