import type { Runtime } from '../../lib/action/runtime.ts';
import { migrateTicks } from '../../lib/ticks/migrate.ts';
import { readInputs } from './inputs.ts';
import { migrationSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type MigrateTicksOutput = 'rows-copied' | 'chunks-copied' | 'chunks-skipped' | 'rows-per-second' | 'verified';

/** migrate-ticks: inputs → one library call → outputs and summary. */
export async function run(runtime: Runtime<MigrateTicksOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  const result = await migrateTicks({
    ...inputs,
    log: (line) => runtime.info(line),
    warn: (line) => runtime.warning(line),
  });
  runtime.setOutput('rows-copied', result.rowsCopied);
  runtime.setOutput('chunks-copied', result.copied.length);
  runtime.setOutput('chunks-skipped', result.skipped);
  runtime.setOutput('rows-per-second', result.seconds > 0 ? Math.round(result.rowsCopied / result.seconds) : 0);
  runtime.setOutput('verified', !result.dryRun && result.verified);
  await runtime.writeSummary(migrationSummary(result));
}
