const DECIMAL = /^-?\d+$/;

/**
 * Qdrant's id order on text keys: integers (by value) before UUIDs and other text (by code unit, which for
 * canonical lowercase UUIDs is byte order). A NULL key sorts last, as in ORDER BY ... ASC.
 */
export function compareKeys(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const [aNumber, bNumber] = [DECIMAL.test(a), DECIMAL.test(b)];
  if (aNumber !== bNumber) return aNumber ? -1 : 1;
  if (aNumber) {
    // Up to 15 digits a double is exact; beyond that BigInt.
    if (a.length <= 15 && b.length <= 15) return Number(a) - Number(b);
    const [x, y] = [BigInt(a), BigInt(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Passes keys through, failing loudly if one arrives before its predecessor (the merge would be wrong). */
export async function* inOrder<T>(
  source: AsyncIterable<T>,
  keyOf: (item: T) => string | null,
  side: string,
): AsyncGenerator<T> {
  let previous: string | null | undefined;
  let first = true;
  for await (const item of source) {
    const key = keyOf(item);
    if (!first && compareKeys(previous!, key) > 0) {
      throw new Error(
        `Embedding check: ${side} arrived out of order (${key ?? 'NULL'} after ${previous ?? 'NULL'}), ` +
          'so the sorted comparison cannot be trusted.',
      );
    }
    [previous, first] = [key, false];
    yield item;
  }
}
