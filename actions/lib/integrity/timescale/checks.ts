import type pg from 'pg';
import { fail, pass, type CheckResult } from '../check.ts';
import { aggregatesOf, checkAggregates, type CaggRow } from './aggregates.ts';
import { validateIntervals, type TimescaleExpectation } from './expectation.ts';
import { checkFreshness } from './freshness.ts';
import { checkChunkInterval, resolveHypertable } from './hypertable.ts';
import { checkJobs } from './jobs.ts';
import { checkPolicy, COLUMNSTORE, RETENTION } from './policies.ts';
import { queryRows } from './relation.ts';
import { CAGGS_SQL, TIMESCALEDB_VERSION_SQL } from './sql.ts';

/**
 * One result per aspect: extension, chunk interval (also: is it a hypertable), then only what the expectation asks
 * for — columnstore policy, retention policy, continuous aggregates, aggregate freshness (with maxLag) — and jobs.
 * Without the extension only the extension result is returned; without the hypertable, the first two.
 */
export async function checkTimescale(db: pg.Client, expectation: TimescaleExpectation): Promise<CheckResult[]> {
  await validateIntervals(db, expectation);
  const name = (aspect: string) => `timescaledb: ${expectation.hypertable} ${aspect}`;
  const version = (await db.query<{ extversion: string }>(TIMESCALEDB_VERSION_SQL)).rows[0]?.extversion;
  if (version === undefined) {
    const finding =
      'the timescaledb extension is not installed in this database; ' +
      `expected it, with hypertable ${expectation.hypertable}`;
    return [fail('timescaledb: extension', finding)];
  }
  const results = [pass('timescaledb: extension', `timescaledb ${version} is installed`, { version })];
  const hypertable = await resolveHypertable(db, expectation);
  results.push(checkChunkInterval(expectation, hypertable, name('chunk interval')));
  if (hypertable === undefined || !hypertable.isHypertable) return results;

  const { columnstoreAfter, retention, maxLag } = expectation;
  if (columnstoreAfter !== undefined) {
    results.push(await checkPolicy(db, expectation, COLUMNSTORE, columnstoreAfter, name('columnstore policy')));
  }
  if (retention !== undefined) {
    results.push(await checkPolicy(db, expectation, RETENTION, retention, name('retention policy')));
  }
  const aggregates = aggregatesOf(hypertable, await queryRows<CaggRow>(db, CAGGS_SQL));
  if (expectation.aggregates !== undefined) {
    const expected = expectation.aggregates;
    results.push(await checkAggregates(db, expected, hypertable, aggregates, name('continuous aggregates')));
  }
  if (maxLag !== undefined) {
    results.push(await checkFreshness(db, expectation, aggregates, name('aggregate freshness')));
  }
  results.push(await checkJobs(db, hypertable, aggregates, name('jobs')));
  return results;
}
