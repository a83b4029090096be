import type pg from 'pg';
import { fail, pass, type CheckResult } from '../check.ts';
import type { TimescaleExpectation } from './expectation.ts';
import { key, queryRows, resolveRelation, type Relation } from './relation.ts';
import { HYPERTABLE_INTERVAL_SQL } from './sql.ts';

export interface Hypertable extends Relation {
  isHypertable: boolean;
  /** The chunk interval as text ("1 day"); null for an integer time column. */
  interval: string | null;
  /** Whether it equals the expected chunk interval (null when none is expected or the column is an integer). */
  matches: boolean | null;
}

/** The table (undefined when it does not exist) and, when it is a hypertable, its chunk interval. */
export async function resolveHypertable(
  db: pg.Client,
  expectation: TimescaleExpectation,
): Promise<Hypertable | undefined> {
  const table = await resolveRelation(db, expectation.hypertable, 'hypertable');
  if (!table) return undefined;
  const [row] = await queryRows<{ interval: string | null; matches: boolean | null }>(
    db,
    `
    SELECT h.chunk_interval::text AS interval, h.chunk_interval = $2::interval AS matches
    FROM (${HYPERTABLE_INTERVAL_SQL}) h`,
    [expectation.hypertable, expectation.chunkInterval ?? null],
  );
  return { ...table, isHypertable: row !== undefined, interval: row?.interval ?? null, matches: row?.matches ?? null };
}

export function checkChunkInterval(
  expectation: TimescaleExpectation,
  hypertable: Hypertable | undefined,
  name: string,
): CheckResult {
  const expected = expectation.chunkInterval;
  const wanted = expected === undefined ? 'expected a hypertable' : `expected a hypertable with ${expected} chunks`;
  if (!hypertable) return fail(name, `${expectation.hypertable} does not exist; ${wanted}`);
  const table = key(hypertable);
  const details = { table, chunkInterval: hypertable.interval, expected: expected ?? null };
  if (!hypertable.isHypertable) return fail(name, `${table} is a plain table, not a hypertable; ${wanted}`, details);
  if (expected === undefined) {
    const chunks = hypertable.interval === null ? 'on an integer column' : `with ${hypertable.interval} chunks`;
    return pass(name, `${table} is a hypertable ${chunks}`, details);
  }
  if (hypertable.interval === null) {
    return fail(
      name,
      `${table} is partitioned on an integer column, so its chunk interval is not an interval; expected ${expected}`,
      details,
    );
  }
  if (!hypertable.matches) {
    return fail(name, `${table} has ${hypertable.interval} chunks; expected ${expected}`, details);
  }
  return pass(name, `${table} has ${hypertable.interval} chunks, as expected`, details);
}
