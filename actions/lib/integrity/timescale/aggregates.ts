import type pg from 'pg';
import { fail, pass, type CheckResult } from '../check.ts';
import { key, resolveRelation, type Relation } from './relation.ts';

/** A row of CAGGS_SQL. */
export interface CaggRow {
  view_schema: string;
  view_name: string;
  source_schema: string;
  source_table: string;
  parent_view_schema: string | null;
  parent_view_name: string | null;
  materialization_hypertable_schema: string;
  materialization_hypertable_name: string;
}

export const viewOf = (cagg: CaggRow) => `${cagg.view_schema}.${cagg.view_name}`;

export const materializationOf = (cagg: CaggRow) =>
  `${cagg.materialization_hypertable_schema}.${cagg.materialization_hypertable_name}`;

/** The continuous aggregates built on the hypertable: on it directly, or on one of these (hierarchical). */
export function aggregatesOf(hypertable: Relation, caggs: CaggRow[]): CaggRow[] {
  const found: CaggRow[] = [];
  const bases = new Set([key(hypertable)]);
  const materializations = new Map<string, string>(); // materialization hypertable → its view
  for (let grew = true; grew; ) {
    grew = false;
    for (const cagg of caggs) {
      const view = viewOf(cagg);
      const source = `${cagg.source_schema}.${cagg.source_table}`;
      const onBase = bases.has(source) || bases.has(materializations.get(source) ?? '');
      if (onBase && !bases.has(view)) {
        found.push(cagg);
        bases.add(view);
        materializations.set(materializationOf(cagg), view);
        grew = true;
      }
    }
  }
  return found;
}

export async function checkAggregates(
  db: pg.Client,
  expected: string[],
  hypertable: Relation,
  aggregates: CaggRow[],
  name: string,
): Promise<CheckResult> {
  const ours = new Set(aggregates.map(viewOf));
  const problems: string[] = [];
  for (const view of expected) {
    const relation = await resolveRelation(db, view, 'continuous aggregate');
    if (!relation) problems.push(`${view} does not exist`);
    else if (!ours.has(key(relation))) problems.push(`${view} is not a continuous aggregate of ${key(hypertable)}`);
  }
  const details = { expected, found: [...ours] };
  if (problems.length > 0) return fail(name, `${problems.join('; ')}; expected ${expected.join(', ')}`, details);
  const all = expected.length === 1 ? 'its continuous aggregate' : `all ${expected.length} continuous aggregates`;
  return pass(name, `${key(hypertable)} has ${all}: ${expected.join(', ')}`, details);
}
