import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeStepRecord } from '../../actions/lib/action/steps.ts';
import { freePort } from '../../actions/lib/pg/cluster.ts';
import {
  startRecordingEndpoint,
  startRecordingSmtp,
  type RecordingEndpoint,
  type RecordingSmtp,
} from '../harness/alert-standins.ts';
import { startSilentServer, type Peer } from '../harness/dead-peers.ts';
import { startGitHubStandin, type GitHubStandin } from '../harness/github-standin.ts';
import { runAction } from '../harness/runner.ts';
import { selfSignedCertificate } from '../harness/tls.ts';

/**
 * The report's alerts, end to end through the bundled action: a Slack and a generic webhook stand-in and a real SMTP
 * server record what they receive; the assertions read those bodies.
 */
let github: GitHubStandin;
let slack: RecordingEndpoint;
let webhook: RecordingEndpoint;
let smtp: RecordingSmtp;
let jobTemp: string;
const peers: { close(): Promise<void> }[] = [];

const SMTP_USER = 'alerts@example.com';
const SMTP_PASSWORD = 'Smtp-Pass-93z';
const SLACK_PATH = '/services/T0001/B0002/slackSecretToken42';
const HOOK_PATH = '/hooks/backstop-hook-secret-77';

beforeEach(async () => {
  [github, slack, webhook, smtp] = await Promise.all([
    startGitHubStandin({ owner: 'acme', repo: 'shop', pushedAt: new Date() }),
    startRecordingEndpoint(),
    startRecordingEndpoint(),
    startRecordingSmtp(SMTP_USER, SMTP_PASSWORD),
  ]);
  jobTemp = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-alerts-'));
});

