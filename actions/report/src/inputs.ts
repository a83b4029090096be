import { ConfigurationError } from '../../lib/action/errors.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { parseHeartbeatUrl, type Heartbeat } from '../../lib/report/heartbeat.ts';
import { JOB_STATUSES, type JobStatus } from '../../lib/report/run-report.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { NOTIFY_ON, type NotifyOn } from '../../lib/report/alerts.ts';
import { parseSmtpUrl, parseWebhookUrl, type Channel } from '../../lib/report/deliver.ts';
import { ALERT_TIMEOUT_INPUTS, readTimeouts } from '../../lib/inputs/network.ts';
import type { Timeouts } from '../../lib/storage/index.ts';

export const INPUTS = {
  name: { description: 'The backup name this job is about: one issue per workflow and name.', required: true },
  status: {
    description:
      'The job status (pass job.status as an expression): success, failure or cancelled. Required unless ping is ' +
      'start.',
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
  'heartbeat-url': {
    description:
      "Ping URL of an outside dead-man's switch (Healthchecks.io, Cronitor, Better Stack), a secret: the job's " +
      'result is pinged at the end, /start with ping start.',
    secret: true,
  },
  ping: {
    description:
      'end: report the job (issue, heartbeat success or fail); start: only send the heartbeat start ping (a step ' +
      'at the start of the job).',
    default: 'end',
  },
  'heartbeat-timeout-seconds': {
    description: 'How long a heartbeat ping may take before it is given up with a warning.',
    default: '10',
  },
  'notify-on': {
    description:
      'When to send alerts: failure (every failure), change (failures and the first success after one), always.',
    default: 'change',
  },
  'slack-webhook-url': {
    description: 'Slack incoming webhook URL (a secret): alerts as a Block Kit message.',
    secret: true,
  },
  'webhook-url': { description: 'URL that gets alerts as a versioned JSON body (a secret).', secret: true },
  'smtp-url': {
    description:
      'Mail server for email alerts (a secret): smtps://user:password@host:465 or smtp://…:587. Its certificate is ' +
      "verified; trust a private CA with the step's env NODE_EXTRA_CA_CERTS (the CA's PEM file).",
    secret: 'url',
  },
  'email-to': { description: 'Email alert recipients, newline- or comma-separated (with smtp-url).' },
  'email-from': { description: 'Sender of email alerts; default the smtp-url user when it is an address.' },
  ...ALERT_TIMEOUT_INPUTS,
} as const satisfies InputSpecs;

export interface CommonInputs {
  name: string;
  heartbeat?: Heartbeat;
  /** Why heartbeat-url could not be used: a warning, because a mistyped secret must not stop backups or issues. */
  heartbeatProblem?: string;
}

/** ping: start sends the start ping and nothing else: no status, token or repository is needed yet. */
export interface StartInputs extends CommonInputs {
  ping: 'start';
}

export interface AlertInputs {
  notifyOn: NotifyOn;
  channels: Channel[];
  /** Alert inputs that cannot be used (a value that is no URL, recipients without a server): warnings. */
  problems: string[];
  timeouts: Timeouts;
}

export interface EndInputs extends CommonInputs {
  ping: 'end';
  alerts: AlertInputs;
  status: JobStatus;
  token: string;
  nextCommand?: string;
  keepAlive: boolean;
  label: string;
}

export type ReportInputs = StartInputs | EndInputs;

export function readInputs(runtime: Runtime): ReportInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const common = { name: () => inputs.string('name'), beat: () => readHeartbeat(inputs) };
  // The start ping needs nothing else: no status, token or alert is read for it.
  if (inputs.string('ping') === 'start') {
    const { beat, ...start } = inputs.fields(common);
    return { ...start, ...beat, ping: 'start' };
  }
  const { beat, ...end } = inputs.fields({
    ...common,
    ping: () => readEndPing(inputs),
    status: () => readStatus(inputs),
    token: () => readToken(runtime, inputs),
    nextCommand: () => inputs.optional('next-command'),
    keepAlive: () => inputs.boolean('keep-alive'),
    label: () => inputs.string('label'),
    alerts: () => readAlerts(inputs),
  });
  return { ...end, ...beat };
}

