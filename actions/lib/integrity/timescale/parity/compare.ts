import { errorMessage } from '../../../action/errors.ts';
import { fail, type CheckResult } from '../../check.ts';
import { readCatalog, type AggregateShape, type TimescaleCatalog } from './catalog.ts';
import { compareAggregateContent } from './content.ts';
import { compareJobs } from './jobs.ts';
import { compareAggregateDefinitions, compareCompression, compareExtension, compareHypertables } from './shape.ts';
import type { Sides } from './words.ts';

/** The config's say over the comparison (`timescaledb-parity`). */
export interface TimescaleParitySettings {
  /** false: never compared; true: compared, and a side without TimescaleDB fails; unset: when both sides have it. */
  enabled?: boolean;
  /** The continuous aggregates whose rows are compared (schema.name, or a name in public); default: all of them. */
  aggregates?: string[];
}

const NAME = 'timescaledb parity';

/**
 * TimescaleDB between two databases (a restore, a migration target, a replica): the extension's version, the
 * hypertables, their columnstore settings, the continuous aggregates' definitions and then their rows, and the
 * jobs. The tables themselves, hypertables included, are compared by the row counts and content parity checks.
 */
export async function compareTimescale(
  sides: Sides,
  settings: TimescaleParitySettings,
  log: (line: string) => void,
): Promise<CheckResult[]> {
  if (settings.enabled === false) return [];
  const [a, b] = await Promise.all(sides.map((side) => readCatalog(side.client)));
  if (!a || !b) {
    const without = sides.filter((_, index) => ![a, b][index]).map((side) => side.label);
    const lacking = `${without.join(' and ')} ${without.length === 1 ? 'has' : 'have'} no timescaledb extension`;
    if (settings.enabled === undefined && settings.aggregates === undefined) {
      if (a || b) log(`${NAME}: not compared, ${lacking}`);
      return [];
    }
    return [fail(NAME, `${lacking}, and the config asks for the comparison (timescaledb-parity)`)];
  }
  const catalogs: [TimescaleCatalog, TimescaleCatalog] = [a, b];
  const results = [
    compareExtension(sides, catalogs),
    compareHypertables(sides, catalogs),
    compareCompression(sides, catalogs),
    compareAggregateDefinitions(sides, catalogs),
  ];
  const { compared, unknown } = aggregatesToCompare(catalogs, settings.aggregates);
  for (const view of unknown) {
    results.push(
      fail(
        `${NAME}: continuous aggregate ${view}`,
        `no continuous aggregate ${view} in ${sides[0].label} nor ${sides[1].label}: check ` +
          'timescaledb-parity.aggregates in the config',
      ),
    );
  }
  for (const aggregate of compared) results.push(await guarded(sides, aggregate));
  results.push(compareJobs(sides, catalogs));
  return results;
}

/**
 * The aggregates both sides have with the same columns (any other difference is the definitions check's finding),
 * limited to the config's list; the names on that list that neither side has.
 */
function aggregatesToCompare(
  catalogs: [TimescaleCatalog, TimescaleCatalog],
  wanted: string[] | undefined,
): { compared: AggregateShape[]; unknown: string[] } {
  const views = wanted?.map((view) => (view.includes('.') ? view : `public.${view}`));
  const known = new Set(catalogs.flatMap((catalog) => catalog.aggregates.map((aggregate) => aggregate.view)));
  const compared = catalogs[0].aggregates.filter((aggregate) => {
    const other = catalogs[1].aggregates.find((candidate) => candidate.view === aggregate.view);
    const sameColumns = other !== undefined && other.columns.join(',') === aggregate.columns.join(',');
    return sameColumns && (views === undefined || views.includes(aggregate.view));
  });
  return { compared, unknown: (views ?? []).filter((view) => !known.has(view)) };
}

/** One aggregate that cannot be read fails alone, saying why; the others are still compared. */
async function guarded(sides: Sides, aggregate: AggregateShape): Promise<CheckResult> {
  try {
    return await compareAggregateContent(sides, aggregate);
  } catch (error) {
    return fail(`${NAME}: continuous aggregate ${aggregate.view}`, `could not run: ${errorMessage(error)}`);
  }
}
