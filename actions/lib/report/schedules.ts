import { isPermissionDenied, type GitHubClient, type Repository } from './issues.ts';

/**
 * GitHub disables scheduled workflows after 60 days without repository activity, silently: the nightly backup just
 * stops. We warn from day WARN_AFTER_DAYS on, and (with keep-alive) enable the scheduled workflows again through the
 * API, which restarts GitHub's count, the way gautamkrishnar/keepalive-workflow does without dummy commits.
 */
export const INACTIVITY_LIMIT_DAYS = 60;
export const WARN_AFTER_DAYS = 45;

export interface ScheduleHealth {
  daysSinceActivity: number;
  /** Workflows GitHub has already disabled for inactivity (their paths). */
  disabled: string[];
  /** Workflows this run enabled again (keep-alive). */
  enabled: string[];
  /** What a person should know, when anything; empty when all is well. */
  problems: string[];
}

interface WorkflowInfo {
  id: number;
  path: string;
  state: string;
}

export async function checkSchedules(
  github: GitHubClient,
  repository: Repository,
  keepAlive: boolean,
  now: Date = new Date(),
): Promise<ScheduleHealth> {
  const { data: repo } = await github.rest.repos.get({ ...repository });
  const lastActivity = new Date(repo.pushed_at ?? repo.updated_at ?? now.toISOString());
  const daysSinceActivity = Math.floor((now.getTime() - lastActivity.getTime()) / 86_400_000);
  const workflows: WorkflowInfo[] = await github.paginate(github.rest.actions.listRepoWorkflows, {
    ...repository,
    per_page: 100,
  });
  const disabled = workflows.filter((workflow) => workflow.state === 'disabled_inactivity');
  const health: ScheduleHealth = {
    daysSinceActivity,
    disabled: disabled.map((workflow) => workflow.path),
    enabled: [],
    problems: [],
  };

  const nearLimit = daysSinceActivity >= WARN_AFTER_DAYS;
  if (keepAlive && (nearLimit || disabled.length > 0)) {
    if (await enableAll(github, repository, workflows, health)) {
      health.disabled = [];
      return health;
    }
  }
  if (disabled.length > 0) {
    health.problems.push(
      `GitHub disabled ${disabled.map((workflow) => `\`${workflow.path}\``).join(', ')} after ` +
        `${INACTIVITY_LIMIT_DAYS} days without repository activity: ` +
        'their schedules no longer run. Enable them under Actions, or set `keep-alive: true` on a report step (with ' +
        '`actions: write`).',
    );
  } else if (nearLimit) {
    health.problems.push(
      `The last push to this repository was ${daysSinceActivity} days ago; GitHub disables scheduled workflows ` +
        `after ${INACTIVITY_LIMIT_DAYS} days without activity ` +
        '(backups would stop silently). Push a commit, or set `keep-alive: true` on a report step (with `actions: ' +
        'write`).',
    );
  }
  return health;
}

/**
 * Enables every active or inactivity-disabled workflow (enabling an active one is harmless, and it is what restarts
 * the count). false, with the reason in `problems`, when the token may not (no `actions: write`).
 */
async function enableAll(
  github: GitHubClient,
  repository: Repository,
  workflows: WorkflowInfo[],
  health: ScheduleHealth,
): Promise<boolean> {
  try {
    for (const workflow of workflows.filter(
      (item) => item.state === 'active' || item.state === 'disabled_inactivity',
    )) {
      await github.rest.actions.enableWorkflow({ ...repository, workflow_id: workflow.id });
      health.enabled.push(workflow.path);
    }
    return true;
  } catch (error) {
    if (!isPermissionDenied(error)) throw error;
    health.problems.push('keep-alive could not enable the scheduled workflows: give the job `actions: write`.');
    return false;
  }
}