/**
 * Any ping but start is read as end: a mistyped one is named together with every mistake the end report has, not
 * on its own first.
 */
function readEndPing(inputs: InputReader): 'end' {
  inputs.choice('ping', ['start', 'end'] as const);
  return 'end';
}

function readStatus(inputs: InputReader): JobStatus {
  const status = inputs.string('status').toLowerCase();
  // A step passes the job's own status; in a terminal the user names the outcome being reported.
  const hint = inputs.inTerminal
    ? '--status success, failure or cancelled'
    : '${{ job.status }} in the last step of the job (success, failure or cancelled)';
  if (status === '') throw new ConfigurationError(`Input "status" is required (unless ping is start): pass ${hint}.`);
  if (!(JOB_STATUSES as readonly string[]).includes(status)) {
    throw new ConfigurationError(`Input "status" is "${status}", not a job status: pass ${hint}.`);
  }
  return status as JobStatus;
}

function readToken(runtime: Runtime, inputs: InputReader): string {
  const token = inputs.optional('github-token') ?? runtime.context.github.token ?? '';
  if (!token)
    throw new ConfigurationError(
      'Input "github-token" is empty: keep its default (the workflow token) or set GITHUB_TOKEN when running from ' +
        'a shell.',
    );
  runtime.setSecret(token);
  return token;
}

/** Like the heartbeat: an alert input that cannot be used is a warning, never a report that fails to open an issue. */
function readAlerts(inputs: InputReader): AlertInputs {
  const channels: Channel[] = [];
  const problems: string[] = [];
  const attempt = (read: () => Channel | undefined): void => {
    try {
      const channel = read();
      if (channel) channels.push(channel);
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      problems.push(error.message);
    }
  };
  for (const [name, kind] of [
    ['slack-webhook-url', 'slack'],
    ['webhook-url', 'webhook'],
  ] as const) {
    attempt(() => {
      const url = inputs.optional(name);
      return url === undefined ? undefined : parseWebhookUrl(kind, url, inputs.origin(name));
    });
  }
  attempt(() => readEmail(inputs));
  return {
    ...inputs.fields({ notifyOn: () => inputs.choice('notify-on', NOTIFY_ON), timeouts: () => readTimeouts(inputs) }),
    channels,
    problems,
  };
}

function readEmail(inputs: InputReader): Channel | undefined {
  const smtpUrl = inputs.optional('smtp-url');
  const to = inputs.list('email-to');
  if (smtpUrl === undefined && to.length === 0) return undefined;
  if (smtpUrl === undefined) {
    throw new ConfigurationError(
      'Input "email-to" is set but "smtp-url" is empty: no email alert is sent; set smtp-url (a secret), e.g. ' +
        'smtps://user:password@smtp.example.com:465.',
    );
  }
  if (to.length === 0) {
    throw new ConfigurationError(
      'Input "smtp-url" is set but "email-to" is empty: no email alert is sent; give the recipients, e.g. ' +
        'oncall@example.com.',
    );
  }
  return parseSmtpUrl(smtpUrl, to, inputs.optional('email-from'), inputs.origin('smtp-url'));
}

/** Empty (an unset secret) means no heartbeat; a value that is no URL, a problem to warn about. */
function readHeartbeat(inputs: InputReader): Pick<CommonInputs, 'heartbeat' | 'heartbeatProblem'> {
  const url = inputs.optional('heartbeat-url');
  const timeout = inputs.integer('heartbeat-timeout-seconds', { min: 1, max: 120 });
  if (!url) return {};
  try {
    return { heartbeat: parseHeartbeatUrl(url, inputs.origin('heartbeat-url'), timeout) };
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return { heartbeatProblem: error.message };
  }
}
