/**
 * What every integrity check returns: a verdict, one line a person reads in the summary, and details for the JSON
 * report. Checks never throw for a finding; they throw only when they cannot run (a ConfigurationError naming what
 * to fix), and the runner turns that into a failed check of its own.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  /** e.g. "row counts", "content parity: public.tick_data", "embeddings: trades → trades". */
  name: string;
  status: CheckStatus;
  /** One line, e.g. "tick_data 2026-01-02 13:00–13:01 UTC: 1 row missing in database-url". */
  finding: string;
  /** Anything worth keeping in the JSON report (counts, samples of ids, ranges). */
  details?: unknown;
}

export function pass(name: string, finding: string, details?: unknown): CheckResult {
  return { name, status: 'pass', finding, details };
}

export function warn(name: string, finding: string, details?: unknown): CheckResult {
  return { name, status: 'warn', finding, details };
}

export function fail(name: string, finding: string, details?: unknown): CheckResult {
  return { name, status: 'fail', finding, details };
}
