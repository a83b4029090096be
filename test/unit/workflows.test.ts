import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../harness/runner.ts';

/**
 * The workflow contract: every workflow in .github/workflows is parsed and checked against the action.yml files of
 * the local actions it uses and against the security rules of docs/workflows.md. checkWorkflow() returns problems
 * (it asserts nothing), so the last tests can prove that it catches each kind of violation.
 */

const RULES = {
  'local-inputs': 'uses: ./actions/<name> passes only declared inputs and every required one',
  'step-outputs': 'every steps.<id>.outputs.<x> is set by an earlier step of the job',
  'needs-outputs': 'every needs.<job> is a needed job and every needs.<job>.outputs.<x> is declared',
  'no-pull-request-target': 'never pull_request_target',
  pinned: 'third-party actions pinned to a commit SHA with a # vX comment',
  permissions: 'top-level permissions grant no write; jobs write only issues, id-token and actions',
  'issues-write': 'issues: write exactly in the jobs with a report step, which runs last with the job status',
  'report-steps': 'every job that backs up, drills, migrates or validates ends with a report step',
  'keep-alive': 'actions: write only where the report keeps schedules alive',
  'id-token': 'id-token: write exactly where AWS credentials come from OIDC',
  'no-expressions-in-run': 'no secrets, inputs, vars or event payload interpolated into run:',
  'age-identity': 'BACKSTOP_AGE_IDENTITY only in jobs that use restore-drill',
  timeout: 'every job has timeout-minutes',
  concurrency: 'scheduled workflows have a concurrency group that never cancels a run in progress',
} as const;

type Rule = keyof typeof RULES;

interface Problem {
  rule: Rule;
  message: string;
}

interface ActionMeta {
  inputs: Record<string, { required?: boolean; default?: unknown }>;
  outputs: Record<string, unknown>;
}

/** Reads a local action's metadata; undefined when its action.yml does not exist. */
type ActionLoader = (name: string) => ActionMeta | undefined;

type Dict = Record<string, unknown>;

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Dict;
}

interface Job {
  needs?: string | string[];
  permissions?: string | Dict;
  outputs?: Dict;
  steps?: Step[];
  'timeout-minutes'?: unknown;
  uses?: string;
}

const isDict = (value: unknown): value is Dict => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every string in a value (keys excluded), depth first. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (isDict(value)) return Object.values(value).flatMap(strings);
  return [];
}

