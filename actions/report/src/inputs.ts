import { ConfigurationError } from '../../lib/action/errors.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { JOB_STATUSES, type JobStatus } from '../../lib/report/run-report.ts';
import type { Runtime } from '../../lib/action/runtime.ts';

export const INPUTS = {
  name: { description: 'The backup name this job is about: one issue per workflow and name.', required: true },
  status: {
    description: 'The job status (pass job.status as an expression): success, failure or cancelled.',
    required: true,
  },
  'github-token': {
    description:
      'Token that may write issues (the workflow token, with `issues: write`); default the workflow token, or ' +
      'GITHUB_TOKEN from a shell.',
    secret: true,
  },
  'next-command': {
    description: 'Extra next step shown first in a failure issue, e.g. the rollback command of a migration.',
  },
  'keep-alive': {
    description:
      'Enable the scheduled workflows again before GitHub disables them after 60 days without activity (needs ' +
      '`actions: write`).',
    default: 'false',
  },
  label: { description: 'Label of failure issues (created when missing).', default: 'backstop-failure' },
} as const satisfies InputSpecs;

export interface ReportInputs {
  name: string;
  status: JobStatus;
  token: string;
  nextCommand?: string;
  keepAlive: boolean;
  label: string;
}

export function readInputs(runtime: Runtime): ReportInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const status = inputs.string('status').toLowerCase();
  if (!(JOB_STATUSES as readonly string[]).includes(status)) {
    throw new ConfigurationError(
      `Input "status" is "${status}", not a job status: pass \${{ job.status }} (success, failure or cancelled).`,
    );
  }
  const token = inputs.optional('github-token') ?? runtime.context.github.token ?? '';
  if (!token)
    throw new ConfigurationError(
      'Input "github-token" is empty: keep its default (the workflow token) or set GITHUB_TOKEN when running from ' +
        'a shell.',
    );
  runtime.setSecret(token);
  return {
    name: inputs.string('name'),
    status: status as JobStatus,
    token,
    nextCommand: inputs.optional('next-command'),
    keepAlive: inputs.boolean('keep-alive'),
    label: inputs.string('label'),
  };
}
