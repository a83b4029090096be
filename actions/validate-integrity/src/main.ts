import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError, VerificationError } from '../../lib/action/errors.ts';
import { runIntegrity } from '../../lib/integrity/run.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { readInputs } from './inputs.ts';
import { integritySummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type ValidateIntegrityOutput = 'passed' | 'failures' | 'report-path';

/** validate-integrity: inputs → the checks → a JSON report, outputs, summary; fail-on decides the exit status. */
export async function run(runtime: Runtime<ValidateIntegrityOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  const results = await runIntegrity({
    ...inputs,
    repository: { s3: runtime.context.s3, s3Credentials: runtime.context.awsCredentials },
    log: (line) => runtime.info(line),
  });
  const failures = results.filter((r) => r.status === 'fail' || (inputs.failOn === 'warning' && r.status === 'warn'));
  const passed = inputs.failOn === 'never' || failures.length === 0;
  const where = inputs.database.display + (inputs.compare ? ` vs ${inputs.compare.display}` : '');
  const report = {
    version: 1,
    generatedAt: new Date().toISOString(),
    database: inputs.database.display,
    compare: inputs.compare?.display ?? null,
    passed,
    checks: results,
  };
  await writeReport(inputs.reportPath, runtime.redact(`${JSON.stringify(report, null, 2)}\n`));
  runtime.setOutput('passed', passed);
  runtime.setOutput('failures', failures.length);
  runtime.setOutput('report-path', path.resolve(inputs.reportPath));
  for (const result of results)
    runtime.info(`${result.status.toUpperCase().padEnd(4)} ${result.name}: ${result.finding}`);
  await runtime.writeSummary(integritySummary(results, failures.length === 0, where));
  if (!passed)
    throw new VerificationError(
      `${failures.length} integrity check(s) failed: ${failures.map((f) => `${f.name}: ${f.finding}`).join(' | ')}`,
    );
}

/** The JSON report; a folder that refuses it is named with the OS error, not as a bare EROFS. */
async function writeReport(file: string, text: string): Promise<void> {
  try {
    await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
    await fs.writeFile(file, text);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (!code) throw error;
    // Node's message is "EROFS: read-only file system, open '/path'": the words between the code and the syscall.
    const words = message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '');
    throw new ConfigurationError(
      `Cannot write the integrity report to ${path.resolve(file)} (${code}: ${words}): set input "report-path" to ` +
        "a file in a folder this job may write to (the default is in the runner's temp folder).",
    );
  }
}
