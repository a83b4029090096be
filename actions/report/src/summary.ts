import type { PingOutcome } from '../../lib/report/heartbeat.ts';
import type { IssueOutcome } from '../../lib/report/issues.ts';
import type { ScheduleHealth } from '../../lib/report/schedules.ts';
import type { StepRecord } from '../../lib/action/steps.ts';

export interface ReportOutcome {
  failed: boolean;
  steps: StepRecord[];
  issue?: IssueOutcome;
  schedules?: ScheduleHealth;
  heartbeat?: PingOutcome;
}

export function reportSummary({ failed, steps, issue, schedules, heartbeat }: ReportOutcome): string {
  const lines = [`### Backstop report: ${failed ? '❌ failed' : '✅ succeeded'}`, ''];
  for (const step of steps) lines.push(`- \`${step.action}\`: ${step.ok ? 'ok' : (step.error ?? 'failed')}`);
  if (steps.length === 0) lines.push('- no Backstop step ran in this job');
  lines.push('', issueLine(issue));
  if (heartbeat) lines.push('', heartbeatLine(heartbeat));
  if (schedules) {
    for (const problem of schedules.problems) lines.push('', `⚠️ ${problem}`);
    if (schedules.enabled.length > 0)
      lines.push(
        '',
        `Kept alive (GitHub's 60-day inactivity rule): ${schedules.enabled.map((path) => `\`${path}\``).join(', ')}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

function issueLine(issue: IssueOutcome | undefined): string {
  if (!issue) return 'Failure issue: not updated (the token may not write issues).';
  switch (issue.action) {
    case 'opened':
      return `Failure issue: opened [#${issue.number}](${issue.url}).`;
    case 'commented':
      return `Failure issue: commented on [#${issue.number}](${issue.url}) (a repeat failure).`;
    case 'closed':
      return `Failure issue: closed [#${issue.number}](${issue.url}) (recovered).`;
    case 'none':
      return 'Failure issue: none open.';
  }
}

function heartbeatLine(heartbeat: PingOutcome): string {
  switch (heartbeat.result) {
    case 'sent':
      return `Heartbeat: ${heartbeat.kind} ping sent to ${heartbeat.host}.`;
    case 'skipped':
      return `Heartbeat: no ${heartbeat.kind} ping (${heartbeat.detail}).`;
    case 'failed':
      return heartbeat.host
        ? `⚠️ Heartbeat: the ${heartbeat.kind} ping to ${heartbeat.host} failed (it ${heartbeat.detail}).`
        : `⚠️ Heartbeat: no ${heartbeat.kind} ping sent (${heartbeat.detail}).`;
  }
}
