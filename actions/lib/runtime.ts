import * as core from '@actions/core';
import os from 'node:os';
import { errorMessage } from './errors.ts';

/**
 * Everything an action touches of its host. The GitHub runner and the CLI each implement it, so every action's
 * run() is the same code in a workflow and in a terminal at 3 a.m.
 */
export interface Runtime {
  /** The raw value of an input ('' when unset). Read it through InputReader, never directly. */
  getInput(name: string): string;
  setOutput(name: string, value: string | number | boolean): void;
  info(message: string): void;
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

/** The whole of an action's dist entry: run, and turn any error into one failed line. */
export async function runAsGitHubAction(run: ActionRun): Promise<void> {
  const runtime = githubRuntime();
  try {
    await run(runtime);
  } catch (error) {
    core.setFailed(runtime.redact(errorMessage(error)));
  }
}
