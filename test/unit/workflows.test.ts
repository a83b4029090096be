import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Origin } from '../../actions/lib/action/origin.ts';
import { loadConfig } from '../../actions/lib/integrity/config.ts';
import { ROOT, runAction } from '../harness/runner.ts';

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
  'credential-duration': "where OIDC is used, role-duration-seconds is at least the job's timeout-minutes × 60",
  'schedule-minute': 'no schedule fires at minute 0, when GitHub delays and drops the most scheduled runs',
  'report-independent':
    'a job with a report step checks out first and starts no service or job container (databases start in steps)',
  'drill-image': 'drill databases come from the backup manifest or a variable, never a fixed or latest image',
  heartbeat: 'scheduled Backstop jobs ping a heartbeat from a secret: a start step and the report step',
  'pg-isready': 'pg_isready checks over TCP (-h), never the socket (which answers during initialisation)',
  node24:
    'third-party pins run on node24 or newer, as their action.yml at that commit says (.github/action-runtimes.json)',
  reusable:
    'a reusable workflow runs Backstop actions as <repository>/actions/<name>@<major>, never ./actions (the ' +
    "caller's checkout), with typed inputs",
  calls:
    'a call of a Backstop reusable workflow passes declared inputs (every required one), declared secrets (or ' +
    'inherit) and grants every permission its jobs ask for',
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
  services?: Dict;
  container?: unknown;
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
/** This repository on GitHub (package.json's repository), as other repositories reference its actions. */
const REPOSITORY = /github\.com\/([\w.-]+\/[\w.-]+?)(?:\.git)?$/.exec(
  (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { repository: { url: string } }).repository
    .url,
)![1]!;
/** The major-version tag the reusable workflows and docs reference; moved by release.yml to every vX.Y.Z. */
const MAJOR_TAG = 'v1';
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A Backstop action from another repository's point of view: <owner>/backstop/actions/<name>@v1. */
const PUBLISHED_ACTION = new RegExp(`^${escapeRegExp(REPOSITORY)}/actions/([a-z0-9-]+)@${MAJOR_TAG}$`);
/** A Backstop reusable workflow, called from this repository (./) or another (<owner>/backstop/…@v1). */
const REUSABLE_WORKFLOW = new RegExp(
  `^(?:\\./|${escapeRegExp(REPOSITORY)}/)\\.github/workflows/([\\w-]+\\.ya?ml)(?:@${MAJOR_TAG})?$`,
);
const PINNED = /^[^@\s]+@[0-9a-f]{40}$/;
const AWS_CREDENTIALS = 'aws-actions/configure-aws-credentials@';
/** Actions that back up, drill, migrate, validate or write embeddings: their jobs must end with a report. */
const REPORTED_ACTIONS = new Set([
  'dump-postgres',
  'snapshot-qdrant',
  'backup-files',
  'restore-drill',
  'migrate-ticks',
  'validate-integrity',
  'prune-backups',
  'backfill-embeddings',
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

/** The Backstop action a step runs, by its local path or its published reference. */
function localAction(step: Step): string | undefined {
  if (typeof step.uses !== 'string') return undefined;
  return (LOCAL_ACTION.exec(step.uses) ?? PUBLISHED_ACTION.exec(step.uses))?.[1];
}

/** A report step in `ping: start` mode: the heartbeat's start ping, at the start of a job. */
function isStartPing(step: Step): boolean {
  return localAction(step) === 'report' && String(step.with?.ping ?? 'end') === 'start';
}

/** GitHub's limit when a job sets no timeout-minutes. */
const DEFAULT_TIMEOUT_MINUTES = 360;
/** configure-aws-credentials' session when role-duration-seconds is not given. */
const DEFAULT_ROLE_SECONDS = 3600;

/** Whether a cron minute field (`0`, `*`, `*\/15`, `0-10`, `5,35`) includes minute 0. */
function firesAtMinuteZero(field: string): boolean {
  return field.split(',').some((item) => {
    const [range = ''] = item.split('/');
    if (range === '*') return true;
    return Number(range.split('-')[0]) === 0;
  });
}

/** Database images a drill starts: the tag must come from the manifest or a variable (a `$` in it), never fixed. */
const DRILL_IMAGE =
  /(?<![\w/@.:-])(postgres|timescale\/timescaledb(?:-ha)?|pgvector\/pgvector|supabase\/postgres|qdrant\/qdrant):([\w.${}-]+)(?!@)/g;

/** What a pinned third-party action runs on, by `owner/repo[/path]@sha` (.github/action-runtimes.json). */
type RuntimeTable = Record<string, { version: string; using: string }>;
/** A workflow of this repository by file name (the text), for the calls of reusable workflows; undefined if none. */
type WorkflowLoader = (file: string) => string | undefined;

interface CheckOptions {
  runtimes?: RuntimeTable;
  loadWorkflow?: WorkflowLoader;
}

/** Node versions GitHub has deprecated on its runners: a pin on one of them stops working when they are removed. */
const OLD_NODE = /^node(1\d|20)$/;

function checkWorkflow(text: string, loadAction: ActionLoader, options: CheckOptions = {}): Problem[] {
  const runtimes = options.runtimes ?? ACTION_RUNTIMES;
  const loadWorkflow = options.loadWorkflow ?? loadRepositoryWorkflow;
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

  const call = isDict(workflow.on) ? workflow.on.workflow_call : undefined;
  if (isDict(call) && isDict(call.inputs)) {
    for (const [input, spec] of Object.entries(call.inputs)) {
      if (!isDict(spec) || !['string', 'boolean', 'number'].includes(String(spec.type)))
        add('reusable', `workflow_call input "${input}" has no type: give it type: string, boolean or number`);
    }
  }

  // Outside the jobs (workflow env, for one) the identity would reach every job. A reusable workflow's `secrets:`
  // only names what a caller may pass.
  if (JSON.stringify({ ...workflow, jobs: undefined, on: undefined }).includes('BACKSTOP_AGE_IDENTITY')) {
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
    const reportSteps = steps.filter((step) => localAction(step) === 'report' && !isStartPing(step));
    const startPings = steps.filter(isStartPing);
    const locals = steps.map(localAction);

    if (job['timeout-minutes'] === undefined && job.uses === undefined) add('timeout', `${at} has no timeout-minutes`);

    // Third-party actions and reusable workflows: pinned to a full commit SHA, the version in a comment, on a
    // current Node. Backstop's own actions and workflows go with the release the caller chose (@v1).
    for (const uses of [job.uses, ...steps.map((step) => step.uses)]) {
      if (typeof uses !== 'string' || uses.startsWith('./') || uses.startsWith('docker://')) continue;
      if (PUBLISHED_ACTION.test(uses) || REUSABLE_WORKFLOW.test(uses)) continue;
      if (!PINNED.test(uses)) add('pinned', `${at}: ${uses} is not pinned to a 40-hex commit SHA`);
      else if (!pinComments.get(uses)) add('pinned', `${at}: ${uses} has no "# vX" comment naming its version`);
      if (!PINNED.test(uses)) continue;
      const runtime = runtimes[uses];
      if (!runtime) {
        add('node24', `${at}: ${uses} is not in .github/action-runtimes.json: run npm run action-runtimes`);
      } else if (OLD_NODE.test(runtime.using)) {
        add('node24', `${at}: ${uses} (${runtime.version}) runs on ${runtime.using}: pin a release on node24`);
      }
    }

    if (on.includes('workflow_call')) {
      for (const step of steps) {
        if (LOCAL_ACTION.test(step.uses ?? ''))
          add(
            'reusable',
            `${at}: ${step.uses} would resolve in the caller's checkout: use ` +
              `${REPOSITORY}/${String(step.uses).slice(2)}@${MAJOR_TAG}`,
          );
      }
    }
    for (const step of steps) {
      const published = /^[\w.-]+\/[\w.-]+\/actions\/[a-z0-9-]+@.*/.exec(step.uses ?? '')?.[0];
      if (published?.includes('/backstop/') && !PUBLISHED_ACTION.test(published))
        add('reusable', `${at}: ${published} is not ${REPOSITORY}/actions/<name>@${MAJOR_TAG}`);
    }

    if (typeof job.uses === 'string') {
      for (const scope of jobWrites) if (!ALLOWED_WRITES.has(scope)) add('permissions', `${at} grants ${scope} write`);
      checkCall(at, job, loadWorkflow, add);
      continue;
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

    // Permissions: least privilege. contents: write only to release: dispatched by hand, running no action but
    // checkout (nothing a dependency could do with the token).
    const releases =
      on.length === 1 &&
      on[0] === 'workflow_dispatch' &&
      steps.every((s) => !s.uses || s.uses.startsWith('actions/checkout@'));
    for (const scope of jobWrites)
      if (!ALLOWED_WRITES.has(scope) && !(scope === 'contents' && releases))
        add('permissions', `${at} grants ${scope} write`);
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

    const awsRoles = steps.filter(
      (step) =>
        step.uses?.startsWith(AWS_CREDENTIALS) && isDict(step.with) && step.with['role-to-assume'] !== undefined,
    );
    const usesAws = awsRoles.length > 0;
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

    // Credentials from OIDC last role-duration-seconds and cannot refresh: they must outlast the job.
    const timeout = job['timeout-minutes'] ?? DEFAULT_TIMEOUT_MINUTES;
    for (const step of awsRoles) {
      const duration = step.with?.['role-duration-seconds'] ?? DEFAULT_ROLE_SECONDS;
      if (typeof duration !== 'number' || typeof timeout !== 'number') {
        add('credential-duration', `${at}: role-duration-seconds and timeout-minutes must be numbers to be compared`);
      } else if (duration < timeout * 60) {
        add(
          'credential-duration',
          `${at}: role-duration-seconds ${duration} is shorter than timeout-minutes ${timeout} (${timeout * 60} s): a ` +
            'long step would fail with ExpiredToken; set it to at least the timeout',
        );
      }
    }

    // The report must not depend on what can fail before it: checkout first, and no container GitHub starts.
    if (reportSteps.length > 0) {
      if (job.services !== undefined || job.container !== undefined) {
        add(
          'report-independent',
          `${at} has services or a container: when one fails to start, no step runs and no issue is opened; ` +
            'start the database in a step after checkout',
        );
      }
      if (!steps[0]?.uses?.startsWith('actions/checkout@')) {
        add(
          'report-independent',
          `${at}: the first step is not actions/checkout (a failure before it skips the report)`,
        );
      }
    }

    if (locals.includes('restore-drill')) {
      for (const [service, spec] of Object.entries(isDict(job.services) ? job.services : {})) {
        const image = isDict(spec) ? spec.image : spec;
        if (typeof image === 'string' && !image.includes('${{'))
          add('drill-image', `${at}: service ${service} has the fixed image ${image}: derive it from the manifest`);
      }
      for (const match of strings({ ...job, permissions: undefined })
        .join('\n')
        .matchAll(DRILL_IMAGE)) {
        const [image, , tag = ''] = match;
        if (tag.includes('$')) continue;
        add(
          'drill-image',
          `${at}: the drill image ${image} is ${/latest/.test(tag) ? 'a latest tag' : 'fixed'}: derive it from the ` +
            "backup's manifest (restore-drill plan-only) or a variable",
        );
      }
    }

    for (const match of strings(job)
      .join('\n')
      .matchAll(/pg_isready[^\n;&|"]*/g)) {
      if (!/\s(-h|--host)[\s=]\S/.test(match[0]))
        add('pg-isready', `${at}: "${match[0].trim()}" checks the socket: add -h 127.0.0.1`);
    }

    // A dead-man's switch per scheduled Backstop job: when runs stop, the outside watcher notices.
    const backsUp = locals.some((name) => name !== undefined && REPORTED_ACTIONS.has(name));
    if (on.includes('schedule') && backsUp) {
      const url = reportSteps[0]?.with?.['heartbeat-url'];
      const first = locals.findIndex((name) => name !== undefined && REPORTED_ACTIONS.has(name));
      if (typeof url !== 'string' || !/\$\{\{\s*secrets[.[]/.test(url)) {
        add('heartbeat', `${at}: the report step has no heartbeat-url from a secret`);
      } else if (!startPings.some((step) => step.with?.['heartbeat-url'] === url && steps.indexOf(step) < first)) {
        add('heartbeat', `${at}: no ping: start step with the same heartbeat-url before its first Backstop step`);
      }
    }
  }

  for (const cron of crons(workflow.on)) {
    if (firesAtMinuteZero(cron.trim().split(/\s+/)[0] ?? ''))
      add(
        'schedule-minute',
        `cron '${cron}' fires at minute 0: use an odd minute, e.g. '17${cron.replace(/^\S+/, '')}'`,
      );
  }
  return problems;
}

/** Permission levels in order: a caller must grant each scope at least at the level a called job asks. */
const LEVELS = ['none', 'read', 'write'];

/** The permissions a job is given, scope by scope. */
function permissionsOf(permissions: unknown): Record<string, string> {
  if (permissions === 'write-all')
    return Object.fromEntries(['contents', 'issues', 'actions', 'id-token'].map((s) => [s, 'write']));
  return isDict(permissions) ? (permissions as Record<string, string>) : {};
}

/** A job that calls a Backstop reusable workflow: its inputs, secrets and permissions against that workflow's. */
function checkCall(at: string, job: Job, loadWorkflow: WorkflowLoader, add: (rule: Rule, message: string) => void) {
  const file = REUSABLE_WORKFLOW.exec(job.uses ?? '')?.[1];
  if (file === undefined) return;
  const text = loadWorkflow(file);
  const called: unknown = text === undefined ? undefined : parse(text);
  const call = isDict(called) && isDict(called.on) ? called.on.workflow_call : undefined;
  if (!isDict(called) || !isDict(call)) {
    add('calls', `${at}: ${job.uses} is not a reusable workflow of this repository (no on: workflow_call)`);
    return;
  }
  const inputs = (isDict(call.inputs) ? call.inputs : {}) as Record<string, Dict>;
  const given = isDict((job as Dict).with) ? Object.keys((job as Dict).with as Dict) : [];
  for (const input of given) if (!(input in inputs)) add('calls', `${at}: ${file} has no input "${input}"`);
  for (const [input, spec] of Object.entries(inputs))
    if (spec.required === true && !given.includes(input)) add('calls', `${at}: ${file} needs input "${input}"`);
  const secrets = (job as Dict).secrets;
  const declared = isDict(call.secrets) ? (call.secrets as Record<string, Dict | null>) : {};
  if (secrets !== 'inherit') {
    const passed = isDict(secrets) ? Object.keys(secrets) : [];
    for (const secret of passed)
      if (!(secret in declared)) add('calls', `${at}: ${file} declares no secret ${secret} (pass it or use inherit)`);
    for (const [secret, spec] of Object.entries(declared))
      if (spec?.required === true && !passed.includes(secret)) add('calls', `${at}: ${file} needs secret ${secret}`);
  }
  const calledJobs = Object.values(isDict(called.jobs) ? (called.jobs as Record<string, Job>) : {});
  const drills = calledJobs.some((calledJob) =>
    (calledJob.steps ?? []).some((s) => localAction(s) === 'restore-drill'),
  );
  if (JSON.stringify(job).includes('BACKSTOP_AGE_IDENTITY') && !drills)
    add('age-identity', `${at} passes BACKSTOP_AGE_IDENTITY to ${file}, which does not restore`);
  const granted = permissionsOf(job.permissions);
  for (const [calledId, calledJob] of Object.entries(isDict(called.jobs) ? (called.jobs as Record<string, Job>) : {})) {
    for (const [scope, level] of Object.entries(permissionsOf(calledJob.permissions))) {
      if (LEVELS.indexOf(granted[scope] ?? 'none') < LEVELS.indexOf(level))
        add(
          'calls',
          `${at}: job ${calledId} of ${file} asks ${scope}: ${level}, this job grants ${granted[scope] ?? 'none'}`,
        );
    }
  }
}

function crons(on: unknown): string[] {
  const schedule = isDict(on) ? on.schedule : undefined;
  if (!Array.isArray(schedule)) return [];
  return schedule.flatMap((entry) => (isDict(entry) && typeof entry.cron === 'string' ? [entry.cron] : []));
}

const ACTION_RUNTIMES = JSON.parse(
  fs.readFileSync(path.join(ROOT, '.github', 'action-runtimes.json'), 'utf8'),
) as RuntimeTable;

const loadRepositoryWorkflow: WorkflowLoader = (file) => {
  const at = path.join(ROOT, '.github', 'workflows', file);
  return fs.existsSync(at) ? fs.readFileSync(at, 'utf8') : undefined;
};

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
/** Workflows another repository copies to call Backstop's (docs/adopt.md): checked by the same contract. */
const EXAMPLES = fs
  .readdirSync(path.join(ROOT, 'examples'))
  .filter((file) => /\.ya?ml$/.test(file))
  .map((file) => `../../examples/${file}`);
const read = (file: string): string => fs.readFileSync(path.join(WORKFLOW_DIR, file), 'utf8');
const load = (file: string): Dict => parse(read(file)) as Dict;

it('has the workflows a team copies', () => {
  expect(FILES).toEqual(
    expect.arrayContaining([
      'backfill-embeddings.yml',
      'backup-freshness.yml',
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

describe.each([...FILES, ...EXAMPLES])('%s', (file) => {
  const problems = checkWorkflow(read(file), loadRepositoryAction);
  for (const [rule, title] of Object.entries(RULES)) {
    it(`${rule}: ${title}`, () => {
      expect(problems.filter((problem) => problem.rule === rule).map((problem) => problem.message)).toEqual([]);
    });
  }
});

type Jobs = Record<string, Job & { strategy?: Dict; environment?: unknown; if?: string; env?: Dict }>;
const jobsOf = (file: string): Jobs => load(file).jobs as Jobs;
const stepsUsing = (job: Job | undefined, name: string): Step[] =>
  (job?.steps ?? []).filter((step) => localAction(step) === name);
const scheduleOf = (file: string): string[] => crons(load(file).on);

/** The `run:` script of a step, found by id. */
function script(file: string, job: string, id: string): string {
  const run = jobsOf(file)[job]?.steps?.find((step) => step.id === id)?.run;
  if (typeof run !== 'string') throw new Error(`${file}: job ${job} has no run step ${id}`);
  return run;
}

interface ScriptRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

/**
 * Runs a step's script as a Linux runner does (`bash --noprofile --norc -eo pipefail`), with only the given
 * environment, PATH and the runner's files: what the workflow logic does can be tested here, not only on GitHub.
 */
async function runScript(run: string, env: Record<string, string>, pathPrefix = '', cwd?: string): Promise<ScriptRun> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-step-'));
  const file = path.join(work, 'step.sh');
  const output = path.join(work, 'output');
  const summary = path.join(work, 'summary');
  fs.writeFileSync(file, run);
  fs.writeFileSync(output, '');
  fs.writeFileSync(summary, '');
  try {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd,
      env: {
        PATH: `${pathPrefix}${process.env.PATH ?? ''}`,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
        RUNNER_TEMP: work,
        ...env,
      },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const outputs = Object.fromEntries(
      fs
        .readFileSync(output, 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    return { code, stdout, outputs, summary: fs.readFileSync(summary, 'utf8') };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** A local HTTP server answering JSON by path (and 404 otherwise), recording the paths asked for. */
async function jsonServer(routes: Record<string, unknown>): Promise<{ url: string; asked: string[]; close(): void }> {
  const asked: string[] = [];
  const server = http.createServer((request, response) => {
    const url = request.url ?? '';
    asked.push(`${request.headers.authorization ?? ''} ${url}`);
    const key = Object.keys(routes).find((route) => url === route || url.startsWith(`${route}?`));
    if (key === undefined) return void response.writeHead(404).end('{"message":"Not Found"}');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(routes[key]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    close: () => server.close(),
  };
}

describe('adopted from another repository', () => {
  const REUSABLE = ['nightly-backup.yml', 'hourly-backup.yml', 'restore-drill.yml', 'restore.yml'];

  it.each(REUSABLE)(
    '%s is a reusable workflow with typed inputs and declared secrets, on Backstop@v1 actions',
    (file) => {
      const call = (load(file).on as Dict).workflow_call as { inputs?: Record<string, Dict>; secrets?: Dict };
      expect(Object.keys(call.inputs ?? {}).length, file).toBeGreaterThan(0);
      for (const spec of Object.values(call.inputs ?? {})) expect(['string', 'boolean']).toContain(spec.type);
      expect(Object.keys(call.secrets ?? {}).length, file).toBeGreaterThan(0);
      const uses = Object.values(jobsOf(file)).flatMap((job) => (job.steps ?? []).map((step) => step.uses ?? ''));
      expect(uses.filter((value) => value.startsWith('./'))).toEqual([]);
      expect(uses.filter((value) => value.includes('/actions/')).length).toBeGreaterThan(0);
      for (const value of uses.filter((value) => value.includes('/actions/'))) expect(value).toMatch(PUBLISHED_ACTION);
    },
  );

  it('the caller example calls the four at the major tag, each when its schedule fires or it is dispatched', () => {
    const caller = parse(fs.readFileSync(path.join(ROOT, 'examples', 'caller.yml'), 'utf8')) as Dict;
    const jobs = caller.jobs as Record<string, Job & { if?: string }>;
    expect(Object.values(jobs).map((job) => job.uses)).toEqual(
      REUSABLE.map((file) => `${REPOSITORY}/.github/workflows/${file}@${MAJOR_TAG}`),
    );
    for (const cron of crons(caller.on))
      expect(Object.values(jobs).filter((job) => job.if?.includes(`'${cron}'`))).toHaveLength(1);
    // The gate matches an approval by the run's title: the caller's run-name gives the title the gate expects.
    expect(String(caller['run-name'])).toContain("format('restore {0} ({1}{2}) into {3}{4}'");
  });

  it('docs/adopt.md shows the example as it is in examples/caller.yml', () => {
    const adopt = fs.readFileSync(path.join(ROOT, 'docs', 'adopt.md'), 'utf8');
    const example = fs.readFileSync(path.join(ROOT, 'examples', 'caller.yml'), 'utf8');
    expect(adopt).toContain(example.trim());
  });
});

describe('release.yml', () => {
  const workflow = load('release.yml');
  const steps = jobsOf('release.yml').release?.steps ?? [];

  it('dispatch only; checks CI on this very commit and the bundles against a fresh build before any tag', () => {
    expect(Object.keys(workflow.on as Dict)).toEqual(['workflow_dispatch']);
    const names = steps.map((step) => step.run ?? step.uses ?? '');
    const ci = names.findIndex((run) => run.includes('actions/workflows/ci.yml/runs?head_sha=$SHA&status=success'));
    const build = names.findIndex((run) => run.includes('npm run build') && run.includes('git diff --quiet'));
    const tag = names.findIndex((run) => run.includes('gh release create'));
    expect(ci).toBeGreaterThan(0);
    expect(build).toBeGreaterThan(ci);
    expect(tag).toBeGreaterThan(build);
    expect(names[tag]).toContain('refs/tags/$MAJOR');
    expect(names[tag]).toContain('-F force=true');
    expect(names[tag]).toContain('exists already');
  });

  describe('the version and its notes', () => {
    const notesScript = script('release.yml', 'release', 'notes');
    const changelog = [
      '# Changelog',
      '',
      '## [Unreleased]',
      '',
      '- not yet',
      '',
      '## [1.2.0] - 2026-12-01',
      '',
      '### Added',
      '',
      '- keygen',
      '',
      '## [1.1.0] - 2026-11-01',
      '',
      '- older',
      '',
      '[1.2.0]: https://example.com',
    ].join('\n');
    async function notes(version: string, files: { package?: string; version?: string; ref?: string } = {}) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-release-'));
      try {
        fs.mkdirSync(path.join(dir, 'actions', 'lib'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'CHANGELOG.md'), changelog);
        fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ version: files.package ?? version }));
        fs.writeFileSync(
          path.join(dir, 'actions', 'lib', 'version.ts'),
          `export const BACKSTOP_VERSION = '${files.version ?? version}';\n`,
        );
        const run = await runScript(notesScript, { VERSION: version, REF: files.ref ?? 'refs/heads/main' }, '', dir);
        const text =
          run.outputs.path && fs.existsSync(run.outputs.path) ? fs.readFileSync(run.outputs.path, 'utf8') : '';
        return { ...run, text };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    it("publishes exactly the version's section, tags vX.Y.Z and moves vX", async () => {
      const run = await notes('1.2.0');
      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs).toMatchObject({ tag: 'v1.2.0', major: 'v1' });
      expect(run.stdout).toContain('### Added');
      expect(run.stdout).toContain('- keygen');
      expect(run.stdout).not.toContain('older');
      expect(run.stdout).not.toContain('not yet');
    });

    it.each([
      ['v1.2.0', {}, /is not X\.Y\.Z/],
      ['1.3.0', {}, /no '## \[1\.3\.0\] - YYYY-MM-DD' section/],
      ['1.2.0', { package: '1.1.0' }, /package\.json says version 1\.1\.0/],
      ['1.2.0', { version: '1.1.0' }, /actions\/lib\/version\.ts does not say 1\.2\.0/],
      ['1.2.0', { ref: 'refs/heads/feature' }, /Releases are made from main/],
    ])('refuses %s %j', async (version, files, message) => {
      const run = await notes(version, files);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(message);
      expect(run.outputs.tag).toBeUndefined();
    });
  });

  it('CHANGELOG.md is Keep a Changelog, with an Unreleased section', () => {
    const text = fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
    expect(text).toContain('[Keep a Changelog](https://keepachangelog.com/en/1.1.0/)');
    expect(text).toMatch(/^## \[Unreleased\]$/m);
    for (const heading of text.match(/^## .*$/gm) ?? [])
      expect(heading).toMatch(/^## \[(Unreleased|\d+\.\d+\.\d+)\]( - \d{4}-\d{2}-\d{2})?$/);
  });
});

describe('what the workflows do', () => {
  it('nightly-backup: every backup and prune mirrors into the catalog, every final report alerts (all optional)', () => {
    const jobs = jobsOf('nightly-backup.yml');
    for (const job of [jobs.postgres, jobs.qdrant]) {
      for (const action of ['dump-postgres', 'snapshot-qdrant', 'prune-backups']) {
        for (const step of stepsUsing(job, action))
          expect(step.with?.['catalog-url'], action).toBe('${{ secrets.BACKSTOP_CATALOG_URL }}');
      }
      const report = stepsUsing(job, 'report').at(-1);
      expect(report?.with).toMatchObject({
        'notify-on': "${{ vars.BACKSTOP_NOTIFY_ON || 'change' }}",
        'slack-webhook-url': '${{ secrets.BACKSTOP_SLACK_WEBHOOK_URL }}',
        'webhook-url': '${{ secrets.BACKSTOP_ALERT_WEBHOOK_URL }}',
        'smtp-url': '${{ secrets.BACKSTOP_SMTP_URL }}',
        'email-to': '${{ vars.BACKSTOP_ALERT_EMAIL_TO }}',
      });
    }
    expect(stepsUsing(jobs.postgres, 'dump-postgres')).toHaveLength(1);
    expect(stepsUsing(jobs.qdrant, 'snapshot-qdrant')).toHaveLength(1);
  });

  it(
    'nightly-backup: 02:23 UTC and dispatch; a matrix of databases, each URL and heartbeat from its own secret; ' +
      'Qdrant when configured; prune after each backup',
    () => {
      expect(scheduleOf('nightly-backup.yml')).toEqual(['23 2 * * *']);
      expect(Object.keys(load('nightly-backup.yml').on as Dict)).toContain('workflow_dispatch');
      const jobs = jobsOf('nightly-backup.yml');
      const postgres = jobs.postgres;
      // A caller's `databases` input, else this repository's own list (the JSON after the ||).
      const matrix = String((postgres!.strategy!.matrix as Dict).include);
      expect(matrix).toMatch(/^\$\{\{ fromJSON\(inputs\.databases \|\| '.*'\) \}\}$/);
      const include = JSON.parse(/'(.*)'/.exec(matrix)![1]!) as { name: string; secret: string; heartbeat: string }[];
      expect(include.length).toBeGreaterThan(0);
      for (const entry of include) {
        expect(entry.secret).toMatch(/^BACKSTOP_[A-Z0-9_]+_URL$/);
        expect(entry.heartbeat).toMatch(/^BACKSTOP_[A-Z0-9_]+_HEARTBEAT_URL$/);
      }
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
      expect(jobs.qdrant?.if).toBe("vars.BACKSTOP_QDRANT_URL != ''");
      expect(jobs.qdrant?.env?.BACKUP_NAME).toBe("${{ vars.BACKSTOP_QDRANT_NAME || 'qdrant-prod' }}");
    },
  );

  it('nightly-backup: backup-status after every backup job, whatever their outcome, its page uploaded as an artifact', () => {
    const job = jobsOf('nightly-backup.yml').status;
    expect(job?.needs).toEqual(['postgres', 'qdrant']);
    expect(job?.if).toBe('always()');
    const steps = job?.steps ?? [];
    const status = steps.findIndex((step) => localAction(step) === 'backup-status');
    const upload = steps.findIndex((step) => String(step.uses ?? '').startsWith('actions/upload-artifact@'));
    expect(steps[status]?.with?.['storage-url']).toBe('${{ vars.BACKSTOP_STORAGE_URL }}');
    expect(upload).toBeGreaterThan(status);
    expect(steps[upload]?.with?.path).toBe(`\${{ steps.${steps[status]?.id}.outputs.html-path }}`);
  });

  it('hourly-backup: a self-hosted variant, pgBackRest every hour (auto: full weekly), only when its name is set', () => {
    const job = jobsOf('hourly-backup.yml').physical;
    expect((job as Record<string, unknown> | undefined)?.['runs-on']).toMatch(
      /vars\.BACKSTOP_PHYSICAL_RUNS_ON.*self-hosted/,
    );
    expect(job?.if).toBe("vars.BACKSTOP_PHYSICAL_NAME != ''");
    expect(stepsUsing(job, 'backup-physical')[0]?.with).toMatchObject({ type: 'auto', kind: 'hourly' });
    expect(stepsUsing(job, 'report').at(-1)?.if).toBe('always()');
  });

  it('hourly-backup: every hour at minute 41, kind hourly, 7 days of hourlies, the name from a variable', () => {
    expect(scheduleOf('hourly-backup.yml')).toEqual(['41 * * * *']);
    const job = Object.values(jobsOf('hourly-backup.yml'))[0];
    expect(job?.env?.BACKUP_NAME).toBe("${{ inputs.name || vars.BACKSTOP_HOURLY_NAME || 'app-db' }}");
    expect(stepsUsing(job, 'dump-postgres')[0]?.with?.kind).toBe('hourly');
    expect(stepsUsing(job, 'prune-backups')[0]?.with).toMatchObject({
      'keep-hourly': 168,
      'keep-daily': 30,
      'keep-weekly': 12,
      'keep-monthly': 12,
      'keep-quarterly': 28,
      'keep-yearly': 7,
    });
  });

  it(
    'restore-drill: names from variables; in each job the plan picks the image, a step after checkout starts it, ' +
      'the drill restores that very backup within an RTO budget, then validates',
    () => {
      expect(scheduleOf('restore-drill.yml')).toHaveLength(1);
      const text = read('restore-drill.yml');
      expect(text).not.toMatch(/default: (prod-db|qdrant-prod)/);
      expect((load('restore-drill.yml').env as Dict).POSTGRES_BACKUP).toBe(
        "${{ inputs.name || vars.BACKSTOP_DRILL_NAME || 'prod-db' }}",
      );
      const jobs = jobsOf('restore-drill.yml');
      for (const [name, job] of Object.entries(jobs)) {
        const steps = job.steps ?? [];
        const plan = stepsUsing(job, 'restore-drill')[0];
        expect(plan?.with?.['plan-only'], name).toBe(true);
        expect(plan?.with?.['encryption-identity'], name).toBeUndefined();
        const drill = stepsUsing(job, 'restore-drill')[1];
        expect(String(drill?.with?.['backup-id']), name).toBe('${{ steps.plan.outputs.backup-id }}');
        expect(drill?.with).toMatchObject({ 'max-restore-seconds': 900 });
        const start = steps.findIndex((step) => /docker run/.test(step.run ?? ''));
        expect(start, name).toBeGreaterThan(steps.findIndex((step) => step.id === 'image'));
        expect(steps.indexOf(drill!), name).toBeGreaterThan(start);
        expect(job.services, name).toBeUndefined();
      }
      expect(String(stepsUsing(jobs.postgres, 'restore-drill')[1]?.with?.['pg-bin-dir'])).toContain(
        'steps.pg.outputs.bin-dir',
      );
      expect(stepsUsing(jobs.postgres, 'validate-integrity')).toHaveLength(1);
      expect(text).toContain('--env TIMESCALEDB_TELEMETRY=off');
      expect(text).toContain('pg_isready -h 127.0.0.1');
    },
  );

  it(
    'restore: dispatch only, exact targets, a gate before the environment, the restore role, pg_restore as new ' +
      "as the target and the backup's pg_dump",
    () => {
      const workflow = load('restore.yml');
      expect(Object.keys(workflow.on as Dict)).toEqual(['workflow_dispatch', 'workflow_call']);
      const inputs = ((workflow.on as Dict).workflow_dispatch as Dict).inputs as Record<string, Dict>;
      expect(Object.keys(inputs)).toEqual(
        expect.arrayContaining(['name', 'backup-id', 'target', 'confirm', 'privileges', 'approve']),
      );
      expect(inputs.target).toMatchObject({ type: 'choice' });
      expect(inputs.privileges).toMatchObject({ type: 'boolean', default: true });
      expect(workflow['run-name']).toMatch(/inputs\.name.*inputs\.backup-id.*inputs\.target/);
      const jobs = jobsOf('restore.yml');
      expect(jobs.restore?.environment).toBe('restore-${{ inputs.target }}');
      expect(jobs.restore?.needs).toBe('gate');
      expect(jobs.restore?.if).toBe("needs.gate.outputs.approved == 'true'");
      expect(jobs.gate?.permissions).toEqual({ actions: 'read' });
      const aws = jobs.restore?.steps?.find((step) => step.uses?.startsWith(AWS_CREDENTIALS));
      expect(aws?.with?.['role-to-assume']).toBe('${{ vars.BACKSTOP_AWS_RESTORE_ROLE_ARN }}');
      expect(script('restore.yml', 'restore', 'pg')).toContain('PG_DUMP_VERSION%%.*');
      const [, restore] = stepsUsing(jobs.restore, 'restore-drill');
      expect(restore?.with?.privileges).toBe('${{ inputs.privileges }}');
    },
  );

  it(
    'backup-freshness: every 6 hours, the RPOs from a variable, validate-integrity against a local empty ' +
      'database, a report that opens the failure issue, a heartbeat',
    () => {
      expect(scheduleOf('backup-freshness.yml')).toEqual(['53 */6 * * *']);
      const job = jobsOf('backup-freshness.yml').freshness;
      const [validate] = stepsUsing(job, 'validate-integrity');
      expect(validate?.with).toMatchObject({
        'storage-url': '${{ vars.BACKSTOP_STORAGE_URL }}',
        config: '${{ steps.config.outputs.path }}',
        'database-url': '${{ steps.local.outputs.url }}',
      });
      expect(script('backup-freshness.yml', 'freshness', 'local')).toContain('pg_isready -h 127.0.0.1');
    },
  );

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

describe("restore-drill.yml's drill image, from the plan's outputs", () => {
  const imageOf = (env: Record<string, string>) =>
    runScript(script('restore-drill.yml', 'postgres', 'image'), {
      ENGINE: 'postgres',
      MAJOR: '17',
      SERVER_VERSION: '17.4',
      EXTENSIONS: 'plpgsql',
      TIMESCALEDB: '',
      PROVIDER: '',
      OVERRIDE: '',
      SUPABASE_TAGS: 'http://127.0.0.1:1/unused',
      ...env,
    });

  it.each([
    [{}, 'postgres:17'],
    [{ MAJOR: '16', EXTENSIONS: 'plpgsql,vector' }, 'pgvector/pgvector:pg16'],
    [{ MAJOR: '18', EXTENSIONS: 'plpgsql,timescaledb', TIMESCALEDB: '2.24.0' }, 'timescale/timescaledb:2.24.0-pg18'],
    [{ OVERRIDE: 'ghcr.io/acme/postgres-with-postgis:17.4' }, 'ghcr.io/acme/postgres-with-postgis:17.4'],
  ])('%j → %s', async (env, image) => {
    const result = await imageOf(env);
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.image).toBe(image);
  });

  it('a Supabase source: the newest supabase/postgres tag of its version, else of its major', async () => {
    const tags = {
      results: ['15.8.1.085', '15.8.1.100', '15.8.1.100-orioledb', '15.6.1.146', '17.4.1.054'].map((name) => ({
        name,
      })),
    };
    const hub = await jsonServer({ '/tags': tags });
    try {
      const base = { PROVIDER: 'supabase', MAJOR: '15', SUPABASE_TAGS: `${hub.url}/tags` };
      const same = await imageOf({ ...base, SERVER_VERSION: '15.8' });
      expect(same.code, same.stdout).toBe(0);
      expect(same.outputs.image).toBe('supabase/postgres:15.8.1.100');
      const newer = await imageOf({ ...base, SERVER_VERSION: '15.12' });
      expect(newer.outputs.image).toBe('supabase/postgres:15.8.1.100');
      expect(hub.asked.at(-1)).toContain('/tags?page_size=100&name=15.');
    } finally {
      hub.close();
    }
  });

  it.each([
    [{ EXTENSIONS: 'timescaledb,vector', TIMESCALEDB: '2.24.0' }, /needs TimescaleDB 2\.24\.0 and pgvector/],
    [{ OVERRIDE: 'timescale/timescaledb:latest-pg17' }, /never a latest tag/],
    [{ OVERRIDE: 'postgres' }, /without a tag/],
    [{ ENGINE: 'qdrant', MAJOR: '' }, /No PostgreSQL backup to drill/],
    [{ PROVIDER: 'supabase' }, /Could not list the supabase\/postgres tags/],
  ])('%j fails: %s', async (env, message) => {
    const result = await imageOf(env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^::error::/m);
    expect(result.stdout).toMatch(message);
    expect(result.outputs.image).toBeUndefined();
  });

  it("the drill database: a fresh database beside the image's own for a Supabase source", async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-docker-'));
    const calls = path.join(bin, 'calls');
    // A docker that records its arguments, says the container runs and that the server is ready.
    fs.writeFileSync(
      path.join(bin, 'docker'),
      `#!/bin/sh\necho "$*" >> '${calls}'\n[ "$1" = inspect ] && echo true\nexit 0\n`,
      { mode: 0o755 },
    );
    try {
      const start = script('restore-drill.yml', 'postgres', 'db');
      const plain = await runScript(start, { IMAGE: 'postgres:17', PROVIDER: '' }, `${bin}:`);
      expect(plain.code, plain.stdout).toBe(0);
      expect(plain.outputs.url).toBe('postgresql://postgres:backstop-drill@127.0.0.1:5433/postgres');
      expect(fs.readFileSync(calls, 'utf8')).not.toContain('CREATE DATABASE');
      const supabase = await runScript(
        start,
        { IMAGE: 'supabase/postgres:15.8.1.100', PROVIDER: 'supabase' },
        `${bin}:`,
      );
      expect(supabase.code, supabase.stdout).toBe(0);
      expect(supabase.outputs.url).toBe('postgresql://postgres:backstop-drill@127.0.0.1:5433/backstop_drill');
      expect(fs.readFileSync(calls, 'utf8')).toMatch(/exec .*psql .*CREATE DATABASE backstop_drill/);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it('Qdrant: the version that made the snapshot, or a variable, never latest', async () => {
    const qdrant = script('restore-drill.yml', 'qdrant', 'image');
    const base = { ENGINE: 'qdrant', SERVER_VERSION: '1.19.0', OVERRIDE: '' };
    expect((await runScript(qdrant, base)).outputs.image).toBe('qdrant/qdrant:v1.19.0');
    expect((await runScript(qdrant, { ...base, OVERRIDE: 'qdrant/qdrant:v1.20.1' })).outputs.image).toBe(
      'qdrant/qdrant:v1.20.1',
    );
    const latest = await runScript(qdrant, { ...base, OVERRIDE: 'qdrant/qdrant:latest' });
    expect(latest.code).toBe(1);
    expect(latest.stdout).toContain('never latest');
  });

  it("end to end: restore-drill plan-only's outputs for a TimescaleDB backup pick the matching image", async () => {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-plan-'));
    try {
      const id = '20260118T030000Z-daily-3f9a';
      const folder = path.join(storage, 'tsdb', id);
      fs.mkdirSync(folder, { recursive: true });
      const manifest = {
        version: 1,
        id,
        name: 'tsdb',
        engine: 'postgres',
        kind: 'daily',
        createdAt: '2026-01-18T03:00:00.000Z',
        finishedAt: '2026-01-18T03:04:00.000Z',
        durationSeconds: 240,
        source: {
          serverVersion: '18.1',
          serverVersionNum: 180001,
          host: 'db.example.com',
          database: 'tsdb',
          extensions: [
            { name: 'plpgsql', version: '1.0' },
            { name: 'timescaledb', version: '2.24.0' },
          ],
          provider: 'timescale',
        },
        tool: { name: 'backstop', version: '0.1.0', pgDump: '18.1' },
        format: 'custom',
        encryption: null,
        // plan-only downloads nothing, so the file itself need not be there.
        files: [
          { path: 'postgres.dump.zst', bytes: 1, sha256: 'a'.repeat(64), compression: 'zstd', encryption: 'none' },
        ],
      };
      fs.writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
      const plan = await runAction('restore-drill', { 'storage-url': storage, name: 'tsdb', 'plan-only': 'true' });
      expect(plan.code, plan.stdout).toBe(0);
      expect(plan.outputs).toMatchObject({
        'timescaledb-version': '2.24.0',
        provider: 'timescale',
        'pg-dump-version': '18.1',
        'server-major': '18',
      });
      const image = await imageOf({
        ENGINE: plan.outputs.engine ?? '',
        MAJOR: plan.outputs['server-major'] ?? '',
        SERVER_VERSION: plan.outputs['server-version'] ?? '',
        EXTENSIONS: plan.outputs.extensions ?? '',
        TIMESCALEDB: plan.outputs['timescaledb-version'] ?? '',
        PROVIDER: plan.outputs.provider ?? '',
      });
      expect(image.outputs.image).toBe('timescale/timescaledb:2.24.0-pg18');
      // Without the extension and the provider, both outputs are empty.
      manifest.source.extensions = [{ name: 'plpgsql', version: '1.0' }];
      delete (manifest.source as { provider?: string }).provider;
      fs.writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
      const plain = await runAction('restore-drill', { 'storage-url': storage, name: 'tsdb', 'plan-only': 'true' });
      expect(plain.outputs['timescaledb-version']).toBe('');
      expect(plain.outputs.provider).toBe('');
    } finally {
      fs.rmSync(storage, { recursive: true, force: true });
    }
  });
});

describe('client tools: at least the newer of the server and the pg_dump that wrote the backup', () => {
  const installed = fs.existsSync('/usr/lib/postgresql')
    ? Math.max(0, ...fs.readdirSync('/usr/lib/postgresql').map(Number).filter(Number.isFinite))
    : 0;
  /** A sudo that records what it was asked to do instead of doing it. */
  function fakeSudo(): { dir: string; calls: () => string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-sudo-'));
    fs.writeFileSync(path.join(dir, 'sudo'), `#!/bin/sh\necho "$*" >> "${dir}/calls"\n`, { mode: 0o755 });
    return {
      dir,
      calls: () => (fs.existsSync(path.join(dir, 'calls')) ? fs.readFileSync(path.join(dir, 'calls'), 'utf8') : ''),
    };
  }

  it('installs nothing when the runner has a new enough client, and the pg_dump major when it is newer', async () => {
    const sudo = fakeSudo();
    try {
      const step = script('restore-drill.yml', 'postgres', 'pg');
      const enough = await runScript(
        step,
        { MAJOR: String(Math.max(installed, 10)), PG_DUMP_VERSION: '' },
        `${sudo.dir}:`,
      );
      expect(enough.code, enough.stdout).toBe(0);
      if (installed >= 10) expect(enough.outputs['bin-dir']).toBe(`/usr/lib/postgresql/${installed}/bin`);
      const newer = await runScript(step, { MAJOR: '15', PG_DUMP_VERSION: '99.1' }, `${sudo.dir}:`);
      expect(newer.code, newer.stdout).toBe(0);
      expect(newer.outputs['bin-dir']).toBe('/usr/lib/postgresql/99/bin');
      expect(sudo.calls()).toContain('apt-get install -y -qq postgresql-client-99');
      expect(newer.stdout).toContain('by pg_dump 99.1; client tools 99');
    } finally {
      fs.rmSync(sudo.dir, { recursive: true, force: true });
    }
  });
});

describe("backup-freshness.yml's RPO list", () => {
  const step = () => script('backup-freshness.yml', 'freshness', 'config');

  it('becomes a validate-integrity config with one backups entry per name', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-rpo-'));
    try {
      const result = await runScript(`${step()}\ncp "$RUNNER_TEMP/backstop-freshness.yml" "${work}/config.yml"`, {
        RPO_HOURS: 'prod-db=26, app-db=2\nqdrant-prod=26.5\n',
      });
      expect(result.code, result.stdout).toBe(0);
      const config = loadConfig(path.join(work, 'config.yml'), Origin.input('config'));
      expect(config.backups).toEqual([
        { name: 'prod-db', maxAgeHours: 26 },
        { name: 'app-db', maxAgeHours: 2 },
        { name: 'qdrant-prod', maxAgeHours: 26.5 },
      ]);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it.each([
    ['', /Variable BACKSTOP_RPO_HOURS is empty/],
    ['prod-db:26', /has 'prod-db:26', not name=hours/],
    ['prod-db=a day', /has 'prod-db=a', not name=hours/],
  ])('%j fails: %s', async (value, message) => {
    const result = await runScript(step(), { RPO_HOURS: value });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(message);
  });
});

describe("restore.yml's gate: two people decide on every plan", () => {
  const REPO = '/repos/acme/shop';
  const WORKFLOW = '.github/workflows/restore.yml';
  const TITLE = 'restore prod-db (newest) into staging';
  const run = (id: number, extra: Dict = {}) => ({
    id,
    path: WORKFLOW,
    event: 'workflow_dispatch',
    display_title: TITLE,
    conclusion: 'success',
    created_at: new Date(Date.now() - 3_600_000).toISOString(),
    triggering_actor: { login: 'alice' },
    ...extra,
  });
  const reviewers = (prevent: boolean) => ({
    name: 'restore-staging',
    protection_rules: [
      { id: 1, type: 'required_reviewers', prevent_self_review: prevent, reviewers: [{ type: 'User', reviewer: {} }] },
    ],
  });
  const unprotected = { name: 'restore-staging', protection_rules: [] };

  async function gate(routes: Record<string, unknown>, env: Record<string, string> = {}): Promise<ScriptRun> {
    const api = await jsonServer(routes);
    try {
      return await runScript(script('restore.yml', 'gate', 'gate'), {
        TARGET: 'staging',
        CONFIRM: 'staging',
        APPROVE: '',
        NAME: 'prod-db',
        BACKUP_ID: '',
        RESTORE_AS: '',
        PRIVILEGES: 'true',
        APPROVAL: '',
        ACTOR: 'bob',
        GH_TOKEN: 'ghs_token',
        GITHUB_API_URL: api.url,
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_RUN_ID: '200',
        ...env,
      });
    } finally {
      api.close();
    }
  }

  it('an environment whose reviewers may not approve their own runs: GitHub asks them', async () => {
    const result = await gate({ [`${REPO}/environments/restore-staging`]: reviewers(true) });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.approved).toBe('true');
  });

  it('no reviewers (private Free, Pro, Team): a request, nothing restored, the approval command in the summary', async () => {
    for (const environment of [unprotected, reviewers(false)]) {
      const result = await gate({ [`${REPO}/environments/restore-staging`]: environment });
      expect(result.code, result.stdout).toBe(0);
      expect(result.outputs.approved).toBe('false');
      expect(result.summary).toContain('Restore requested by @bob');
      expect(result.summary).toContain(
        "gh workflow run restore.yml -f name='prod-db' -f backup-id='' -f target='staging' -f confirm='staging' " +
          '-f approve=200',
      );
    }
  });

  it('a restore without privileges asks the second person for exactly that', async () => {
    const result = await gate({ [`${REPO}/environments/restore-staging`]: unprotected }, { PRIVILEGES: 'false' });
    expect(result.code, result.stdout).toBe(0);
    expect(result.summary).toContain("-f confirm='staging' -f privileges=false -f approve=200");
    expect(load('restore.yml')['run-name']).toContain("!inputs.privileges && ' without privileges'");
  });

  it('a second person approves the request with its run id', async () => {
    const routes = {
      [`${REPO}/environments/restore-staging`]: unprotected,
      [`${REPO}/actions/runs/200`]: run(200, { triggering_actor: { login: 'bob' }, conclusion: null }),
      [`${REPO}/actions/runs/150`]: run(150),
    };
    const result = await gate(routes, { APPROVE: '150' });
    expect(result.code, result.stdout).toBe(0);
    expect(result.outputs.approved).toBe('true');
    expect(result.stdout).toContain('@bob approves the restore @alice requested in run 150');
  });

  it.each([
    ['the same person', run(150, { triggering_actor: { login: 'bob' } }), /dispatched by @bob too/],
    [
      'another restore',
      run(150, { display_title: 'restore prod-db (newest) into prod-recovery' }),
      /requested 'restore/,
    ],
    ['another workflow', run(150, { path: '.github/workflows/nightly-backup.yml' }), /is not a dispatched run of/],
    ['an old request', run(150, { created_at: '2020-01-01T00:00:00Z' }), /more than 24/],
    ['a failed request', run(150, { conclusion: 'failure' }), /has not finished successfully/],
  ])('refuses %s', async (_what, request, message) => {
    const result = await gate(
      {
        [`${REPO}/environments/restore-staging`]: unprotected,
        [`${REPO}/actions/runs/200`]: run(200, { triggering_actor: { login: 'bob' } }),
        [`${REPO}/actions/runs/150`]: request,
      },
      { APPROVE: '150' },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(message);
    expect(result.outputs.approved).toBeUndefined();
  });

  it('refuses a missing environment (GitHub would create it unprotected), a wrong confirm and a bad run id', async () => {
    const missing = await gate({});
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/Environment restore-staging does not exist/);
    const typo = await gate({ [`${REPO}/environments/restore-staging`]: reviewers(true) }, { CONFIRM: 'stagin' });
    expect(typo.code).toBe(1);
    expect(typo.stdout).toMatch(/confirm \('stagin'\) does not equal target/);
    const bad = await gate({ [`${REPO}/environments/restore-staging`]: unprotected }, { APPROVE: 'yes' });
    expect(bad.stdout).toMatch(/approve is 'yes', not a run id/);
  });

  it("called from another repository: the approval command names the caller's workflow file", async () => {
    const result = await gate(
      { [`${REPO}/environments/restore-staging`]: unprotected },
      { GITHUB_WORKFLOW_REF: 'acme/shop/.github/workflows/backstop.yml@refs/heads/main' },
    );
    expect(result.code, result.stdout).toBe(0);
    expect(result.summary).toContain("gh workflow run backstop.yml -f name='prod-db'");
  });

  it('refuses an approval when the run title does not name this restore (a caller without the run-name)', async () => {
    const routes = {
      [`${REPO}/environments/restore-staging`]: unprotected,
      [`${REPO}/actions/runs/200`]: run(200, { triggering_actor: { login: 'bob' }, display_title: 'backstop' }),
      [`${REPO}/actions/runs/150`]: run(150, { display_title: 'backstop' }),
    };
    const result = await gate(routes, { APPROVE: '150' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "This run's title is 'backstop', not 'restore prod-db (newest) into staging': the workflow that calls",
    );
    expect(result.outputs.approved).toBeUndefined();
  });

  it('one-person mode is a choice the variable states, and it says so', async () => {
    const result = await gate({ [`${REPO}/environments/restore-staging`]: unprotected }, { APPROVAL: 'one-person' });
    expect(result.code).toBe(0);
    expect(result.outputs.approved).toBe('true');
    expect(result.stdout).toContain('::warning title=One-person restore::');
  });

  it('asks with the workflow token', async () => {
    const api = await jsonServer({ [`${REPO}/environments/restore-staging`]: reviewers(true) });
    try {
      await runScript(script('restore.yml', 'gate', 'gate'), {
        TARGET: 'staging',
        CONFIRM: 'staging',
        GH_TOKEN: 'ghs_token',
        GITHUB_API_URL: api.url,
        GITHUB_REPOSITORY: 'acme/shop',
        GITHUB_RUN_ID: '200',
        APPROVE: '',
        APPROVAL: '',
        ACTOR: 'bob',
        NAME: 'prod-db',
        BACKUP_ID: '',
        RESTORE_AS: '',
      });
      expect(api.asked).toEqual([`Bearer ghs_token ${REPO}/environments/restore-staging`]);
    } finally {
      api.close();
    }
  });
});

describe('checkWorkflow catches', () => {
  const FAKE: Record<string, ActionMeta> = {
    'dump-postgres': {
      inputs: { 'database-url': { required: true }, name: { required: true }, kind: { default: 'manual' } },
      outputs: { 'backup-id': {} },
    },
    report: {
      inputs: {
        name: { required: true },
        status: {},
        'keep-alive': { default: 'false' },
        'heartbeat-url': {},
        ping: { default: 'end' },
      },
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

  it('node24: a pin whose action.yml says node20, and a pin missing from the table, are refused', () => {
    const text = (pin: string) =>
      `on: push\npermissions: {}\njobs:\n  j:\n    timeout-minutes: 1\n    steps:\n      - uses: ${pin}\n`;
    const old = 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683';
    const runtimes = { [old]: { version: 'v4.2.2', using: 'node20' } };
    expect(checkWorkflow(text(`${old} # v4.2.2`), actions, { runtimes })).toEqual([
      { rule: 'node24', message: `job j: ${old} (v4.2.2) runs on node20: pin a release on node24` },
    ]);
    expect(checkWorkflow(text(`${old} # v4.2.2`), actions, { runtimes: {} }).map((p) => p.message)).toEqual([
      expect.stringMatching(/is not in \.github\/action-runtimes\.json: run npm run action-runtimes/),
    ]);
    const current = 'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1';
    expect(checkWorkflow(text(`${current} # v7.0.1`), actions)).toEqual([]);
  });

  it("reusable: ./actions in a workflow_call workflow (the caller's checkout), an untyped input, another ref", () => {
    const text = `
on:
  workflow_call:
    inputs:
      name:
        description: no type
permissions: {}
jobs:
  j:
    timeout-minutes: 1
    steps:
      - uses: ./actions/prune-backups
      - uses: ${REPOSITORY}/actions/prune-backups@main
`;
    expect(checkWorkflow(text, () => ({ inputs: {}, outputs: {} })).filter((p) => p.rule === 'reusable')).toEqual([
      { rule: 'reusable', message: expect.stringMatching(/input "name" has no type/) },
      {
        rule: 'reusable',
        message: `job j: ./actions/prune-backups would resolve in the caller's checkout: use ${REPOSITORY}/actions/prune-backups@v1`,
      },
      { rule: 'reusable', message: expect.stringMatching(/prune-backups@main is not .*\/actions\/<name>@v1/) },
    ]);
  });

  it('calls: unknown and missing inputs, undeclared and missing secrets, permissions short of the called jobs', () => {
    const called = `
on:
  workflow_call:
    inputs:
      name: { type: string, required: true }
    secrets:
      KEY: { required: true }
permissions: {}
jobs:
  a:
    timeout-minutes: 1
    permissions: { contents: read, id-token: write }
    steps:
      - run: echo
`;
    const caller = `
on: workflow_dispatch
permissions: {}
jobs:
  call:
    uses: ${REPOSITORY}/.github/workflows/called.yml@v1
    permissions: { contents: read }
    with:
      nme: x
    secrets:
      OTHER: \${{ secrets.OTHER }}
  missing:
    uses: ./.github/workflows/nowhere.yml
`;
    const loadWorkflow = (file: string) => (file === 'called.yml' ? called : undefined);
    const identity = caller.replace('OTHER: ${{ secrets.OTHER }}', 'BACKSTOP_AGE_IDENTITY: ${{ secrets.X }}');
    expect(checkWorkflow(identity, actions, { loadWorkflow }).map((p) => p.message)).toContain(
      'job call passes BACKSTOP_AGE_IDENTITY to called.yml, which does not restore',
    );
    expect(checkWorkflow(caller, actions, { loadWorkflow }).map((p) => `${p.rule}: ${p.message}`)).toEqual([
      'calls: job call: called.yml has no input "nme"',
      'calls: job call: called.yml needs input "name"',
      'calls: job call: called.yml declares no secret OTHER (pass it or use inherit)',
      'calls: job call: called.yml needs secret KEY',
      'calls: job call: job a of called.yml asks id-token: write, this job grants none',
      'calls: job missing: ./.github/workflows/nowhere.yml is not a reusable workflow of this repository (no on: workflow_call)',
    ]);
    const fixed = caller
      .replace('nme: x', 'name: x')
      .replace('OTHER: ${{ secrets.OTHER }}', 'KEY: ${{ secrets.KEY }}')
      .replace('{ contents: read }', '{ contents: read, id-token: write }')
      .replace(/ {2}missing:\n.*\n/, '');
    expect(checkWorkflow(fixed, actions, { loadWorkflow })).toEqual([]);
  });

  it('a Backstop job without a report step, outside pull requests', () => {
    const job =
      `permissions: {}\njobs:\n  j:\n    timeout-minutes: 1\n    steps:\n      - uses: ` +
      `./actions/dump-postgres\n        with:\n          database-url: x\n          name: y\n`;
    expect(checkWorkflow(`on: workflow_dispatch\n${job}`, actions).map((problem) => problem.rule)).toEqual([
      'report-steps',
    ]);
    expect(checkWorkflow(`on: pull_request\n${job}`, actions)).toEqual([]);
  });
  describe('on real runners', () => {
    const RESTORE_DRILL: ActionMeta = { inputs: { name: { required: true } }, outputs: { 'backup-id': {} } };
    const withDrill: ActionLoader = (name) => (name === 'restore-drill' ? RESTORE_DRILL : actions(name));
    const RUNNER_BAD = `
on:
  schedule:
    - cron: '0 3 * * *'
    - cron: '*/15 * * * *'
    - cron: '7 3 * * *'
permissions: {}
concurrency:
  group: drills
  cancel-in-progress: false
jobs:
  drill:
    runs-on: ubuntu-24.04
    timeout-minutes: 240
    permissions:
      contents: read
      id-token: write
      issues: write
      actions: read
    services:
      postgres:
        image: timescale/timescaledb:latest-pg16
        options: --health-cmd "pg_isready -U postgres"
      qdrant:
        image: qdrant/qdrant:v1.19.0
    steps:
      - uses: aws-actions/configure-aws-credentials@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0
        with:
          role-to-assume: arn
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - run: docker run -d --publish 127.0.0.1:5433:5432 postgres:16
      - id: drill
        uses: ./actions/restore-drill
        with:
          name: x
      - uses: ./actions/report
        if: always()
        with:
          name: x
          status: \${{ job.status }}
`;
    const problems = checkWorkflow(RUNNER_BAD, withDrill);
    const runnerExpected: [Rule, RegExp][] = [
      ['schedule-minute', /cron '0 3 \* \* \*' fires at minute 0: use an odd minute, e\.g\. '17 3 \* \* \*'/],
      ['schedule-minute', /cron '\*\/15 \* \* \* \*' fires at minute 0/],
      ['credential-duration', /role-duration-seconds 3600 is shorter than timeout-minutes 240 \(14400 s\)/],
      ['report-independent', /job drill has services or a container/],
      ['report-independent', /the first step is not actions\/checkout/],
      ['drill-image', /service qdrant has the fixed image qdrant\/qdrant:v1\.19\.0/],
      ['drill-image', /the drill image timescale\/timescaledb:latest-pg16 is a latest tag/],
      ['drill-image', /the drill image postgres:16 is fixed/],
      ['pg-isready', /"pg_isready -U postgres" checks the socket/],
      ['heartbeat', /the report step has no heartbeat-url from a secret/],
    ];

    it.each(runnerExpected)('%s: %s', (rule, message) => {
      expect(problems.filter((problem) => problem.rule === rule).map((problem) => problem.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(message)]),
      );
    });

    it('an odd minute, a role that outlasts the job and databases from the plan pass', () => {
      expect(problems.filter((problem) => problem.message.includes("'7 3 * * *'"))).toEqual([]);
      const good = RUNNER_BAD.replace(/ {4}services:[\s\S]*? {4}steps:\n/, '    steps:\n')
        .replace(
          '          role-to-assume: arn',
          '          role-to-assume: arn\n          role-duration-seconds: 14400',
        )
        .replace(
          /( {6}- uses: aws-actions[^\n]*\n[^\n]*\n[^\n]*\n[^\n]*\n)( {6}- uses: actions\/checkout[^\n]*\n)/,
          '$2$1',
        )
        .replace('postgres:16', '"$IMAGE"');
      const rules = checkWorkflow(good, withDrill).map((problem) => problem.rule);
      for (const rule of ['credential-duration', 'report-independent', 'drill-image', 'pg-isready'] as const)
        expect(rules, rule).not.toContain(rule);
    });

    it('role-duration-seconds from an expression cannot be checked, and is reported', () => {
      const text = RUNNER_BAD.replace(
        '          role-to-assume: arn',
        '          role-to-assume: arn\n          role-duration-seconds: ${{ vars.SECONDS }}',
      );
      expect(checkWorkflow(text, withDrill).map((problem) => problem.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(/must be numbers to be compared/)]),
      );
    });

    const heartbeatJob = (steps: string) => `
on:
  schedule:
    - cron: '7 3 * * *'
permissions: {}
concurrency: backups
jobs:
  j:
    timeout-minutes: 5
    permissions:
      contents: read
      issues: write
      actions: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
${steps}
      - uses: ./actions/report
        if: always()
        with:
          name: y
          status: \${{ job.status }}
          heartbeat-url: \${{ secrets.HB }}
`;
    const start = (url: string) =>
      `      - uses: ./actions/report\n        with:\n          name: y\n          ping: start\n          heartbeat-url: ${url}\n`;
    const dump = '      - uses: ./actions/dump-postgres\n        with:\n          database-url: x\n          name: y\n';
    const heartbeatProblems = (steps: string) =>
      checkWorkflow(heartbeatJob(steps), withDrill)
        .filter((problem) => problem.rule === 'heartbeat')
        .map((problem) => problem.message);

    it('heartbeat: a start ping with the same secret before the first Backstop step, or it is reported', () => {
      expect(heartbeatProblems(start('${{ secrets.HB }}') + dump)).toEqual([]);
      expect(heartbeatProblems(dump)).toEqual([
        expect.stringMatching(/no ping: start step with the same heartbeat-url/),
      ]);
      expect(heartbeatProblems(dump + start('${{ secrets.HB }}'))).toHaveLength(1);
      expect(heartbeatProblems(start('${{ secrets.OTHER }}') + dump)).toHaveLength(1);
      const plain = heartbeatJob(start('https://hc-ping.com/x') + dump).replace(
        'heartbeat-url: ${{ secrets.HB }}',
        'heartbeat-url: https://hc-ping.com/x',
      );
      expect(checkWorkflow(plain, withDrill).map((problem) => problem.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(/no heartbeat-url from a secret/)]),
      );
      // A start ping is not the job's report: it need not be last, nor have a status.
      expect(
        checkWorkflow(heartbeatJob(start('${{ secrets.HB }}') + dump), withDrill).filter(
          (problem) => problem.rule === 'issues-write',
        ),
      ).toEqual([]);
    });
  });
});
