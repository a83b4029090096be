import fs from 'node:fs/promises';
import path from 'node:path';
import type { InputSpecs } from './descriptor.ts';

/**
 * What one Backstop step of a job leaves behind for the job's report step: whether it worked, its one-line error,
 * its summary and how to run it again from a shell. Steps of one job share RUNNER_TEMP, so the report step (the last
 * of the job, `if: always()`) reads them there; GitHub gives a step no other way to read an earlier step's summary.
 */
export interface StepRecord {
  action: string;
  ok: boolean;
  /** The failure's one line, secrets already redacted. */
  error?: string;
  /** The step's job summary (redacted, as the runner shows it). */
  summary: string;
  /** Inputs that were set and are not secrets: enough to rebuild the command. */
  inputs: Record<string, string>;
  /** Names of the secret inputs that were set: the command takes them from BACKSTOP_<NAME> variables. */
  secretInputs: string[];
  finishedAt: string;
}

const STEPS_FOLDER = 'backstop-steps';

export function stepsFolder(tempDir: string): string {
  return path.join(tempDir, STEPS_FOLDER);
}

export async function writeStepRecord(tempDir: string, record: StepRecord): Promise<void> {
  const folder = stepsFolder(tempDir);
  await fs.mkdir(folder, { recursive: true });
  // Time first so a plain sort is the order the steps ran in; the action name keeps two same-ms steps apart.
  const file = path.join(folder, `${record.finishedAt.replace(/[:.]/g, '-')}-${record.action}-${process.pid}.json`);
  await fs.writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** Every record this job's steps left, in the order they finished (none when no Backstop step ran). */
export async function readStepRecords(tempDir: string): Promise<StepRecord[]> {
  const folder = stepsFolder(tempDir);
  const files = (await fs.readdir(folder).catch(() => [] as string[])).filter((file) => file.endsWith('.json')).sort();
  const records: StepRecord[] = [];
  for (const file of files) records.push(JSON.parse(await fs.readFile(path.join(folder, file), 'utf8')) as StepRecord);
  return records;
}

/** Splits the inputs a step was given into the ones safe to repeat in an issue and the names of the secret ones. */
export function recordableInputs(
  specs: InputSpecs,
  inputValue: (name: string) => string,
): Pick<StepRecord, 'inputs' | 'secretInputs'> {
  const inputs: Record<string, string> = {};
  const secretInputs: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const value = inputValue(name);
    if (!value) continue;
    if (spec.secret) secretInputs.push(name);
    else inputs[name] = value;
  }
  return { inputs, secretInputs };
}
