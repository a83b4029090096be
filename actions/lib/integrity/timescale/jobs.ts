import type pg from 'pg';
import { fail, pass, type CheckResult } from '../check.ts';
import { materializationOf, viewOf, type CaggRow } from './aggregates.ts';
import { key, queryRows, type Relation } from './relation.ts';
import { FAILING_JOBS_SQL, LAST_JOB_ERRORS_SQL } from './sql.ts';

/** A row of FAILING_JOBS_SQL, as far as findings go. */
interface FailingJob {
  job_id: number;
  proc_name: string;
  hypertable_schema: string | null;
  hypertable_name: string | null;
  last_run_started_at: Date | number | null;
  total_failures: string | number | null;
}

interface JobError {
  finish_time: string | null;
  err_message: string | null;
}

/**
 * Jobs of the hypertable and its aggregates (by view, or by materialization hypertable on older 2.x) whose last
 * run failed.
 */
export async function checkJobs(
  db: pg.Client,
  hypertable: Relation,
  aggregates: CaggRow[],
  name: string,
): Promise<CheckResult> {
  const ours = new Set([key(hypertable), ...aggregates.map(viewOf), ...aggregates.map(materializationOf)]);
  const tableOf = (job: FailingJob) => `${job.hypertable_schema}.${job.hypertable_name}`;
  const failing = (await queryRows<FailingJob>(db, FAILING_JOBS_SQL)).filter((job) => ours.has(tableOf(job)));
  const caggs = `${aggregates.length} continuous aggregate${aggregates.length === 1 ? '' : 's'}`;
  const scope = `${key(hypertable)}${aggregates.length > 0 ? ` and its ${caggs}` : ''}`;
  if (failing.length === 0) return pass(name, `no job of ${scope} failed its last run`);
  const errors = await lastErrors(
    db,
    failing.map((job) => job.job_id),
  );
  const described = failing.map((job) => describeFailure(job, errors.get(job.job_id)));
  const details = failing.map((job) => ({
    jobId: job.job_id,
    proc: job.proc_name,
    table: tableOf(job),
    totalFailures: Number(job.total_failures),
    lastError: errors.get(job.job_id) ?? null,
  }));
  const jobs = `${failing.length} job${failing.length === 1 ? '' : 's'}`;
  return fail(name, `${jobs} of ${scope} failing: ${described.join('; ')}`, details);
}

/** The latest recorded error per job; none when the history holds none (trimmed, or a server without job_errors). */
async function lastErrors(db: pg.Client, jobIds: number[]): Promise<Map<number, JobError>> {
  try {
    const rows = await queryRows<JobError & { job_id: number }>(db, LAST_JOB_ERRORS_SQL, [jobIds]);
    return new Map(rows.map((row) => [row.job_id, { finish_time: row.finish_time, err_message: row.err_message }]));
  } catch (error) {
    // The error text is a bonus (the failure itself is known from job_stats): a server without the view has none.
    if ((error as { code?: string }).code === '42P01') return new Map();
    throw error;
  }
}

/** Names the job and when it last failed: the recorded error's time, else (history trimmed) the failed run's start. */
function describeFailure(job: FailingJob, error: JobError | undefined): string {
  // pg turns -infinity (TimescaleDB's "not yet") into a number, not a Date.
  const startedAt = job.last_run_started_at;
  const started =
    startedAt instanceof Date && !Number.isNaN(startedAt.getTime())
      ? `${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`
      : 'at an unknown time';
  const when = error?.finish_time ?? started;
  const message = error?.err_message ? `: ${error.err_message}` : '';
  return `job ${job.job_id} (${job.proc_name} on ${job.hypertable_name}) last failed ${when}${message}`;
}
