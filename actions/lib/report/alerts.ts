import type { StepRecord } from '../action/steps.ts';
import { shellCommand, type JobRun } from './run-report.ts';

/**
 * Alerts where the team is (Slack, a generic webhook, email), built from what the report step knows: the job's
 * result, the failed steps' one-line errors (redacted when recorded) and the issue state, which says whether this run
 * is a recovery. Pure: building bodies here, sending them in deliver.ts.
 */
export const NOTIFY_ON = ['failure', 'change', 'always'] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

/** failure: the job failed; recovery: it succeeded after a failure ("back to green"); success: any other success. */
export type AlertEvent = 'failure' | 'recovery' | 'success';

/** The generic webhook's body format; bumped only when a field changes meaning or goes away (new fields are added). */
export const WEBHOOK_VERSION = 1;

export interface Alert {
  event: AlertEvent;
  /** The backup name the job is about. */
  name: string;
  workflow: string;
  status: JobRun['status'];
  runId: string;
  runUrl: string;
  failed: { action: string; error: string }[];
  /** What to run next: the first failed step as a CLI command, else re-running the failed jobs. */
  nextCommand: string;
  /** The failure issue, when the token could write it. */
  issueUrl?: string;
  at: string;
}

/**
 * The event of this run. A success is a recovery when it closed the open failure issue: the issue is the state the
 * report already keeps per (workflow, name), the same from a workflow and from a shell (both need the repository).
 */
export function alertEvent(failed: boolean, closedAFailureIssue: boolean): AlertEvent {
  if (failed) return 'failure';
  return closedAFailureIssue ? 'recovery' : 'success';
}

/** failure: failures only; change (default): failures and recoveries; always: every run. */
export function shouldAlert(notifyOn: NotifyOn, event: AlertEvent): boolean {
  if (notifyOn === 'always') return true;
  if (event === 'failure') return true;
  return notifyOn === 'change' && event === 'recovery';
}

export function buildAlert(
  event: AlertEvent,
  name: string,
  run: JobRun,
  steps: StepRecord[],
  nextCommand: string | undefined,
  issueUrl: string | undefined,
  at: Date = new Date(),
): Alert {
  const failedSteps = steps.filter((step) => !step.ok);
  const first = failedSteps[0];
  const rerun = `gh run rerun ${run.runId} --failed`;
  return {
    event,
    name,
    workflow: run.workflow,
    status: run.status,
    runId: run.runId,
    runUrl: run.runUrl,
    failed: failedSteps.map((step) => ({ action: step.action, error: step.error ?? 'failed' })),
    nextCommand: event === 'failure' ? (nextCommand?.trim() ?? (first ? shellCommand(first) : rerun)) : '',
    ...(issueUrl ? { issueUrl } : {}),
    at: at.toISOString(),
  };
}

export function alertTitle(alert: Alert): string {
  switch (alert.event) {
    case 'failure':
      return `Backstop: ${alert.name} ${alert.status === 'cancelled' ? 'was cancelled' : 'failed'} (${alert.workflow})`;
    case 'recovery':
      return `Backstop: ${alert.name} is back to green (${alert.workflow})`;
    case 'success':
      return `Backstop: ${alert.name} succeeded (${alert.workflow})`;
  }
}

function whatFailed(alert: Alert): string[] {
  if (alert.failed.length > 0) return alert.failed.map((step) => `${step.action}: ${step.error}`);
  return alert.event === 'failure' ? ['a step outside Backstop (checkout, credentials, tools): see the run log'] : [];
}

/** Slack caps a header at 150 characters and a text block at 3000. */
const SLACK_HEADER_CHARS = 150;
const SLACK_TEXT_CHARS = 3000;

/** A Slack incoming webhook's message: Block Kit blocks, and `text` for notifications and clients without blocks. */
export function slackBody(alert: Alert): Record<string, unknown> {
  const icon = alert.event === 'failure' ? ':x:' : ':white_check_mark:';
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(alertTitle(alert), SLACK_HEADER_CHARS), emoji: true } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Backup*\n${slackEscape(alert.name)}` },
        { type: 'mrkdwn', text: `*Workflow*\n${slackEscape(alert.workflow)}` },
        { type: 'mrkdwn', text: `*Status*\n${alert.status}` },
        { type: 'mrkdwn', text: `*Run*\n<${alert.runUrl}|${slackEscape(alert.runId)}>` },
      ],
    },
  ];
  const failed = whatFailed(alert);
  if (failed.length > 0) {
    const lines = failed.map((line) => `• ${slackEscape(line)}`).join('\n');
    blocks.push(section(`*What failed*\n${lines}`));
  }
  if (alert.nextCommand) blocks.push(section(`*Next*\n\`\`\`${slackEscape(alert.nextCommand)}\`\`\``));
  const buttons = [{ type: 'button', text: { type: 'plain_text', text: 'Open the run' }, url: alert.runUrl }];
  if (alert.issueUrl)
    buttons.push({ type: 'button', text: { type: 'plain_text', text: 'Open the issue' }, url: alert.issueUrl });
  blocks.push({ type: 'actions', elements: buttons });
  return { text: `${icon} ${alertTitle(alert)}: ${alert.runUrl}`, blocks };
}

function section(text: string): Record<string, unknown> {
  return { type: 'section', text: { type: 'mrkdwn', text: cut(text, SLACK_TEXT_CHARS) } };
}

/** Slack's mrkdwn reads &, < and > as markup: escaped, so an error message cannot inject a link or a mention. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The generic webhook's JSON body, version 1 (docs/catalog-and-alerts.md describes every field). */
export function webhookBody(alert: Alert): Record<string, unknown> {
  return {
    version: WEBHOOK_VERSION,
    source: 'backstop',
    event: alert.event,
    title: alertTitle(alert),
    name: alert.name,
    workflow: alert.workflow,
    status: alert.status,
    run: { id: alert.runId, url: alert.runUrl },
    failed: alert.failed,
    nextCommand: alert.nextCommand || null,
    issueUrl: alert.issueUrl ?? null,
    sentAt: alert.at,
  };
}

/** The email: the title as subject, plain text that reads the same in any client. */
export function emailMessage(alert: Alert): { subject: string; text: string } {
  const lines = [
    alertTitle(alert),
    '',
    `Backup: ${alert.name}`,
    `Workflow: ${alert.workflow}`,
    `Status: ${alert.status}`,
  ];
  lines.push(`Run: ${alert.runUrl}`);
  if (alert.issueUrl) lines.push(`Issue: ${alert.issueUrl}`);
  const failed = whatFailed(alert);
  if (failed.length > 0) lines.push('', 'What failed:', ...failed.map((line) => `- ${line}`));
  if (alert.nextCommand) lines.push('', 'Next:', '', ...alert.nextCommand.split('\n').map((line) => `    ${line}`));
  return { subject: alertTitle(alert), text: `${lines.join('\n')}\n` };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