afterEach(async () => {
  await Promise.all([github, slack, webhook, smtp, ...peers.splice(0)].map((peer) => peer.close()));
  await fs.rm(jobTemp, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return {
    RUNNER_TEMP: jobTemp,
    GITHUB_API_URL: github.url,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_WORKFLOW: 'nightly-backup',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
  };
}

function alertInputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'slack-webhook-url': `${slack.url}${SLACK_PATH}`,
    'webhook-url': `${webhook.url}${HOOK_PATH}`,
    'smtp-url': `smtp://${encodeURIComponent(SMTP_USER)}:${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
    'email-to': 'oncall@example.com, dba@example.com',
    ...extra,
  };
}

function report(status: string, extra: Record<string, string> = {}, extraEnv: Record<string, string> = {}) {
  return runAction(
    'report',
    { name: 'prod-db', status, 'github-token': github.token, ...alertInputs(), ...extra },
    { env: { ...env(), ...extraEnv } },
  );
}

/** A step of this job that failed, as dump-postgres records one; `error` as given. */
async function failedStep(error: string): Promise<void> {
  await writeStepRecord(jobTemp, {
    action: 'dump-postgres',
    ok: false,
    error,
    summary: '',
    inputs: { name: 'prod-db', 'storage-url': 's3://acme-backups/prod' },
    secretInputs: ['database-url'],
    finishedAt: new Date().toISOString(),
  });
}

async function clearSteps(): Promise<void> {
  await fs.rm(path.join(jobTemp, 'backstop-steps'), { recursive: true, force: true });
}

/** The text of a mail as a reader sees it: quoted-printable soft breaks and escapes undone. */
function mailText(data: string): string {
  return data
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

interface SlackMessage {
  text: string;
  blocks: { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { url: string }[] }[];
}

function slackText(message: SlackMessage): string {
  return message.blocks
    .flatMap((block) => [block.text?.text ?? '', ...(block.fields ?? []).map((field) => field.text)])
    .join('\n');
}

describe('report alerts', () => {
  it('a failure reaches Slack (Block Kit), the webhook (version 1) and email: what, name, run link, next command', async () => {
    const dump = await runAction(
      'dump-postgres',
      {
        'database-url': `postgresql://backup:Db-Pass-61w@127.0.0.1:${await freePort()}/prod`,
        name: 'prod-db',
        'storage-url': path.join(jobTemp, 'storage'),
        'allow-unencrypted': 'true',
      },
      { env: env() },
    );
    expect(dump.code).toBe(1);
    const run = await report('failure');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).not.toContain('::warning::');
    expect(run.outputs.alerts).toBe('slack,webhook,email');

    expect(slack.received.map((request) => [request.path, request.contentType])).toEqual([
      [SLACK_PATH, 'application/json; charset=utf-8'],
    ]);
    const [message] = slack.json() as SlackMessage[];
    expect(message!.blocks.map((block) => block.type)).toEqual(['header', 'section', 'section', 'section', 'actions']);
    expect(message!.blocks[0]!.text!.text).toBe('Backstop: prod-db failed (nightly-backup)');
    const text = slackText(message!);
    expect(text).toContain('*Backup*\nprod-db');
    expect(text).toContain('• dump-postgres: Cannot connect to postgresql://backup:***@127.0.0.1:');
    expect(text).toContain("BACKSTOP_DATABASE_URL='…' \\\n  npx backstop-backup dump-postgres \\\n  --name prod-db");
    expect(message!.blocks.at(-1)!.elements!.map((button) => button.url)).toEqual([
      'https://github.com/acme/shop/actions/runs/4242',
      expect.stringMatching(/\/issues\/\d+$/),
    ]);

    const [body] = webhook.json() as Record<string, unknown>[];
    expect(body).toMatchObject({
      version: 1,
      source: 'backstop',
      event: 'failure',
      name: 'prod-db',
      workflow: 'nightly-backup',
      status: 'failure',
      run: { id: '4242', url: 'https://github.com/acme/shop/actions/runs/4242' },
      failed: [{ action: 'dump-postgres', error: expect.stringContaining('Cannot connect to') }],
      nextCommand: expect.stringContaining('npx backstop-backup dump-postgres'),
    });
    expect(Object.keys(body!).sort()).toEqual([
      'event',
      'failed',
      'issueUrl',
      'name',
      'nextCommand',
      'run',
      'sentAt',
      'source',
      'status',
      'title',
      'version',
      'workflow',
    ]);

    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail).toMatchObject({ from: SMTP_USER, to: ['oncall@example.com', 'dba@example.com'], user: SMTP_USER });
    const mailBody = mailText(mail.data);
    expect(mailBody).toContain('Subject: Backstop: prod-db failed (nightly-backup)');
    expect(mailBody).toContain('Run: https://github.com/acme/shop/actions/runs/4242');
    expect(mailBody).toContain('- dump-postgres: Cannot connect to');
    expect(mailBody).toContain('npx backstop-backup dump-postgres');
    for (const received of [JSON.stringify(slack.received), JSON.stringify(webhook.received), mail.data])
      expect(received).not.toContain('Db-Pass-61w');
  });

  it('a secret inside an error message never reaches a body', async () => {
    const slackUrl = `${slack.url}${SLACK_PATH}`;
    await failedStep(
      `upload refused: ${slackUrl} said no; AUTH ${SMTP_PASSWORD} rejected; hook ${webhook.url}${HOOK_PATH} down`,
    );
    const run = await report('failure');
    expect(run.code, run.stdout).toBe(0);
    const bodies = [...slack.received, ...webhook.received].map((request) => request.body);
    bodies.push(...smtp.mails.map((mail) => mailText(mail.data)));
    expect(bodies).toHaveLength(3);
    for (const body of bodies) {
      expect(body).toContain('upload refused: *** said no; AUTH *** rejected; hook *** down');
      for (const secret of [SLACK_PATH, 'slackSecretToken42', SMTP_PASSWORD, HOOK_PATH])
        expect(body).not.toContain(secret);
    }
  });

  it('notify-on change: the failure, then "back to green" once, then nothing; always: every success', async () => {
    await failedStep('pg_dump: error: connection to server lost');
    expect((await report('failure')).outputs.alerts).toBe('slack,webhook,email');
    await clearSteps();
    const recovered = await report('success');
    expect(recovered.outputs['issue-action']).toBe('closed');
    expect(recovered.outputs.alerts).toBe('slack,webhook,email');
    const again = await report('success');
    expect(again.outputs.alerts).toBe('');
    expect(again.stdout).toContain('Alerts: none sent for a success (notify-on: change)');
    const always = await report('success', { 'notify-on': 'always' });
    expect(always.outputs.alerts).toBe('slack,webhook,email');

    const events = (webhook.json() as { event: string; nextCommand: string | null }[]).map((body) => body.event);
    expect(events).toEqual(['failure', 'recovery', 'success']);
    const titles = (slack.json() as SlackMessage[]).map((message) => message.blocks[0]!.text!.text);
    expect(titles).toEqual([
      'Backstop: prod-db failed (nightly-backup)',
      'Backstop: prod-db is back to green (nightly-backup)',
      'Backstop: prod-db succeeded (nightly-backup)',
    ]);
    expect(smtp.mails.map((mail) => /X-Backstop-Event: (\w+)/.exec(mail.data)?.[1])).toEqual([
      'failure',
      'recovery',
      'success',
    ]);
  });

  it('notify-on failure: a recovery sends nothing', async () => {
    await failedStep('boom');
    expect((await report('failure', { 'notify-on': 'failure' })).outputs.alerts).toBe('slack,webhook,email');
    await clearSteps();
    const recovered = await report('success', { 'notify-on': 'failure' });
    expect(recovered.outputs['issue-action']).toBe('closed');
    expect(recovered.outputs.alerts).toBe('');
    expect(webhook.received).toHaveLength(1);
  });

  it('a webhook that answers 500, refuses or stalls, and an SMTP server that is down: warnings, the issue still opened', async () => {
    const failing = await startRecordingEndpoint(500);
    const silent: Peer = await startSilentServer();
    peers.push(failing, silent);
    const deadPort = await freePort();
    await failedStep('boom');
    const started = performance.now();
    const run = await report('failure', {
      'slack-webhook-url': `${failing.url}${SLACK_PATH}`,
      'webhook-url': `${silent.url}${HOOK_PATH}`,
      'smtp-url': `smtp://${encodeURIComponent(SMTP_USER)}:${SMTP_PASSWORD}@127.0.0.1:${deadPort}`,
      'connect-timeout-seconds': '2',
      'idle-timeout-seconds': '1',
    });
    expect((performance.now() - started) / 1000).toBeLessThan(15);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs['issue-action']).toBe('opened');
    expect(run.outputs.alerts).toBe('');
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning::'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^::warning::Slack alert to 127\.0\.0\.1:\d+ failed: it answered HTTP 500\. This step still succeeds/,
      ),
      expect.stringMatching(/^::warning::Webhook alert to 127\.0\.0\.1:\d+ failed: went silent for 1 s\./),
      expect.stringMatching(
        new RegExp(
          `^::warning::Email alert to 127\\.0\\.0\\.1:${deadPort} failed: the mail server did not take the message \\(connection failed`,
        ),
      ),
    ]);
    expect(failing.received).toHaveLength(1);
    // What the runner is told to mask aside, no line names a secret.
    const printed = run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    for (const secret of [SMTP_PASSWORD, 'slackSecretToken42', HOOK_PATH])
      expect(printed.join('\n')).not.toContain(secret);

    const refused = await report('failure', { 'webhook-url': `http://127.0.0.1:${deadPort}${HOOK_PATH}` });
    expect(refused.code).toBe(0);
    expect(refused.stdout).toMatch(/::warning::Webhook alert to 127\.0\.0\.1:\d+ failed: it refused the connection\./);
    expect(refused.outputs.alerts).toBe('slack,email');
  });

  it('smtps:// (TLS from the start): a certificate Node does not trust is a warning; NODE_EXTRA_CA_CERTS delivers', async () => {
    const { key, cert } = selfSignedCertificate(jobTemp);
    const secure = await startRecordingSmtp(SMTP_USER, SMTP_PASSWORD, {
      tls: { key: await fs.readFile(key), cert: await fs.readFile(cert) },
    });
    peers.push(secure);
    const smtpsUrl = `smtps://${encodeURIComponent(SMTP_USER)}:${SMTP_PASSWORD}@127.0.0.1:${secure.port}`;
    await failedStep('boom');

    // Verified by default: the self-signed certificate is refused before a password is sent.
    const untrusted = await report('failure', { 'smtp-url': smtpsUrl });
    expect(untrusted.code, untrusted.stdout).toBe(0);
    expect(untrusted.outputs['issue-action']).toBe('opened');
    expect(untrusted.outputs.alerts).toBe('slack,webhook');
    expect(untrusted.stdout.split('\n').filter((line) => line.startsWith('::warning::'))).toEqual([
      `::warning::Email alert to 127.0.0.1:${secure.port} failed: its TLS certificate is not trusted (self-signed ` +
        "certificate): for a private CA, give this step NODE_EXTRA_CA_CERTS, the path of the CA's PEM file. This " +
        'step still succeeds (the issue and the heartbeat do not depend on it); check input "smtp-url" and that this ' +
        `runner can reach 127.0.0.1:${secure.port}.`,
    ]);
    const printed = untrusted.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    expect(printed.join('\n')).not.toContain(SMTP_PASSWORD);
    expect(secure.mails).toEqual([]);

    const trusted = await report('failure', { 'smtp-url': smtpsUrl }, { NODE_EXTRA_CA_CERTS: cert });
    expect(trusted.code, trusted.stdout).toBe(0);
    expect(trusted.stdout).not.toContain('::warning::');
    expect(trusted.outputs.alerts).toBe('slack,webhook,email');
    expect(secure.mails).toHaveLength(1);
    expect(secure.mails[0]).toMatchObject({
      secure: true,
      user: SMTP_USER,
      to: ['oncall@example.com', 'dba@example.com'],
    });
    expect(mailText(secure.mails[0]!.data)).toContain('Subject: Backstop: prod-db failed (nightly-backup)');
    // The plain-SMTP stand-in of the other tests got nothing: the mail went where smtp-url said.
    expect(smtp.mails).toEqual([]);
  });

  it('an alert input that cannot be used is a warning naming it, not a failed report', async () => {
    await failedStep('boom');
    const run = await report('failure', { 'webhook-url': 'not a url', 'smtp-url': '', 'email-to': 'x@example.com' });
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('::warning::Input "webhook-url" is not an http(s) URL');
    expect(run.stdout).toContain('::warning::Input "email-to" is set but "smtp-url" is empty');
    expect(run.outputs.alerts).toBe('slack');
  });
});
