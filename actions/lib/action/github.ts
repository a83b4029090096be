import * as core from '@actions/core';
import type { ActionDescriptor } from './descriptor.ts';
import { runContext, type RunContext } from './env.ts';
import { exitCleanlyOnSignals, interrupted } from '../interrupt.ts';
import { errorMessage, InputProblems } from './errors.ts';
import { SecretRegistry, type Runtime } from './runtime.ts';
import { recordableInputs, writeStepRecord } from './steps.ts';

/** The runtime port on a GitHub runner: @actions/core for inputs, outputs, annotations, masks and the summary. */
export function githubRuntime(context: RunContext): Runtime {
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
      if (!context.stepSummaryFile) return;
      await core.summary.addRaw(secrets.redact(markdown), true).write();
    },
    context,
  };
}

/**
 * The whole of an action's dist entry: run, turn any error into one failed line, and leave a step record for the
 * report step of the same job (actions/report), which turns failures into issues.
 */
export async function runAsGitHubAction(action: ActionDescriptor): Promise<void> {
  const runtime = githubRuntime(runContext(process.env));
  exitCleanlyOnSignals(
    { error: (line) => core.error(runtime.redact(line)), info: (line) => core.info(runtime.redact(line)) },
    `running ${action.name}`,
  );
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
    await action.run(recording);
  } catch (caught) {
    // Cut short by a signal: the interrupt's own line says what happened, and the process exits with its code.
    if (interrupted()) return;
    error = runtime.redact(errorMessage(caught));
    // Several bad inputs: an annotation for each.
    for (const line of caught instanceof InputProblems ? caught.problems : [errorMessage(caught)])
      core.setFailed(runtime.redact(line));
  }
  if (runtime.context.runnerTemp) await recordStep(runtime, action, summaries, error);
}

async function recordStep(
  runtime: Runtime,
  action: ActionDescriptor,
  summaries: string[],
  error: string | undefined,
): Promise<void> {
  const { inputs, secretInputs } = recordableInputs(action.inputs, (name) => runtime.getInput(name));
  for (const name of Object.keys(inputs)) inputs[name] = runtime.redact(inputs[name]!);
  try {
    await writeStepRecord(runtime.context.tempDir, {
      action: action.name,
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
