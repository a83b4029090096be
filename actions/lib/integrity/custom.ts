import type pg from 'pg';
import { fail, pass, warn, type CheckResult } from './check.ts';
import type { CustomCheck } from './config.ts';

const SAMPLE = 5;

/** A query from the config that must return no rows; its first rows are kept as the sample. */
export async function checkCustom(client: pg.Client, check: CustomCheck): Promise<CheckResult> {
  const name = `custom: ${check.name}`;
  let rows: Record<string, unknown>[];
  try {
    rows = (await client.query(`SELECT * FROM (${check.sql.replace(/;\s*$/, '')}) AS q LIMIT 1000`)).rows;
  } catch (error) {
    return fail(name, `the query failed: ${(error as Error).message}`);
  }
  if (rows.length === 0) return pass(name, 'no rows');
  const finding = `${rows.length === 1000 ? '1,000 or more' : rows.length} row(s), e.g. ${JSON.stringify(rows[0])}`;
  return check.severity === 'warn'
    ? warn(name, finding, { sample: rows.slice(0, SAMPLE) })
    : fail(name, finding, { sample: rows.slice(0, SAMPLE) });
}
