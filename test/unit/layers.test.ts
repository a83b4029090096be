import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const configFile = path.join(repoRoot, '.dependency-cruiser.cjs');
const fixtureRoot = path.join(repoRoot, 'test/fixtures/layers');

let options: ICruiseOptions;
let tsConfigFile: string;

/** Cruises `actions/` under `baseDir` with the repository's own rules, as `npm run lint:layers` does. */
async function cruiseActions(baseDir: string): Promise<ICruiseResult> {
  const result = await cruise(
    ['actions'],
    { ...options, baseDir, tsConfig: { fileName: tsConfigFile } },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  if (typeof result.output === 'string') throw new Error(`expected a cruise result, got text: ${result.output}`);
  return result.output;
}

/** One violation as a line a reader can act on: the rule, then the import (or the whole cycle) that breaks it. */
function describeViolation(violation: IViolation): string {
  const chain = violation.cycle
    ? [violation.from, ...violation.cycle.map((step) => step.name)]
    : [violation.from, violation.to];
  return `${violation.rule.name}: ${chain.join(' → ')}`;
}

beforeAll(async () => {
  options = await extractDepcruiseOptions(configFile);
  // The config names the tsconfig relative to the repository; the fixture cruise runs from another folder.
  const tsConfigName = options.tsConfig?.fileName;
  if (!tsConfigName) throw new Error(`${configFile} names no tsConfig: the .ts imports would be read without it`);
  tsConfigFile = path.join(repoRoot, tsConfigName);
});

describe('the house rules in .dependency-cruiser.cjs', () => {
  it('hold for everything under actions/', async () => {
    const { summary } = await cruiseActions(repoRoot);
    // A config that resolves nothing would pass every rule: make sure the cruise saw the real graph.
    expect(summary.totalCruised).toBeGreaterThan(50);
    expect(summary.totalDependenciesCruised).toBeGreaterThan(100);
    expect(summary.violations.map(describeViolation).sort()).toEqual([]);
  });

  it('report each break in the fixture house, and only the breaks', async () => {
    const { summary } = await cruiseActions(fixtureRoot);
    // The fixture's allowed edges (storage → node and @aws-sdk, action → storage and root files, engine → pg/ and
    // its own room, an action's src → lib) must stay quiet, so the list is exact.
    expect(summary.violations.map(describeViolation).sort()).toEqual([
      'action-port-stays-thin: actions/lib/action/runtime.ts → actions/lib/pipeline/backup.ts',
      'catalog-knows-no-engine: actions/lib/catalog/rows.ts → actions/lib/postgres/connection.ts',
      'engines-stay-apart: actions/lib/ticks/copy.ts → actions/lib/postgres/connection.ts',
      'foundation-knows-no-engine: actions/lib/crypto/age.ts → actions/lib/qdrant/client.ts',
      'imports-resolve: actions/lib/qdrant/recover.ts → ./missing.ts',
      'lib-never-imports-an-action: actions/lib/manifest/ids.ts → actions/dump-postgres/src/inputs.ts',
      'no-circular: actions/lib/report/issues.ts → actions/lib/report/steps.ts → actions/lib/report/issues.ts',
      'pg-knows-no-engine: actions/lib/pg/tools.ts → actions/lib/qdrant/client.ts',
      'storage-is-ground-floor: actions/lib/storage/index.ts → actions/lib/manifest/schema.ts',
    ]);
  });

  it('are each exercised by the fixture house', async () => {
    const { summary } = await cruiseActions(fixtureRoot);
    const broken = new Set(summary.violations.map((violation) => violation.rule.name));
    const defined = (options.ruleSet?.forbidden ?? []).map((rule) => rule.name);
    expect(defined.length).toBeGreaterThan(0);
    expect(defined.filter((name) => !broken.has(name ?? ''))).toEqual([]);
  });
});
