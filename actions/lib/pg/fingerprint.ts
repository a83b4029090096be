import type pg from 'pg';
import { qualified, quoteIdent } from './connection.ts';

/**
 * The range check shared by migrate-ticks and validate-integrity: for the rows of a table in [start, end) of a time
 * column, a count and an order-independent checksum (the sum of one hash per row). Both databases compute it in SQL;
 * no row crosses the network.
 *
 * Two hashes, the faster first:
 * - 'record': hash_record_extended(row, 0), PostgreSQL 14+: a 64-bit hash of the values' binary forms, with the
 *   stable per-type hash functions hash partitioning relies on; independent of TimeZone and DateStyle; 2.6× faster
 *   than rendering text (533 ms against 1.4 s per 2M ticks here). Needs a hash function for every column type.
 * - 'text': hashtext(row::text), any version and any type; equal data hashes equal only when both sessions render
 *   rows alike, so pinSession() sets TimeZone, DateStyle and extra_float_digits first.
 */
export type HashMethod = 'record' | 'text';
export interface Fingerprint {
  rows: number;
  /** A decimal string: the sum overflows JavaScript numbers. */
  checksum: string;
}

export const SESSION_SETTINGS = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  extra_float_digits: '3',
} as const;

export async function pinSession(client: pg.Client): Promise<void> {
  for (const [name, value] of Object.entries(SESSION_SETTINGS)) {
    await client.query(`SELECT set_config($1, $2, false)`, [name, value]);
  }
}

export interface RangeTable {
  schema: string;
  name: string;
  timeColumn: string;
  /** The columns compared, in order (the same list on both sides). */
  columns: string[];
  /** Per column, a type to cast to first (the other side's type), so both sides render the same text. */
  casts?: (string | undefined)[];
}

/** The select list: each column, cast where the other side's type differs. */
export function selectList(table: RangeTable): string {
  return table.columns
    .map((column, index) =>
      table.casts?.[index] ? `${quoteIdent(column)}::${table.casts[index]}` : quoteIdent(column),
    )
    .join(', ');
}

const ROW_HASH: Record<HashMethod, string> = {
  record: 'hash_record_extended(r, 0)',
  text: 'hashtext(r::text)::bigint',
};

/** SQL for the fingerprint of one range; $1 and $2 are the bounds (timestamptz). */
export function fingerprintSql(table: RangeTable, method: HashMethod = 'text'): string {
  return `SELECT count(*)::bigint AS rows, coalesce(sum(${ROW_HASH[method]}), 0)::text AS checksum
    FROM (SELECT ${selectList(table)} FROM ${qualified(table.schema, table.name)}
          WHERE ${quoteIdent(table.timeColumn)} >= $1 AND ${quoteIdent(table.timeColumn)} < $2) AS r`;
}

export async function fingerprint(
  client: pg.Client,
  table: RangeTable,
  start: Date,
  end: Date,
  method: HashMethod = 'text',
): Promise<Fingerprint> {
  const { rows } = await client.query<{ rows: string; checksum: string }>(fingerprintSql(table, method), [start, end]);
  return { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum };
}

/**
 * 'record' when every server can hash these rows that way (14+, a hash function for each column type), else 'text'.
 * Both sides must use the same method: the sums are only comparable then.
 */
export async function chooseHashMethod(sides: { client: pg.Client; table: RangeTable }[]): Promise<HashMethod> {
  for (const { client, table } of sides) {
    const version = Number(
      (await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v,
    );
    if (version < 140000) return 'text';
    try {
      await client.query(
        `SELECT hash_record_extended(r, 0) FROM (SELECT ${selectList(table)} FROM ` +
          `${qualified(table.schema, table.name)} LIMIT 1) AS r`,
      );
    } catch {
      return 'text'; // e.g. a json column: no hash function for it
    }
  }
  return 'record';
}
