import { ConfigurationError, errorMessage } from '../../lib/action/errors.ts';
import {
  isBadCredentials,
  isPermissionDenied,
  reportFailure,
  reportRecovery,
  type GitHubClient,
  type IssueKey,
  type IssueOutcome,
  type Repository,
} from '../../lib/report/issues.ts';
import type { RunContext } from '../../lib/action/env.ts';
import { ping, pingWarning, type PingKind, type PingOutcome } from '../../lib/report/heartbeat.ts';
import { failureReport, recoveryComment, type JobRun } from '../../lib/report/run-report.ts';
import { gitHubClient } from '../../lib/report/github-api.ts';
import { checkSchedules, type ScheduleHealth } from '../../lib/report/schedules.ts';
import { readStepRecords, type StepRecord } from '../../lib/action/steps.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { readInputs, type CommonInputs, type EndInputs } from './inputs.ts';
import { reportSummary } from './summary.ts';
import { alertEvent, buildAlert, shouldAlert } from '../../lib/report/alerts.ts';
import { deliverAlert, deliveryWarning, type ChannelKind } from '../../lib/report/deliver.ts';

const WRITE_ISSUES = 'write issues (give the job `issues: write`)';

/** The outputs this action sets (described in action.ts). */
export type ReportOutput = 'issue-number' | 'issue-action' | 'disabled-workflows' | 'heartbeat' | 'alerts';

/**
 * report: the last step of a job (`if: always()`). A failure opens the (workflow, name) issue or comments on it; a
 * success closes it; the heartbeat (if any) gets the job's result first. Then it checks that GitHub has not disabled,
 * or is about to disable, the scheduled workflows. A token that may not write issues gets a notice, and a heartbeat
 * that cannot be reached a warning, never a failure: reporting must never turn a good backup red.
 * With `ping: start` (a step at the start of the job) it only sends the heartbeat's start ping.
 */
export async function run(runtime: Runtime<ReportOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  if (inputs.ping === 'start') {
    const outcome = await sendHeartbeat(runtime, inputs, 'start');
    runtime.setOutput('heartbeat', outcome?.result ?? 'none');
    return;
  }
  const { repository, run } = readRunContext(inputs, runtime.context.github);
  // The job's own start ping left a record too: it is no Backstop work to report on (unless it failed).
  const steps = (await readStepRecords(runtime.context.tempDir)).filter(
    (step) => !(step.action === 'report' && step.ok),
  );
  // A Backstop step that failed under continue-on-error still failed its backup.
  const failed = run.status !== 'success' || steps.some((step) => !step.ok);
  // First, so that nothing below (GitHub's API down, a refused token) keeps the watcher from hearing the result.
  const heartbeat = await sendHeartbeat(runtime, inputs, failed ? 'fail' : 'success');
  const github = gitHubClient(inputs.token);
  const key: IssueKey = { workflow: run.workflow, name: inputs.name, label: inputs.label };

  // GitHub's API down is no reason to keep the alert from the team: it goes out first, then the error stands.
  let issueError: unknown;
  const issue = await permitted(runtime, WRITE_ISSUES, () =>
    failed
      ? reportFailure(github, repository, key, failureReport(run, steps, inputs.nextCommand))
      : reportRecovery(github, repository, key, recoveryComment(run, steps)),
  ).catch((error: unknown) => {
    issueError = error;
    return undefined;
  });
  const alerts = await sendAlerts(runtime, inputs, run, steps, failed, issue);
  if (issueError !== undefined) throw issueError;
  const schedules = await permitted(runtime, 'list workflows (give the job `actions: read`)', () =>
    checkSchedules(github, repository, inputs.keepAlive),
  );
  if (schedules) await reportSchedules(runtime, github, repository, inputs, schedules);

  runtime.setOutput('issue-number', issue?.number ?? '');
  runtime.setOutput('issue-action', issue?.action ?? 'none');
  runtime.setOutput('disabled-workflows', schedules?.disabled.join(',') ?? '');
  runtime.setOutput('heartbeat', heartbeat?.result ?? 'none');
  runtime.setOutput('alerts', alerts.join(','));
  await runtime.writeSummary(reportSummary({ failed, steps, issue, schedules, heartbeat }));
  logOutcome(runtime, failed, steps, issue);
}

/**
 * A ping, logged by host only. A ping that does not arrive, or a heartbeat-url that is no URL, is a warning. Undefined
 * without a heartbeat-url.
 */
