import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGitHubStandin, type GitHubStandin } from '../harness/github-standin.ts';
import { runAction } from '../harness/runner.ts';

// One "job": the steps share RUNNER_TEMP, as the steps of one GitHub job do; the report step reads what they left.
let standin: GitHubStandin;
let jobTemp: string;
let storage: string;
const password = 'Hunter2-super-secret';
const unreachable = `postgresql://backup:${password}@127.0.0.1:1/prod`;

beforeEach(async () => {
  standin = await startGitHubStandin({ owner: 'acme', repo: 'shop', pushedAt: new Date() });
  jobTemp = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-job-'));
  storage = path.join(jobTemp, 'storage');
});

afterEach(async () => {
  await standin.close();
  await fs.rm(jobTemp, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    RUNNER_TEMP: jobTemp,
    GITHUB_API_URL: standin.url,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_WORKFLOW: 'nightly-backup',
    GITHUB_RUN_ID: '4242',
    GITHUB_SERVER_URL: 'https://github.com',
    ...extra,
  };
}

async function failingDump() {
  const dump = await runAction(
    'dump-postgres',
    { 'database-url': unreachable, name: 'prod-db', 'storage-url': storage, 'allow-unencrypted': 'true' },
    { env: env() },
  );
  expect(dump.code).toBe(1);
  return dump;
}

async function succeedingPrune() {
  // prune refuses a location that does not exist: the job's storage folder is there, if empty.
  await fs.mkdir(storage, { recursive: true });
  const prune = await runAction(
    'prune-backups',
    { 'storage-url': storage, name: 'prod-db', 'keep-last': '3' },
    { env: env() },
  );
  expect(prune.code, prune.stdout).toBe(0);
}

function report(status: string, extra: Record<string, string> = {}, token = standin.token) {
  return runAction('report', { name: 'prod-db', status, 'github-token': token, ...extra }, { env: env() });
}

function everything(): string {
  return JSON.stringify(standin.issues) + JSON.stringify(standin.requests);
}

describe('report', () => {
  it('opens one issue on a failure, comments on a repeat, and closes it on the next success', async () => {
    await failingDump();
    const first = await report('failure');
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs['issue-action']).toBe('opened');
    const issue = standin.issue(Number(first.outputs['issue-number']))!;
    expect(issue.title).toBe('Backstop: nightly-backup is failing for prod-db');
    expect(issue.labels).toEqual(['backstop-failure']);
    expect(issue.body).toContain('<!-- backstop-report {"workflow":"nightly-backup","name":"prod-db"} -->');
    expect(issue.body).toContain('- `dump-postgres`: ');
    expect(issue.body).toContain("BACKSTOP_DATABASE_URL='…' \\\n  npx backstop-backup dump-postgres");
    expect(issue.body).toContain('gh run rerun 4242 --failed');
    expect(issue.body).toContain('https://github.com/acme/shop/actions/runs/4242');
    expect(first.summary).toContain(`opened [#${issue.number}]`);

    // The next night fails again: same issue, one comment, no second issue.
    await fs.rm(path.join(jobTemp, 'backstop-steps'), { recursive: true });
    await failingDump();
    const repeat = await report('failure');
    expect(repeat.outputs['issue-action']).toBe('commented');
    expect(repeat.outputs['issue-number']).toBe(String(issue.number));
    expect(standin.issues.filter((item) => item.state === 'open')).toHaveLength(1);
    expect(issue.comments).toHaveLength(1);
    expect(issue.comments[0]!.body).toContain('- `dump-postgres`: ');

    // Then a night that works closes it, saying which run recovered.
    await fs.rm(path.join(jobTemp, 'backstop-steps'), { recursive: true });
    await succeedingPrune();
    const recovered = await report('success');
    expect(recovered.outputs['issue-action']).toBe('closed');
    expect(issue.state).toBe('closed');
    expect(issue.stateReason).toBe('completed');
    expect(issue.comments.at(-1)!.body).toContain('Recovered: [run 4242]');
    expect(issue.comments.at(-1)!.body).toContain('`prune-backups`');

    // And a success with nothing open touches no issue.
    const quiet = await report('success');
    expect(quiet.outputs['issue-action']).toBe('none');
    expect(everything()).not.toContain(password);
  });

  it('keeps one issue per workflow and backup name, and ignores pull requests and other issues', async () => {
    standin.seedIssue({ title: 'unrelated', body: 'hello', labels: ['backstop-failure'] });
    standin.seedIssue({
      title: 'a PR',
      body: '<!-- backstop-report {"workflow":"nightly-backup","name":"prod-db"} -->',
      labels: ['backstop-failure'],
      pullRequest: true,
    });
    await failingDump();
    const prod = await report('failure');
    const other = await runAction(
      'report',
      { name: 'analytics-db', status: 'failure', 'github-token': standin.token },
      { env: env() },
    );
    expect(prod.outputs['issue-action']).toBe('opened');
    expect(other.outputs['issue-action']).toBe('opened');
    expect(other.outputs['issue-number']).not.toBe(prod.outputs['issue-number']);
  });

  it('reports a step outside Backstop, a cancelled job, and a Backstop failure under continue-on-error', async () => {
    const outside = await report('failure');
    expect(standin.issue(Number(outside.outputs['issue-number']))!.body).toContain('A step outside Backstop failed');
    await standin.close();
    standin = await startGitHubStandin({ owner: 'acme', repo: 'shop', pushedAt: new Date() });
    const cancelled = await report('cancelled');
    expect(standin.issue(Number(cancelled.outputs['issue-number']))!.body).toContain('was cancelled or timed out');
    await standin.close();
    standin = await startGitHubStandin({ owner: 'acme', repo: 'shop', pushedAt: new Date() });
    await failingDump();
    const continued = await report('success');
    expect(continued.outputs['issue-action']).toBe('opened');
  });

  it('gives a notice, not a failure, when the token may not write issues', async () => {
    standin.permissions.issues = 'read';
    await failingDump();
    const result = await report('failure');
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['issue-action']).toBe('none');
    expect(result.stdout).toMatch(
      /::notice::The workflow token may not write issues \(give the job `issues: write`\): Resource not accessible by integration/,
    );
    expect(standin.issues).toHaveLength(0);
  });

  it('fails with one line on a wrong token or a bad status, and writes nothing', async () => {
    const wrong = await report('failure', {}, 'ghs_wrongwrongwrong');
    expect(wrong.code).toBe(1);
    expect(wrong.errors).toHaveLength(1);
    expect(wrong.errors[0]).toContain('Input "github-token" was refused by GitHub (401 Bad credentials)');
    // Masked (the runner's add-mask command) and never printed otherwise.
    expect(wrong.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain('ghs_wrongwrongwrong');
    const bad = await report('red');
    expect(bad.code).toBe(1);
    expect(bad.errors[0]).toContain('Input "status" is "red"');
    expect(standin.issues).toHaveLength(0);
  });

  it('every bad input at once, an error line each, and nothing sent to GitHub', async () => {
    const run = await report('red', { 'keep-alive': 'perhaps', 'notify-on': 'sometimes' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(/^::error::Input "status" is "red", not a job status/),
      '::error::Input "keep-alive" is "perhaps", not a boolean: set it to true or false.',
      '::error::Input "notify-on" is "sometimes": use one of failure, change, always.',
    ]);
    expect(standin.requests).toEqual([]);
    expect(standin.issues).toHaveLength(0);
  });
});

