import type pg from 'pg';
import { fail, pass, type CheckResult } from '../check.ts';
import type { TimescaleExpectation } from './expectation.ts';
import { queryRows } from './relation.ts';
import { POLICY_SETTING_SQL } from './sql.ts';

export interface PolicyKind {
  proc: string;
  setting: string;
  /** What the policy does, for findings: "moves chunks to the columnstore after". */
  does: string;
  label: string;
}

export const COLUMNSTORE: PolicyKind = {
  proc: 'policy_compression',
  setting: 'compress_after',
  does: 'moves chunks to the columnstore after',
  label: 'columnstore policy',
};
export const RETENTION: PolicyKind = {
  proc: 'policy_retention',
  setting: 'drop_after',
  does: 'drops chunks older than',
  label: 'retention policy',
};

interface PolicySetting {
  job_id: number;
  scheduled: boolean;
  setting: string | null;
  config: unknown;
  matches: boolean | null;
}

export async function checkPolicy(
  db: pg.Client,
  expectation: TimescaleExpectation,
  kind: PolicyKind,
  expected: string,
  name: string,
): Promise<CheckResult> {
  const [policy] = await queryRows<PolicySetting>(db, POLICY_SETTING_SQL, [
    expectation.hypertable,
    kind.proc,
    kind.setting,
    expected,
  ]);
  const table = expectation.hypertable;
  if (!policy) {
    return fail(name, `${table} has no ${kind.label}; expected one that ${kind.does} ${expected}`, { expected });
  }
  const details = { jobId: policy.job_id, scheduled: policy.scheduled, config: policy.config, expected };
  const job = `${table}'s ${kind.label} (job ${policy.job_id})`;
  // Another setting (compress_created_before, an integer) is named by its config, which says what it does.
  const actual = policy.setting ?? JSON.stringify(policy.config);
  if (!policy.matches) return fail(name, `${job} ${kind.does} ${actual}; expected ${expected}`, details);
  // A paused policy is present but does nothing: the data it should move or drop piles up.
  if (!policy.scheduled) {
    return fail(name, `${job} is paused (scheduled = false); expected it running, ${expected}`, details);
  }
  return pass(name, `${job} ${kind.does} ${actual}`, details);
}