async function sendHeartbeat(
  runtime: Runtime,
  { heartbeat, heartbeatProblem }: CommonInputs,
  kind: PingKind,
): Promise<PingOutcome | undefined> {
  if (heartbeatProblem) {
    runtime.warning(`${heartbeatProblem} No ${kind} ping was sent; this step goes on.`);
    return { kind, host: '', result: 'failed', detail: 'heartbeat-url is not an http(s) URL' };
  }
  if (!heartbeat) return undefined;
  const outcome = await ping(heartbeat, kind);
  if (outcome.result === 'failed') runtime.warning(pingWarning(outcome, heartbeat.origin));
  else if (outcome.result === 'skipped') runtime.info(`Heartbeat: no ${kind} ping sent (${outcome.detail})`);
  else runtime.info(`Heartbeat: ${kind} ping sent to ${outcome.host}`);
  return outcome;
}

/**
 * Slack, webhook and email, when notify-on asks for this run's event. A recovery is a success that closed the open
 * failure issue. Each channel that cannot be reached is a warning; returns the channels that took the alert.
 */
async function sendAlerts(
  runtime: Runtime,
  inputs: EndInputs,
  run: JobRun,
  steps: StepRecord[],
  failed: boolean,
  issue: IssueOutcome | undefined,
): Promise<ChannelKind[]> {
  const { alerts } = inputs;
  for (const problem of alerts.problems) runtime.warning(`${problem} This step goes on.`);
  if (alerts.channels.length === 0) return [];
  const event = alertEvent(failed, issue?.action === 'closed');
  if (!shouldAlert(alerts.notifyOn, event)) {
    runtime.info(`Alerts: none sent for a ${event} (notify-on: ${alerts.notifyOn})`);
    return [];
  }
  const alert = buildAlert(event, inputs.name, run, steps, inputs.nextCommand, issue?.url);
  const outcomes = await deliverAlert(alert, alerts.channels, alerts.timeouts, (text) => runtime.redact(text));
  for (const outcome of outcomes) {
    if (outcome.ok) runtime.info(`Alerts: ${event} sent by ${outcome.kind} to ${outcome.host}`);
    else runtime.warning(deliveryWarning(outcome));
  }
  return outcomes.filter((outcome) => outcome.ok).map((outcome) => outcome.kind);
}

function readRunContext(inputs: EndInputs, github: RunContext['github']): { repository: Repository; run: JobRun } {
  const [owner, repo, ...rest] = (github.repository ?? '').split('/');
  if (!github.repository) {
    throw new ConfigurationError(
      'GITHUB_REPOSITORY is not set (owner/repo): report runs in a GitHub workflow, or set it when running from ' +
        'a shell.',
    );
  }
  if (!owner || !repo || rest.length > 0) {
    throw new ConfigurationError(
      `GITHUB_REPOSITORY is "${github.repository}", not owner/repo: set it to the repository the issues belong in, ` +
        `e.g. acme/platform.`,
    );
  }
  const runId = github.runId ?? 'local';
  return {
    repository: { owner, repo },
    run: {
      workflow: github.workflow ?? 'backstop',
      runId,
      runUrl: `${github.serverUrl}/${owner}/${repo}/actions/runs/${runId}`,
      status: inputs.status,
    },
  };
}

/** Runs a GitHub call that the job's permissions may forbid: a notice and undefined then; any other error stands. */
async function permitted<T>(runtime: Runtime, what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isBadCredentials(error)) {
      throw new ConfigurationError(
        'Input "github-token" was refused by GitHub (401 Bad credentials): keep the default (the workflow token) or ' +
          'pass a valid token for this repository.',
      );
    }
    if (!isPermissionDenied(error)) throw error;
    runtime.notice(`The workflow token may not ${what}: ${errorMessage(error)}`);
    return undefined;
  }
}

const SCHEDULES_KEY = {
  workflow: 'scheduled workflows',
  name: 'repository',
  title: 'Backstop: scheduled backups are stopping (GitHub inactivity)',
};

/** Schedule trouble gets a warning and its own issue (a green run is easy to overlook); it closes once all is well. */
async function reportSchedules(
  runtime: Runtime,
  github: GitHubClient,
  repository: Repository,
  inputs: EndInputs,
  health: ScheduleHealth,
): Promise<void> {
  for (const problem of health.problems) runtime.warning(problem);
  if (health.enabled.length > 0)
    runtime.info(`Kept ${health.enabled.length} workflow(s) alive: ${health.enabled.join(', ')}`);
  const key: IssueKey = { ...SCHEDULES_KEY, label: inputs.label };
  await permitted(
    runtime,
    WRITE_ISSUES,
    (): Promise<IssueOutcome> =>
      health.problems.length > 0
        ? reportFailure(github, repository, key, health.problems.join('\n\n'))
        : reportRecovery(github, repository, key, 'Scheduled workflows are active again. Closing.'),
  );
}

function logOutcome(runtime: Runtime, failed: boolean, steps: StepRecord[], issue: IssueOutcome | undefined): void {
  const verdict = failed ? 'failed' : 'succeeded';
  const where = issue?.number ? `: issue #${issue.number} ${issue.action}` : '';
  runtime.info(`The job ${verdict} (${steps.length} Backstop step(s) recorded)${where}`);
}