const LOCAL_ACTION = /^\.\/actions\/([a-z0-9-]+)\/?$/;
const PINNED = /^[^@\s]+@[0-9a-f]{40}$/;
const AWS_CREDENTIALS = 'aws-actions/configure-aws-credentials@';
/** Actions that back up, drill, migrate or validate: their jobs must end with a report. */
const REPORTED_ACTIONS = new Set([
  'dump-postgres',
  'snapshot-qdrant',
  'restore-drill',
  'migrate-ticks',
  'validate-integrity',
  'prune-backups',
]);
/** Write scopes a Backstop job may need: issues (report), id-token (AWS OIDC), actions (keep-alive). */
const ALLOWED_WRITES = new Set(['issues', 'id-token', 'actions']);
/** An expression that reads an untrusted or secret value; it must reach a script through env:, never inline. */
const EXPRESSION_IN_RUN = /\$\{\{[^}]*?(\bsecrets\b|\binputs\.|\bvars\.|\bgithub\.event\.|\bgithub\.head_ref\b)/;

function triggers(on: unknown): string[] {
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.filter((value): value is string => typeof value === 'string');
  if (isDict(on)) return Object.keys(on);
  return [];
}

/** The scopes a permissions value grants with write; `write-all` counts as every scope. */
function writes(permissions: unknown): string[] {
  if (permissions === 'write-all') return ['write-all'];
  if (!isDict(permissions)) return [];
  return Object.entries(permissions)
    .filter(([, level]) => level === 'write')
    .map(([scope]) => scope);
}

function localAction(step: Step): string | undefined {
  return typeof step.uses === 'string' ? LOCAL_ACTION.exec(step.uses)?.[1] : undefined;
}

function checkWorkflow(text: string, loadAction: ActionLoader): Problem[] {
  const problems: Problem[] = [];
  const add = (rule: Rule, message: string): void => void problems.push({ rule, message });
  const workflow: unknown = parse(text);
  if (!isDict(workflow) || !isDict(workflow.jobs)) return [{ rule: 'timeout', message: 'not a workflow: no jobs' }];
  const jobs = workflow.jobs as Record<string, Job>;
  const on = triggers(workflow.on);

  if (on.includes('pull_request_target'))
    add('no-pull-request-target', 'the workflow runs on pull_request_target: use pull_request');

  if (workflow.permissions === undefined)
    add('permissions', 'no top-level permissions: add permissions: {} (or contents: read)');
  for (const scope of writes(workflow.permissions))
    add('permissions', `top-level permissions grant ${scope}: grant writes per job`);

  if (on.includes('schedule')) {
    const concurrency = workflow.concurrency;
    const group = typeof concurrency === 'string' ? concurrency : isDict(concurrency) ? concurrency.group : undefined;
    if (typeof group !== 'string' || group === '')
      add('concurrency', 'a scheduled workflow without a concurrency group: two runs could overlap');
    if (isDict(concurrency) && concurrency['cancel-in-progress'] === true)
      add('concurrency', 'cancel-in-progress: true would cancel a backup in progress');
  }

  // Outside the jobs (workflow env, for one) the identity would reach every job.
  if (JSON.stringify({ ...workflow, jobs: undefined }).includes('BACKSTOP_AGE_IDENTITY')) {
    add('age-identity', 'BACKSTOP_AGE_IDENTITY outside a job: it would reach every job');
  }

  // Pins are checked on the text too: the "# vX" comment is not part of the parsed document.
  const pinComments = new Map<string, boolean>();
  for (const match of text.matchAll(/uses:\s*['"]?([^\s'"#]+)['"]?[ \t]*(#[^\n]*)?/g)) {
    const uses = match[1] ?? '';
    pinComments.set(uses, (pinComments.get(uses) ?? false) || /#\s*v\d/.test(match[2] ?? ''));
  }

  for (const [jobId, job] of Object.entries(jobs)) {
    const at = `job ${jobId}`;
    const steps = Array.isArray(job.steps) ? job.steps : [];
    const needs = typeof job.needs === 'string' ? [job.needs] : Array.isArray(job.needs) ? job.needs : [];
    const jobWrites = writes(job.permissions);
    const inheritedWrites = job.permissions === undefined ? writes(workflow.permissions) : [];
    const grants = (scope: string): boolean =>
      jobWrites.includes(scope) || jobWrites.includes('write-all') || inheritedWrites.includes(scope);
    const reportSteps = steps.filter((step) => localAction(step) === 'report');
    const locals = steps.map(localAction);

    if (job['timeout-minutes'] === undefined && job.uses === undefined) add('timeout', `${at} has no timeout-minutes`);

    // Third-party actions and reusable workflows: pinned to a full commit SHA, the version in a comment.
    for (const uses of [job.uses, ...steps.map((step) => step.uses)]) {
      if (typeof uses !== 'string' || uses.startsWith('./') || uses.startsWith('docker://')) continue;
      if (!PINNED.test(uses)) add('pinned', `${at}: ${uses} is not pinned to a 40-hex commit SHA`);
      else if (!pinComments.get(uses)) add('pinned', `${at}: ${uses} has no "# vX" comment naming its version`);
    }

    // Local actions: inputs against their action.yml.
    steps.forEach((step, index) => {
      const name = locals[index];
      if (name === undefined) return;
      const meta = loadAction(name);
      if (!meta) {
        add('local-inputs', `${at}: actions/${name}/action.yml missing`);
        return;
      }
      const given = isDict(step.with) ? Object.keys(step.with) : [];
      for (const input of given)
        if (!(input in meta.inputs)) add('local-inputs', `${at}: ./actions/${name} has no input "${input}"`);
      for (const [input, spec] of Object.entries(meta.inputs)) {
        if (spec?.required === true && spec.default === undefined && !given.includes(input)) {
          add('local-inputs', `${at}: ./actions/${name} needs input "${input}"`);
        }
      }
    });

    // steps.<id>.outputs.<x>: set by an earlier step (declared in its action.yml, or written by its script).
    const stepRefs = (value: unknown, before: number, where: string): void => {
      for (const match of strings(value)
        .join('\n')
        .matchAll(/\bsteps\.([A-Za-z_][\w-]*)\.outputs\.([A-Za-z_][\w-]*)/g)) {
        const [, id = '', output = ''] = match;
        const index = steps.findIndex((step) => step.id === id);
        const source = steps[index];
        if (!source) {
          add('step-outputs', `${at}${where}: steps.${id} is no step of this job`);
          continue;
        }
        if (index >= before)
          add('step-outputs', `${at}${where}: steps.${id}.outputs.${output} is read before step ${id} runs`);
        const name = locals[index];
        if (name !== undefined) {
          const meta = loadAction(name);
          if (meta && !(output in meta.outputs))
            add('step-outputs', `${at}${where}: ./actions/${name} (step ${id}) has no output "${output}"`);
        } else if (typeof source.run === 'string') {
          if (!source.run.includes('GITHUB_OUTPUT') || !new RegExp(`\\b${output}=`).test(source.run)) {
            add('step-outputs', `${at}${where}: step ${id} never writes ${output}= to $GITHUB_OUTPUT`);
          }
        } // A third-party action's outputs are its own business.
      }
    };
    for (const [index, step] of steps.entries()) stepRefs(step, index, ` step ${step.id ?? step.name ?? index + 1}`);
    stepRefs({ ...job, steps: undefined }, steps.length, '');

    // needs.<job>: a job this one needs, and only its declared outputs.
    for (const needed of needs)
      if (!(needed in jobs)) add('needs-outputs', `${at} needs ${needed}, which is no job of this workflow`);
    for (const match of strings(job)
      .join('\n')
      .matchAll(/\bneeds\.([A-Za-z_][\w-]*)(?:\.outputs\.([A-Za-z_][\w-]*))?/g)) {
      const [, needed = '', output] = match;
      if (!needs.includes(needed)) {
        add('needs-outputs', `${at} reads needs.${needed} but does not need that job`);
        continue;
      }
      const outputs = jobs[needed]?.outputs;
      if (output !== undefined && !(isDict(outputs) && output in outputs))
        add('needs-outputs', `${at}: job ${needed} declares no output "${output}"`);
    }

    // Permissions: least privilege.
    for (const scope of jobWrites) if (!ALLOWED_WRITES.has(scope)) add('permissions', `${at} grants ${scope} write`);
    const hasReport = reportSteps.length > 0;
    if (grants('issues') && !hasReport) add('issues-write', `${at} has issues: write but no report step`);
    if (hasReport && !grants('issues')) add('issues-write', `${at} has a report step but no issues: write`);
    if (hasReport && !grants('actions') && !(isDict(job.permissions) && job.permissions.actions === 'read')) {
      add(
        'issues-write',
        `${at} has a report step but no actions: read (it lists the workflows to find disabled schedules)`,
      );
    }
    for (const report of reportSteps) {
      if (steps.indexOf(report) !== steps.length - 1)
        add('issues-write', `${at}: the report step is not the last step`);
      if (!/\b(always|failure)\(\)/.test(report.if ?? ''))
        add('issues-write', `${at}: the report step needs if: always() (or failure())`);
      if (!/^\$\{\{\s*job\.status\s*\}\}$/.test(String(report.with?.status ?? '')))
        add('issues-write', `${at}: the report step's status is not \${{ job.status }}`);
    }
    const onlyPullRequests = on.length > 0 && on.every((trigger) => trigger === 'pull_request');
    if (!onlyPullRequests && locals.some((name) => name !== undefined && REPORTED_ACTIONS.has(name)) && !hasReport) {
      add('report-steps', `${at} runs Backstop actions but has no report step (a failure would go unnoticed)`);
    }

    const keepAlive = reportSteps.some((step) => String(step.with?.['keep-alive'] ?? 'false') === 'true');
    if (keepAlive && !grants('actions')) add('keep-alive', `${at}: keep-alive needs actions: write`);
    if (!keepAlive && grants('actions')) add('keep-alive', `${at} has actions: write without a keep-alive report`);

    const usesAws = steps.some(
      (step) =>
        step.uses?.startsWith(AWS_CREDENTIALS) && isDict(step.with) && step.with['role-to-assume'] !== undefined,
    );
    if (grants('id-token') && !usesAws)
      add('id-token', `${at} has id-token: write but no aws-actions/configure-aws-credentials with role-to-assume`);
    if (usesAws && !grants('id-token')) add('id-token', `${at} assumes an AWS role without id-token: write`);

    steps.forEach((step, index) => {
      if (typeof step.run === 'string' && EXPRESSION_IN_RUN.test(step.run)) {
        add(
          'no-expressions-in-run',
          `${at} step ${step.id ?? step.name ?? index + 1}: pass secrets, inputs, vars and event data through env:, ` +
            `not \${{ }} in run:`,
        );
      }
    });

    if (JSON.stringify(job).includes('BACKSTOP_AGE_IDENTITY') && !locals.includes('restore-drill')) {
      add('age-identity', `${at} reads BACKSTOP_AGE_IDENTITY but does not use ./actions/restore-drill`);
    }
  }
  return problems;
}

/** The repository's local actions, read from actions/<name>/action.yml. */
const loadRepositoryAction: ActionLoader = (name) => {
  const file = path.join(ROOT, 'actions', name, 'action.yml');
  if (!fs.existsSync(file)) return undefined;
  const yml = parse(fs.readFileSync(file, 'utf8')) as {
    inputs?: ActionMeta['inputs'] | null;
    outputs?: ActionMeta['outputs'] | null;
  };
  return { inputs: yml.inputs ?? {}, outputs: yml.outputs ?? {} };
};

const WORKFLOW_DIR = path.join(ROOT, '.github', 'workflows');
const FILES = fs
  .readdirSync(WORKFLOW_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .sort();
const read = (file: string): string => fs.readFileSync(path.join(WORKFLOW_DIR, file), 'utf8');
const load = (file: string): Dict => parse(read(file)) as Dict;

it('has the workflows a team copies', () => {
  expect(FILES).toEqual(
    expect.arrayContaining([
      'ci.yml',
      'hourly-backup.yml',
      'integrity-pr.yml',
      'migrate-ticks.yml',
      'nightly-backup.yml',
      'restore-drill.yml',
      'restore.yml',
    ]),
  );
});

describe.each(FILES)('%s', (file) => {
  const problems = checkWorkflow(read(file), loadRepositoryAction);
  for (const [rule, title] of Object.entries(RULES)) {
    it(`${rule}: ${title}`, () => {
      expect(problems.filter((problem) => problem.rule === rule).map((problem) => problem.message)).toEqual([]);
    });
  }
});

describe('what the workflows do', () => {
  type Jobs = Record<string, Job & { strategy?: Dict; services?: Dict; environment?: unknown; if?: string }>;
  const jobsOf = (file: string): Jobs => load(file).jobs as Jobs;
  const stepsUsing = (job: Job | undefined, name: string): Step[] =>
    (job?.steps ?? []).filter((step) => localAction(step) === name);
  const crons = (file: string): string[] => {
    const on = load(file).on as Dict;
    return ((on.schedule as { cron: string }[] | undefined) ?? []).map((entry) => entry.cron);
  };

  it(
    'nightly-backup: 02:00 UTC and dispatch; a matrix of databases, each URL from its own secret; Qdrant; prune ' +
      'after each backup',
    () => {
      expect(crons('nightly-backup.yml')).toEqual(['0 2 * * *']);
      expect(Object.keys(load('nightly-backup.yml').on as Dict)).toContain('workflow_dispatch');
      const jobs = jobsOf('nightly-backup.yml');
      const postgres = jobs.postgres;
      const include = (postgres!.strategy!.matrix as { include: { name: string; secret: string }[] }).include;
      expect(include.length).toBeGreaterThan(0);
      for (const entry of include) expect(entry.secret).toMatch(/^BACKSTOP_[A-Z0-9_]+_URL$/);
      const [dump] = stepsUsing(postgres, 'dump-postgres');
      expect(dump?.with).toMatchObject({ 'database-url': '${{ secrets[matrix.secret] }}', kind: 'daily' });
      for (const job of [postgres, jobs.qdrant]) {
        const steps = job?.steps ?? [];
        const backup = steps.findIndex((step) =>
          ['dump-postgres', 'snapshot-qdrant'].includes(localAction(step) ?? ''),
        );
        const prune = steps.findIndex((step) => localAction(step) === 'prune-backups');
        expect(backup).toBeGreaterThan(-1);
        expect(prune).toBeGreaterThan(backup);
      }
      expect(stepsUsing(jobs.qdrant, 'snapshot-qdrant')[0]?.with?.kind).toBe('daily');
    },
  );

  it('hourly-backup: every hour, kind hourly, 7 days of hourlies in the retention', () => {
    expect(crons('hourly-backup.yml')).toEqual(['0 * * * *']);
    const job = Object.values(jobsOf('hourly-backup.yml'))[0];
    expect(stepsUsing(job, 'dump-postgres')[0]?.with?.kind).toBe('hourly');
    expect(stepsUsing(job, 'prune-backups')[0]?.with).toMatchObject({
      'keep-hourly': 168,
      'keep-daily': 30,
      'keep-weekly': 12,
      'keep-monthly': 12,
      'keep-yearly': 7,
    });
  });

  it(
    'restore-drill: a plan from the manifest picks the service image, the drill restores that backup into it ' +
      'within an RTO budget, then validates',
    () => {
      expect(crons('restore-drill.yml')).toHaveLength(1);
      const jobs = jobsOf('restore-drill.yml');
      const plan = stepsUsing(jobs.plan, 'restore-drill')[0];
      expect(plan?.with?.['plan-only']).toBe(true);
      expect(plan?.with?.['encryption-identity']).toBeUndefined();
      const image = (jobs.drill?.services?.postgres as Dict | undefined)?.image;
      expect(image).toMatch(/needs\.plan\.outputs\./);
      const imageScript = jobs.plan?.steps?.find((step) => step.id === 'image')?.run ?? '';
      expect(imageScript).toContain('timescale/timescaledb:latest-pg$MAJOR');
      expect(imageScript).toContain('postgres:$MAJOR');
      const drill = stepsUsing(jobs.drill, 'restore-drill')[0];
      expect(drill?.with).toMatchObject({ 'max-restore-seconds': 900 });
      expect(String(drill?.with?.['target-url'])).not.toBe('');
      expect(String(drill?.with?.['pg-bin-dir'])).toContain('steps.pg.outputs.bin-dir');
      expect(String(drill?.with?.['backup-id'])).toBe('${{ needs.plan.outputs.backup-id }}');
      expect(stepsUsing(jobs.drill, 'validate-integrity')).toHaveLength(1);
      expect((jobs.qdrant?.services?.qdrant as Dict | undefined)?.image).toBe('qdrant/qdrant:v1.19.0');
    },
  );

  it('restore: dispatch only, a protected environment per target, and confirm must equal the target', () => {
    const workflow = load('restore.yml');
    expect(Object.keys(workflow.on as Dict)).toEqual(['workflow_dispatch']);
    expect(Object.keys(((workflow.on as Dict).workflow_dispatch as Dict).inputs as Dict)).toEqual(
      expect.arrayContaining(['name', 'backup-id', 'target', 'confirm']),
    );
    const jobs = jobsOf('restore.yml');
    expect(jobs.restore?.environment).toBe('restore-${{ inputs.target }}');
    expect(jobs.restore?.needs).toBe('confirm');
    const check = jobs.confirm?.steps?.[0] as (Step & { env?: Dict }) | undefined;
    expect(check?.env).toEqual({ TARGET: '${{ inputs.target }}', CONFIRM: '${{ inputs.confirm }}' });
    expect(check?.run).toContain('"$CONFIRM" != "$TARGET"');
  });

  it(
    'migrate-ticks: pre-migration backup, shards as a matrix, validation source vs target, the rollback in the ' +
      'failure issue',
    () => {
      const jobs = jobsOf('migrate-ticks.yml');
      expect(stepsUsing(jobs.backup, 'dump-postgres')[0]?.with?.kind).toBe('pre-migration');
      expect(jobs.migrate?.needs).toBe('backup');
      expect(stepsUsing(jobs.migrate, 'migrate-ticks')[0]?.with?.shard).toMatch(/matrix\.shard/);
      expect(stepsUsing(jobs.validate, 'validate-integrity')[0]?.with?.['compare-url']).toBeDefined();
      for (const job of [jobs.migrate, jobs.validate]) {
        expect(String(stepsUsing(job, 'report')[0]?.with?.['next-command'])).toContain(
          '${{ needs.backup.outputs.backup-id }}',
        );
      }
    },
  );

  it('integrity-pr: pull_request on sql/ and migrations, staging secrets, forks skipped with a notice', () => {
    const workflow = load('integrity-pr.yml');
    expect(Object.keys(workflow.on as Dict)).toEqual(['pull_request']);
    expect(((workflow.on as Dict).pull_request as Dict).paths).toEqual(
      expect.arrayContaining(['sql/**', 'supabase/migrations/**']),
    );
    const jobs = jobsOf('integrity-pr.yml');
    expect(jobs.validate?.environment).toBe('staging');
    expect(jobs.validate?.if).toContain('!github.event.pull_request.head.repo.fork');
    expect(jobs['fork-notice']?.if).toBe('github.event.pull_request.head.repo.fork');
    expect(jobs['fork-notice']?.steps?.[0]?.run).toContain('::notice');
  });
});

describe('checkWorkflow catches', () => {
  const FAKE: Record<string, ActionMeta> = {
    'dump-postgres': {
      inputs: { 'database-url': { required: true }, name: { required: true }, kind: { default: 'manual' } },
      outputs: { 'backup-id': {} },
    },
    report: {
      inputs: { name: { required: true }, status: { required: true }, 'keep-alive': { default: 'false' } },
      outputs: {},
    },
  };
  const actions: ActionLoader = (name) => FAKE[name];

  const BAD = `
on:
  pull_request_target:
  schedule:
    - cron: '0 2 * * *'
permissions: write-all
env:
  KEY: \${{ secrets.BACKSTOP_AGE_IDENTITY }}
jobs:
  backup:
    runs-on: ubuntu-24.04
    needs: [missing]
    permissions:
      contents: write
      issues: write
      id-token: write
      actions: write
    outputs:
      id: \${{ steps.dump.outputs.nope }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@1d0ff469b7ec7b3cb9d8673fde0c81c44821de2a
      - run: echo \${{ steps.dump.outputs.backup-id }}
      - run: psql "\${{ secrets.DATABASE_URL }}" -c "select '\${{ github.event.pull_request.title }}'" \${{ inputs.x }} \${{ vars.Y }}
      - id: dump
        uses: ./actions/dump-postgres
        with:
          name: prod-db
          kindd: daily
      - uses: ./actions/restore-drill
      - uses: ./actions/report
        with:
          name: prod-db
          status: failure
      - run: echo \${{ needs.other.outputs.x }} \${{ steps.shell.outputs.y }}
      - id: shell
        run: echo hi
  drill:
    timeout-minutes: 5
    needs: backup
    permissions:
      issues: write
    steps:
      - run: echo "$ID"
        env:
          ID: \${{ needs.backup.outputs.missing }}
          KEY: \${{ secrets.BACKSTOP_AGE_IDENTITY }}
`;
  const problems = checkWorkflow(BAD, actions);
  const expected: [Rule, RegExp][] = [
    ['no-pull-request-target', /pull_request_target/],
    ['permissions', /top-level permissions grant write-all/],
    ['permissions', /job backup grants contents write/],
    ['concurrency', /without a concurrency group/],
    ['age-identity', /outside a job/],
    ['age-identity', /job drill reads BACKSTOP_AGE_IDENTITY/],
    ['timeout', /job backup has no timeout-minutes/],
    ['pinned', /actions\/checkout@v4 is not pinned/],
    ['pinned', /setup-node@1d0ff469b7ec7b3cb9d8673fde0c81c44821de2a has no "# vX" comment/],
    ['local-inputs', /dump-postgres has no input "kindd"/],
    ['local-inputs', /dump-postgres needs input "database-url"/],
    ['local-inputs', /actions\/restore-drill\/action\.yml missing/],
    ['step-outputs', /dump-postgres \(step dump\) has no output "nope"/],
    ['step-outputs', /steps\.dump\.outputs\.backup-id is read before step dump runs/],
    ['step-outputs', /step shell never writes y= to \$GITHUB_OUTPUT/],
    ['needs-outputs', /needs missing, which is no job/],
    ['needs-outputs', /reads needs\.other but does not need that job/],
    ['needs-outputs', /job backup declares no output "missing"/],
    ['no-expressions-in-run', /job backup step 4/],
    ['issues-write', /job drill has issues: write but no report step/],
    ['issues-write', /the report step is not the last step/],
    ['issues-write', /needs if: always\(\)/],
    ['issues-write', /status is not/],
    ['keep-alive', /actions: write without a keep-alive report/],
    ['id-token', /id-token: write but no aws-actions\/configure-aws-credentials/],
  ];

  it.each(expected)('%s: %s', (rule, message) => {
    expect(problems.filter((problem) => problem.rule === rule).map((problem) => problem.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(message)]),
    );
  });

  it('secrets, inputs, vars and the event payload in run: each on its own', () => {
    for (const expression of [
      'secrets.X',
      "secrets['X']",
      'inputs.target',
      'vars.URL',
      'github.event.issue.title',
      'github.head_ref',
    ]) {
      const text =
        `on: push\npermissions: {}\njobs:\n  j:\n    timeout-minutes: 1\n    steps:\n      - run: echo ` +
        `"\${{ ${expression} }}"\n`;
      expect(
        checkWorkflow(text, actions).map((problem) => problem.rule),
        expression,
      ).toEqual(['no-expressions-in-run']);
    }
    const safe =
      `on: push\npermissions: {}\njobs:\n  j:\n    timeout-minutes: 1\n    steps:\n      - run: echo "$X ` +
      `\${{ github.event_name }} \${{ runner.temp }}"\n        env:\n          X: \${{ secrets.X }}\n`;
    expect(checkWorkflow(safe, actions)).toEqual([]);
  });

  it(
    'a report job without issues: write, a keep-alive without actions: write, a cancelling schedule, a role ' +
      'without id-token',
    () => {
      const text = `
on:
  schedule:
    - cron: '0 * * * *'
permissions: {}
concurrency:
  group: backups
  cancel-in-progress: true
jobs:
  j:
    timeout-minutes: 1
    permissions:
      contents: read
    steps:
      - uses: aws-actions/configure-aws-credentials@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0
        with:
          role-to-assume: arn
      - uses: ./actions/dump-postgres
        with:
          database-url: x
          name: y
      - uses: ./actions/report
        if: always()
        with:
          name: y
          status: \${{ job.status }}
          keep-alive: 'true'
`;
      const rules = checkWorkflow(text, actions).map((problem) => `${problem.rule}: ${problem.message}`);
      expect(rules).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^concurrency: cancel-in-progress/),
          expect.stringMatching(/^issues-write: job j has a report step but no issues: write/),
          expect.stringMatching(/^issues-write: job j has a report step but no actions: read/),
          expect.stringMatching(/^keep-alive: job j: keep-alive needs actions: write/),
          expect.stringMatching(/^id-token: job j assumes an AWS role without id-token: write/),
        ]),
      );
    },
  );

  it('a Backstop job without a report step, outside pull requests', () => {
    const job =
      `permissions: {}\njobs:\n  j:\n    timeout-minutes: 1\n    steps:\n      - uses: ` +
      `./actions/dump-postgres\n        with:\n          database-url: x\n          name: y\n`;
    expect(checkWorkflow(`on: workflow_dispatch\n${job}`, actions).map((problem) => problem.rule)).toEqual([
      'report-steps',
    ]);
    expect(checkWorkflow(`on: pull_request\n${job}`, actions)).toEqual([]);
  });
});
