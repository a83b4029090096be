import type pg from 'pg';
import { fail, pass, warn, type CheckResult, type CheckStatus } from '../check.ts';
import { viewOf, type CaggRow } from './aggregates.ts';
import type { TimescaleExpectation } from './expectation.ts';
import { key, queryRows, resolveRelation } from './relation.ts';
import { CAGG_FRESHNESS_SQL } from './sql.ts';

/** A row of CAGG_FRESHNESS_SQL. */
interface FreshnessRow {
  view_schema: string;
  view_name: string;
  job_id: number;
  scheduled: boolean;
  last_refresh: string | null;
  age: string | null;
  fresh: boolean | null;
}

interface AggregateFreshness {
  view: string;
  status: CheckStatus;
  finding: string;
  jobId?: number;
  lastRefresh?: string | null;
}

/** Each aggregate's last successful refresh against maxLag: stale or without a policy fails, never refreshed warns. */
export async function checkFreshness(
  db: pg.Client,
  expectation: TimescaleExpectation,
  aggregates: CaggRow[],
  name: string,
): Promise<CheckResult> {
  const maxLag = expectation.maxLag!;
  const targets = await freshnessTargets(db, expectation, aggregates);
  if (targets.length === 0) {
    return warn(name, `${expectation.hypertable} has no continuous aggregates to hold to a ${maxLag} lag`, { maxLag });
  }
  const rows = await queryRows<FreshnessRow>(db, CAGG_FRESHNESS_SQL, [maxLag]);
  const policiesOf = (view: string) => rows.filter((row) => `${row.view_schema}.${row.view_name}` === view);
  const verdicts = targets.map((view) => freshnessOf(view, policiesOf(view)));
  const status = worst(verdicts.map((verdict) => verdict.status));
  const details = { maxLag, aggregates: verdicts };
  if (status === 'pass') {
    return pass(name, `all ${targets.length} continuous aggregates refreshed within ${maxLag}`, details);
  }
  const problems = verdicts
    .filter((verdict) => verdict.status !== 'pass')
    .map((verdict) => `${verdict.view} ${verdict.finding}`);
  const finding = `${problems.join('; ')}; expected a successful refresh within ${maxLag}`;
  return (status === 'fail' ? fail : warn)(name, finding, details);
}

/**
 * The expected aggregates that exist (missing ones are the aggregates result's finding), else all of the
 * hypertable's.
 */
async function freshnessTargets(
  db: pg.Client,
  expectation: TimescaleExpectation,
  aggregates: CaggRow[],
): Promise<string[]> {
  const ours = aggregates.map(viewOf);
  if (expectation.aggregates === undefined) return ours;
  const targets: string[] = [];
  for (const view of expectation.aggregates) {
    const relation = await resolveRelation(db, view, 'continuous aggregate');
    if (relation && ours.includes(key(relation))) targets.push(key(relation));
  }
  return targets;
}

function freshnessOf(view: string, policies: FreshnessRow[]): AggregateFreshness {
  // Nothing refreshes an aggregate without a policy (or with its policy paused): it only grows staler.
  const [policy] = policies;
  if (!policy) return { view, status: 'fail', finding: 'has no refresh policy' };
  const job = `job ${policy.job_id}`;
  const at = { jobId: policy.job_id, lastRefresh: policy.last_refresh };
  if (policy.fresh === null) return { view, status: 'warn', finding: `was never refreshed (${job})`, ...at };
  if (!policy.fresh) {
    const finding = `was last refreshed ${policy.last_refresh}, ${policy.age} ago (${job})`;
    return { view, status: 'fail', finding, ...at };
  }
  if (!policy.scheduled) {
    return { view, status: 'fail', finding: `has its refresh policy paused (${job}, scheduled = false)`, ...at };
  }
  return { view, status: 'pass', finding: `was refreshed ${policy.last_refresh}`, ...at };
}

function worst(statuses: CheckStatus[]): CheckStatus {
  return statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';
}
