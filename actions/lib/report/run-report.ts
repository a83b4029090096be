import { inputEnvName } from '../action/env.ts';
import type { StepRecord } from '../action/steps.ts';

/** Where this run is, for links and the re-run command. */
export interface JobRun {
  workflow: string;
  runId: string;
  runUrl: string;
  /** success, failure or cancelled: the job's status as the workflow passed it. */
  status: JobStatus;
}

export const JOB_STATUSES = ['success', 'failure', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** GitHub caps an issue body at 65,536 characters; summaries are cut well before, so the rest always fits. */
const MAX_SUMMARY_CHARS = 20_000;

/** The body of a failure issue (or of the comment on a repeat failure): what failed, how to go on, the summaries. */
export function failureReport(run: JobRun, steps: StepRecord[], nextCommand: string | undefined): string {
  const failed = steps.filter((step) => !step.ok);
  const lines = [
    `**${run.workflow}** ${run.status === 'cancelled' ? 'was cancelled or timed out' : 'failed'} in [run ` +
      `${run.runId}](${run.runUrl}).`,
    '',
  ];
  lines.push('### What failed');
  if (failed.length === 0) {
    lines.push(
      run.status === 'cancelled'
        ? '- The job was cancelled (or hit its `timeout-minutes`) before its Backstop steps finished: no new backup ' +
            'or drill was recorded.'
        : '- A step outside Backstop failed (checkout, credentials, tool installation…): see the run log.',
    );
  }
  for (const step of failed) lines.push(`- \`${step.action}\`: ${step.error ?? 'failed'}`);
  lines.push('', '### Next', ...nextSteps(run, failed, nextCommand));
  const summaries = steps.filter((step) => step.summary.trim() !== '');
  if (summaries.length > 0) {
    lines.push('', '### Summaries');
    for (const step of summaries) {
      lines.push(
        '',
        `<details${step.ok ? '' : ' open'}><summary>${step.action}${step.ok ? '' : ' (failed)'}</summary>`,
        '',
        truncate(step.summary),
        '',
        '</details>',
      );
    }
  }
  return lines.join('\n');
}

export function recoveryComment(run: JobRun, steps: StepRecord[]): string {
  const actions = [...new Set(steps.map((step) => `\`${step.action}\``))].join(', ');
  return (
    `Recovered: [run ${run.runId}](${run.runUrl}) of **${run.workflow}** ` +
    `succeeded${actions ? ` (${actions})` : ''}. Closing.`
  );
}

function nextSteps(run: JobRun, failed: StepRecord[], nextCommand: string | undefined): string[] {
  const lines: string[] = [];
  if (nextCommand) lines.push(nextCommand.trim(), '');
  for (const step of failed) {
    lines.push(
      `Run \`${step.action}\` again from a shell (a clone of this repository, \`npm ci\`):`,
      '```sh',
      shellCommand(step),
      '```',
    );
  }
  lines.push(`Or re-run the failed jobs: \`gh run rerun ${run.runId} --failed\``);
  return lines;
}

/** The failed step as a CLI command: public inputs as flags, secrets as BACKSTOP_ variables the reader fills in. */
export function shellCommand(step: StepRecord): string {
  const secrets = step.secretInputs.map((name) => `${inputEnvName(name)}='…'`);
  const flags = Object.entries(step.inputs).map(([name, value]) => `--${name} ${shellQuote(value)}`);
  return [...secrets, `npx backstop-backup ${step.action}`, ...flags].join(' \\\n  ');
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@,=+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function truncate(text: string): string {
  return text.length <= MAX_SUMMARY_CHARS
    ? text
    : `${text.slice(0, MAX_SUMMARY_CHARS)}\n\n… (cut: the whole summary is on the run page)`;
}