describe('scheduled workflows and the 60-day rule', () => {
  const workflows = [
    { name: 'nightly-backup', path: '.github/workflows/nightly-backup.yml' },
    { name: 'restore-drill', path: '.github/workflows/restore-drill.yml', state: 'disabled_inactivity' as const },
  ];

  it('warns and opens the schedules issue when GitHub disabled a workflow, and closes it once enabled again', async () => {
    for (const workflow of workflows) standin.seedWorkflow(workflow);
    const result = await report('success');
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs['disabled-workflows']).toBe('.github/workflows/restore-drill.yml');
    expect(result.stdout).toMatch(/::warning::GitHub disabled `\.github\/workflows\/restore-drill\.yml` after 60 days/);
    const issue = standin.issues.find((item) => item.title.includes('scheduled backups are stopping'))!;
    expect(issue.state).toBe('open');

    standin.workflows.find((workflow) => workflow.name === 'restore-drill')!.state = 'active';
    const fine = await report('success');
    expect(fine.outputs['disabled-workflows']).toBe('');
    expect(issue.state).toBe('closed');
  });

  it('warns from day 45 without a push, and keep-alive enables every scheduled workflow instead', async () => {
    for (const workflow of workflows) standin.seedWorkflow(workflow);
    standin.repo.pushedAt = new Date(Date.now() - 50 * 86_400_000).toISOString();
    standin.workflows[1]!.state = 'active';
    const warned = await report('success');
    expect(warned.stdout).toMatch(/::warning::The last push to this repository was 50 days ago/);

    const kept = await report('success', { 'keep-alive': 'true' });
    expect(kept.code, kept.stdout).toBe(0);
    const enables = standin.requests.filter((request) => request.method === 'PUT' && /\/enable$/.test(request.path));
    expect(enables).toHaveLength(2);
    expect(kept.summary).toContain('Kept alive');
    expect(standin.issues.find((item) => item.title.includes('scheduled backups'))!.state).toBe('closed');
  });

  it('gives a notice when the token may not read or enable workflows', async () => {
    standin.seedWorkflow(workflows[1]!);
    standin.permissions.actions = 'none';
    const result = await report('success', { 'keep-alive': 'true' });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('::notice::The workflow token may not list workflows');

    // May read but not write: keep-alive says what is missing, and the disabled workflow is still reported.
    standin.permissions.actions = 'read';
    const readOnly = await report('success', { 'keep-alive': 'true' });
    expect(readOnly.code, readOnly.stdout).toBe(0);
    expect(readOnly.stdout).toContain(
      '::warning::keep-alive could not enable the scheduled workflows: give the job `actions: write`.',
    );
    expect(readOnly.outputs['disabled-workflows']).toBe('.github/workflows/restore-drill.yml');
    expect(standin.issues.find((item) => item.title.includes('scheduled backups'))!.state).toBe('open');
  });
});
