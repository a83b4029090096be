import * as core from '@actions/core';
import os from 'node:os';
import { errorMessage } from './errors.ts';
import type { InputSpecs } from './input-reader.ts';
import { recordableInputs, writeStepRecord } from './steps.ts';

/**
 * Everything an action touches of its host. The GitHub runner and the CLI each implement it, so every action's
 * run() is the same code in a workflow and in a terminal at 3 a.m.
 */
export interface Runtime {
  /** The raw value of an input ('' when unset). Read it through InputReader, never directly. */
  getInput(name: string): string;
  setOutput(name: string, value: string | number | boolean): void;
  info(message: string): void;
  /** Worth a reader's attention but not a problem (GitHub shows it as a notice annotation). */
  notice(message: string): void;
  warning(message: string): void;
  /** Registers a secret: masked by the runner, and redacted by the CLI from everything it prints. */
  setSecret(secret: string): void;
  /** Replaces every registered secret in a text (for messages that leave the process by other paths). */
  redact(text: string): string;
  writeSummary(markdown: string): Promise<void>;
  /** A folder for scratch files that the host cleans up (RUNNER_TEMP on GitHub). */
  readonly tempDir: string;
}

export type ActionRun = (runtime: Runtime) => Promise<void>;

/** Secrets shorter than this are not redacted from text: masking "a" would mangle every line. */
const MIN_REDACTED_LENGTH = 4;

export class SecretRegistry {
  private readonly secrets = new Set<string>();

  add(secret: string): boolean {
    if (secret.length < MIN_REDACTED_LENGTH || this.secrets.has(secret)) return false;
    this.secrets.add(secret);
    return true;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a URL is replaced whole before the password inside it.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
    return out;
  }
}

export function githubRuntime(): Runtime {
  const secrets = new SecretRegistry();
  return {
    getInput: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, String(value)),
    info: (message) => core.info(secrets.redact(message)),
    notice: (message) => core.notice(secrets.redact(message)),
    warning: (message) => core.warning(secrets.redact(message)),
    setSecret: (secret) => {
      if (secrets.add(secret)) core.setSecret(secret);
    },
    redact: (text) => secrets.redact(text),
    writeSummary: async (markdown) => {
      if (!process.env.GITHUB_STEP_SUMMARY) return;
      await core.summary.addRaw(secrets.redact(markdown), true).write();
    },
    tempDir: process.env.RUNNER_TEMP || os.tmpdir(),
  };
}

/** Which action is running, so its step can leave a record for the job's report step. */
export interface StepIdentity {
  action: string;
  inputs: InputSpecs;
}

/**
 * The whole of an action's dist entry: run, turn any error into one failed line, and leave a step record for the
 * report step of the same job (actions/report), which turns failures into issues.
 */
export async function runAsGitHubAction(run: ActionRun, step?: StepIdentity): Promise<void> {
  const runtime = githubRuntime();
  const summaries: string[] = [];
  const recording: Runtime = {
    ...runtime,
    writeSummary: async (markdown) => {
      summaries.push(runtime.redact(markdown));
      await runtime.writeSummary(markdown);
    },
  };
  let error: string | undefined;
  try {
    await run(recording);
  } catch (caught) {
    error = runtime.redact(errorMessage(caught));
    core.setFailed(error);
  }
  if (step && process.env.RUNNER_TEMP) await recordStep(runtime, step, summaries, error);
}

async function recordStep(runtime: Runtime, step: StepIdentity, summaries: string[], error: string | undefined): Promise<void> {
  const { inputs, secretInputs } = recordableInputs(step.inputs, (name) => runtime.getInput(name));
  for (const name of Object.keys(inputs)) inputs[name] = runtime.redact(inputs[name]!);
  try {
    await writeStepRecord(runtime.tempDir, {
      action: step.action,
      ok: error === undefined,
      ...(error === undefined ? {} : { error }),
      summary: summaries.join('\n'),
      inputs,
      secretInputs,
      finishedAt: new Date().toISOString(),
    });
  } catch (caught) {
    // The step's own result stands; only the report loses its detail.
    runtime.warning(`Could not leave a step record for the report step: ${errorMessage(caught)}`);
  }
}
