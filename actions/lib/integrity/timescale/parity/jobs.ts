import { fail, pass, type CheckResult } from '../../check.ts';
import type { JobShape, TimescaleCatalog } from './catalog.ts';
import { bothSides, counted, paired, type Sides } from './words.ts';

/** "policy_retention on public.tick_data", or the procedure alone for a job tied to no table. */
function jobKey(job: JobShape): string {
  return job.on ? `${job.proc} on ${job.on}` : job.proc;
}

/** "every 1 day, drop_after 90 days", what a job does in a few words. */
function describeJob(job: JobShape): string {
  const settings = Object.entries(job.config).map(([key, value]) => `${key} ${setting(value)}`);
  return [`every ${job.schedule}`, ...settings, ...(job.scheduled ? [] : ['paused'])].join(', ');
}

function setting(value: unknown): string {
  return value === undefined ? 'unset' : typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The policy and user jobs of both sides, paired by procedure and the table they belong to (job ids differ between
 * any two databases): each one on both sides, with the same schedule, paused or not, and the same config.
 */
export function compareJobs(sides: Sides, catalogs: [TimescaleCatalog, TimescaleCatalog]): CheckResult {
  const name = 'timescaledb parity: jobs';
  const problems: string[] = [];
  const groups = paired([groupedByKey(catalogs[0].jobs), groupedByKey(catalogs[1].jobs)], (group) => group.key);
  for (const [key, a, b] of groups) {
    if (!a || !b) {
      const present = (a ?? b)!.jobs;
      const where = sides[a ? 1 : 0].label;
      problems.push(`${key} is missing in ${where} (${present.map(describeJob).join('; ')})`);
    } else if (a.jobs.length === 1 && b.jobs.length === 1) {
      const differences = jobDifferences(sides, a.jobs[0]!, b.jobs[0]!);
      if (differences.length > 0) problems.push(`${key}: ${differences.join(', ')}`);
    } else if (a.jobs.map(describeJob).sort().join('|') !== b.jobs.map(describeJob).sort().join('|')) {
      const jobs = (group: { jobs: JobShape[] }) =>
        `${counted(group.jobs.length, 'job')} (${group.jobs.map(describeJob).join('; ')})`;
      problems.push(`${key}: ${bothSides(sides, [jobs(a), jobs(b)])}`);
    }
  }
  const details = {
    jobs: catalogs.map((catalog) =>
      catalog.jobs.map((job) => ({ id: job.id, job: jobKey(job), does: describeJob(job) })),
    ),
  };
  if (problems.length > 0) return fail(name, problems.join('; '), details);
  const count = catalogs[0].jobs.length;
  if (count === 0) return pass(name, 'no policy or user jobs on either side', details);
  return pass(name, `${counted(count, 'job')} alike on both sides (procedure, schedule, config)`, details);
}

function groupedByKey(jobs: JobShape[]): { key: string; jobs: JobShape[] }[] {
  const groups = new Map<string, JobShape[]>();
  for (const job of jobs) groups.set(jobKey(job), [...(groups.get(jobKey(job)) ?? []), job]);
  return [...groups].map(([key, members]) => ({ key, jobs: members }));
}

function jobDifferences(sides: Sides, a: JobShape, b: JobShape): string[] {
  const differences: string[] = [];
  if (a.schedule !== b.schedule) differences.push(`schedule ${bothSides(sides, [a.schedule, b.schedule])}`);
  if (a.scheduled !== b.scheduled) differences.push(`paused in ${sides[a.scheduled ? 1 : 0].label}`);
  const keys = [...new Set([...Object.keys(a.config), ...Object.keys(b.config)])].sort();
  for (const key of keys) {
    const [x, y] = [setting(a.config[key]), setting(b.config[key])];
    if (x !== y) differences.push(`${key} ${bothSides(sides, [x, y])}`);
  }
  return differences;
}
