import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type ReportOutput } from './main.ts';

/** report: the one place its contract is written (action.yml and the README's tables are generated from it). */
export default defineAction<ReportOutput>({
  name: 'report',
  description:
    'The last step of a job (if: always()): a failure opens or updates one issue per workflow and backup name, a ' +
    "success closes it; pings a dead-man's switch; warns before GitHub disables scheduled workflows.",
  branding: { icon: 'alert-triangle', color: 'red' },
  inputs: documented(INPUTS, {
    name: { docs: "The backup name the job is about; with the workflow's name it keys the issue." },
    status: {
      docs:
        '`${{ job.status }}`: `success`, `failure` or `cancelled` (a cancelled or timed-out job is reported as ' +
        'a failure: no backup was made). Required unless `ping` is `start`.',
    },
    'github-token': {
      defaultLabel: 'the workflow token',
      runnerDefault: '${{ github.token }}',
      docs:
        'Needs `issues: write`. Without it the step logs a notice and succeeds: reporting never turns a good ' +
        'backup red.',
    },
    'next-command': {
      docs: 'Text shown first under "Next" in a failure issue, e.g. the rollback command of `migrate-ticks.yml`.',
    },
    'keep-alive': {
      docs:
        'When the repository has had no push for 45 days (or a workflow was already disabled for inactivity), ' +
        "enable every scheduled workflow again through the API, which restarts GitHub's 60-day count. Needs " +
        '`actions: write`.',
    },
    label: { docs: 'Label of the issues (GitHub creates it on first use).' },
    'heartbeat-url': {
      docs:
        "The ping URL of an outside dead-man's switch, from a secret (masked, never printed: messages name only " +
        'its host). At the end of the job it gets the result: the URL itself on success, `/fail` on a failure ' +
        '(Healthchecks.io, Better Stack and most others), `?state=complete` / `?state=fail` on `cronitor.link`. ' +
        "The watcher alerts when the success ping is overdue, so it also hears of runs that never start (GitHub's " +
        'minutes used up, a dropped or disabled schedule, a job that failed before checkout). A ping that is ' +
        'refused, fails or times out, or a value that is no URL, is a warning, never a failed step (a mistyped ' +
        'secret must not stop a backup). Empty: no ping.',
    },
    ping: {
      docs:
        '`end` (the last step, `if: always()`): issues and the result ping. `start`: only the start ping ' +
        '(`/start`; `?state=run` on Cronitor; Better Stack has none), sent by a step right after checkout so the ' +
        'watcher can time the run and alert on one that hangs. `status` is then not needed.',
    },
    'heartbeat-timeout-seconds': {
      docs: 'Per attempt; a refused connection or a 5xx answer is tried once more after a second.',
    },
    'notify-on': {
      docs:
        '`failure`: an alert for every failed (or cancelled) run. `change`: failures, and the first success after ' +
        'one ("back to green": the success that closes the open failure issue, so the token needs `issues: write` ' +
        'for recoveries to be told apart). `always`: every run. Applies to Slack, the webhook and email ' +
        '([docs/catalog-and-alerts.md](../../docs/catalog-and-alerts.md)).',
    },
    'slack-webhook-url': {
      docs:
        'A Slack [incoming webhook](https://api.slack.com/messaging/webhooks) from a secret. The message (Block Kit) ' +
        'says what failed (each step and its one-line error), the backup name, the workflow, a button to the run ' +
        'and the next command. Refused, 5xx or timed out: a warning, never a failed step.',
    },
    'webhook-url': {
      docs:
        'Any http(s) endpoint, from a secret: it gets a POST with a JSON body, `"version": 1` ' +
        '([the schema](../../docs/catalog-and-alerts.md#the-webhook-body-version-1)). Any 2xx is taken; anything ' +
        'else, a refusal or a timeout is a warning.',
    },
    'smtp-url': {
      docs:
        '`smtps://user:password@smtp.example.com:465` (TLS from the start) or `smtp://user:password@host:587` ' +
        '(STARTTLS when the server offers it), from a secret; sent with nodemailer. Needs `email-to`. The ' +
        "server's certificate is verified; one from a private CA is trusted with `NODE_EXTRA_CA_CERTS` in the " +
        "step's `env` ([how](../../docs/catalog-and-alerts.md#alerts-from-the-report-step)).",
    },
    'email-to': { docs: 'Recipients of the email alert, newline- or comma-separated.' },
    'email-from': {
      defaultLabel: 'the smtp-url user',
      docs: 'The sender; by default the smtp-url user when it is an address, else `backstop@<smtp host>`.',
    },
    'connect-timeout-seconds': { docs: 'For each alert: how long its server may take to accept the connection.' },
    'idle-timeout-seconds': { docs: 'For each alert: how long its server may stay silent once connected.' },
  }),
  outputs: {
    'issue-number': {
      description: 'The failure issue opened, commented on or closed (empty when none).',
      docs: 'the issue opened, commented on or closed; empty when none',
    },
    'issue-action': {
      description: 'opened, commented, closed or none.',
      docs: '`opened`, `commented`, `closed` or `none`',
    },
    'disabled-workflows': {
      description:
        'Workflow files GitHub disabled for inactivity, comma-separated (empty when none, or after keep-alive ' +
        'enabled them).',
      docs: 'workflow files GitHub disabled for inactivity, comma-separated',
    },
    heartbeat: {
      description: 'sent, skipped (the service has no such ping), failed (a warning says why) or none (no URL).',
      docs: '`sent`, `skipped` (the service has no such ping), `failed` (a warning says why) or `none` (no URL)',
    },
    alerts: {
      description:
        "The alert channels that took this run's alert, comma-separated: slack, webhook, email (empty: none).",
      docs: 'channels that took the alert, comma-separated (`slack`, `webhook`, `email`); empty when none was sent',
    },
  },
  run,
});
