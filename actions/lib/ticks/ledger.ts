import type pg from 'pg';
import type { TimeRange } from './plan.ts';

/**
 * The ledger lives in the target, in its own schema: one row per copied range, written in the same transaction as
 * the range's rows. A run killed at any moment leaves each range either fully copied and recorded, or untouched;
 * a rerun skips what the ledger holds.
 */
export const LEDGER = 'backstop.tick_ledger';

export async function ensureLedger(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE SCHEMA IF NOT EXISTS backstop;
    CREATE TABLE IF NOT EXISTS ${LEDGER} (
      source_identity text NOT NULL,
      target_table text NOT NULL,
      range_start timestamptz NOT NULL,
      range_end timestamptz NOT NULL,
      rows bigint NOT NULL,
      checksum text NOT NULL,
      state text NOT NULL CHECK (state IN ('done')),
      seconds double precision NOT NULL,
      copied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (source_identity, target_table, range_start, range_end)
    )`);
}

/** The ranges already copied and verified for this source and target. */
export async function finishedRanges(client: pg.Client, source: string, target: string): Promise<Set<string>> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('${LEDGER}')::text AS t`);
  if (!exists.rows[0]?.t) return new Set();
  const { rows } = await client.query<{ s: Date; e: Date }>(
    `SELECT range_start AS s, range_end AS e FROM ${LEDGER} WHERE source_identity = $1 AND target_table = $2 AND ` +
      `state = 'done'`,
    [source, target],
  );
  return new Set(rows.map((row) => rangeKey({ start: row.s, end: row.e })));
}

export function rangeKey(range: TimeRange): string {
  return `${range.start.toISOString()}/${range.end.toISOString()}`;
}

export async function recordRange(
  client: pg.Client,
  entry: { source: string; target: string; range: TimeRange; rows: number; checksum: string; seconds: number },
): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER} (source_identity, target_table, range_start, range_end, rows, checksum, state, seconds)
     VALUES ($1, $2, $3, $4, $5, $6, 'done', $7)
     ON CONFLICT (source_identity, target_table, range_start, range_end)
     DO UPDATE SET rows = excluded.rows, checksum = excluded.checksum, state = 'done', seconds = excluded.seconds, copied_at = now()`,
    [entry.source, entry.target, entry.range.start, entry.range.end, entry.rows, entry.checksum, entry.seconds],
  );
}
