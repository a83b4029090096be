import type pg from 'pg';
import { qualified, quoteIdent } from '../pg/connection.ts';
import { formatCount } from '../format.ts';
import { fail, pass, type CheckResult } from './check.ts';
import { chooseHashMethod, type HashMethod } from '../pg/fingerprint.ts';

/**
 * Content parity between two databases, as data-diff does it: both sides fingerprint every bucket of an axis (UTC
 * days of a time column, or ranges of an integer key) in one grouped scan each, in parallel; only buckets that
 * differ are split again (day → hour → minute → second → …, or key range → 16 parts), down to a handful of rows,
 * which are then compared row by row. The finding names the narrowest range and, for keyed tables, the keys.
 */
export interface ParityTable {
  schema: string;
  name: string;
  columns: string[];
  axis: { kind: 'time'; column: string } | { kind: 'key'; column: string };
}

export interface Side {
  client: pg.Client;
  /** The input it came from, named in findings ("1 row missing in database-url"). */
  label: string;
}

/** Buckets with at most this many rows on each side are compared row by row. */
const LEAF_ROWS = 64;
const MAX_FINDINGS = 20;
const MICROS_PER_DAY = 86_400_000_000n;
/** Time splits, coarse to fine, in microseconds: day, hour, minute, second, then tenths down to a microsecond. */
const TIME_WIDTHS = [MICROS_PER_DAY, 3_600_000_000n, 60_000_000n, 1_000_000n, 100_000n, 10_000n, 1_000n, 100n, 10n, 1n];
const KEY_SPLIT = 16n;

/** A half-open range [lo, hi) of the axis: microseconds since the epoch, or key values. */
export interface Bucket {
  lo: bigint;
  hi: bigint;
}

/** One narrowest range that differs, compared row by row. */
export interface RangeDiff {
  bucket: Bucket;
  /** Rows each side lacks that the other has (a changed row counts once on each side). */
  missingIn: [number, number];
  /**
   * The axis values (microseconds, or keys) whose rows differ, with how many rows each side holds at that value:
   * for a keyed table the keys, for a continuous aggregate its buckets.
   */
  values: Map<bigint, [number, number]>;
}

/** What the bisection found: the differing top-level ranges and, inside them, the narrowest ranges. */
export interface Differences {
  method: HashMethod;
  /** Rows and top-level ranges (days or key ranges) of the first side, for a passing finding. */
  rows: number;
  ranges: number;
  /** Top-level ranges whose count or hash differ. */
  suspects: Bucket[];
  /** At most MAX_FINDINGS narrowest ranges, in axis order. */
  found: RangeDiff[];
  /** False when the search stopped at MAX_FINDINGS ranges, with more left to look at. */
  complete: boolean;
}

export interface SearchOptions {
  /**
   * A range this wide or narrower is compared row by row, however many rows it holds (a continuous aggregate is
   * reported by the hour or day its buckets fall in). Default: split down to a few rows.
   */
  finest?: bigint;
}

function axisSql(table: ParityTable): string {
  const column = quoteIdent(table.axis.column);
  return table.axis.kind === 'time' ? `(extract(epoch FROM ${column}) * 1000000)::bigint` : `${column}::bigint`;
}

/** Sargable bounds (an index on the column can serve them). */
function whereSql(table: ParityTable, bucket: Bucket): string {
  const column = quoteIdent(table.axis.column);
  if (table.axis.kind === 'key') return `${column} >= ${bucket.lo} AND ${column} < ${bucket.hi}`;
  const at = (micros: bigint): string => `(timestamptz 'epoch' + ${micros} * interval '1 microsecond')`;
  return `${column} >= ${at(bucket.lo)} AND ${column} < ${at(bucket.hi)}`;
}

function rowHash(method: HashMethod): string {
  return method === 'record' ? 'hash_record_extended(r, 0)' : 'hashtext(r::text)::bigint';
}

/**
 * What rows are grouped by, and how a group becomes a bucket number `width` wide. On PostgreSQL 14+ (where the
 * 'record' hash runs) time rows are grouped by date_bin, integer arithmetic on the timestamp, and only each group is
 * converted: extract(epoch) returns numeric there, and numeric arithmetic on every row made the check 40 % slower
 * than a plain hashing scan. Older servers group by the epoch in microseconds.
 */
function grouping(
  table: ParityTable,
  method: HashMethod,
  width: bigint,
): { perRow: string; toBucket: (group: string) => string } {
  if (table.axis.kind === 'time' && method === 'record') {
    return {
      perRow: `date_bin(interval '${width} microseconds', ${quoteIdent(table.axis.column)}, timestamptz 'epoch')`,
      toBucket: (group) => `(extract(epoch FROM ${group}) * 1000000)::bigint / ${width}`,
    };
  }
  return { perRow: `floor(${axisSql(table)} / ${width}::numeric)::bigint`, toBucket: (group) => group };
}

/** count and hash per bucket of `width` inside `within` (or the whole table). */
async function bucketPrints(
  side: Side,
  table: ParityTable,
  method: HashMethod,
  width: bigint,
  within?: Bucket,
): Promise<Map<string, string>> {
  const columns = table.columns.map(quoteIdent).join(', ');
  const { perRow, toBucket } = grouping(table, method, width);
  const { rows } = await side.client.query<{ b: string; n: string; h: string }>(
    `SELECT ${toBucket('g.k')} AS b, g.n, g.h FROM (
       SELECT ${perRow} AS k, count(*) AS n, sum(${rowHash(method)})::text AS h
       FROM (SELECT ${columns} FROM ${qualified(table.schema, table.name)}${within ? ` WHERE ${whereSql(table, within)}` : ''}) AS r
       GROUP BY 1
     ) AS g`,
  );
  return new Map(rows.map((row) => [row.b, `${row.n}:${row.h}`]));
}

function differing(a: Map<string, string>, b: Map<string, string>, width: bigint): Bucket[] {
  const buckets = new Set([...a.keys(), ...b.keys()]);
  return [...buckets]
    .filter((bucket) => a.get(bucket) !== b.get(bucket))
    .map((bucket) => ({ lo: BigInt(bucket) * width, hi: (BigInt(bucket) + 1n) * width }))
    .sort((x, y) => (x.lo < y.lo ? -1 : 1));
}

function rowsIn(print: string | undefined): number {
  return print ? Number(print.split(':')[0]) : 0;
}

/**
 * Compares the rows of one small bucket: counts what each side lacks and which axis values hold rows that differ
 * (with each side's row count at that value).
 */
async function diffRows(sides: [Side, Side], table: ParityTable, bucket: Bucket): Promise<RangeDiff> {
  const columns = table.columns.map(quoteIdent).join(', ');
  const [a, b] = await Promise.all(
    sides.map(async (side) => {
      const { rows } = await side.client.query<{ a: string; t: string }>(
        `SELECT ${axisSql(table)}::text AS a, r::text AS t FROM (SELECT ${columns} FROM ` +
          `${qualified(table.schema, table.name)} WHERE ${whereSql(table, bucket)}) AS r`,
      );
      return rows;
    }),
  );
  const count = (rows: { t: string }[]): Map<string, number> =>
    rows.reduce((m, r) => m.set(r.t, (m.get(r.t) ?? 0) + 1), new Map<string, number>());
  const [inA, inB] = [count(a!), count(b!)];
  const lacking = (have: Map<string, number>, other: Map<string, number>): number =>
    [...other].reduce((sum, [text, n]) => sum + Math.max(0, n - (have.get(text) ?? 0)), 0);
  const differs = (row: { t: string }): boolean => inA.get(row.t) !== inB.get(row.t);
  const differingValues = [...new Set([...a!, ...b!].filter(differs).map((row) => BigInt(row.a)))];
  const values = new Map(
    differingValues.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).map((value) => [value, [0, 0] as [number, number]]),
  );
  for (const [index, rows] of [a!, b!].entries()) {
    for (const row of rows) {
      const counts = values.get(BigInt(row.a));
      if (counts) counts[index]! += 1;
    }
  }
  return { bucket, missingIn: [lacking(inA, inB), lacking(inB, inA)], values };
}

interface Search {
  sides: [Side, Side];
  table: ParityTable;
  method: HashMethod;
  finest: bigint;
  found: RangeDiff[];
  /** Set when MAX_FINDINGS ranges were found with more still to look at. */
  stopped: boolean;
}

/** The range `bucket`, `width` wide, whose prints differ: compared row by row when small enough, else split. */
async function visit(search: Search, bucket: Bucket, width: bigint, prints: Map<string, string>[], level: number) {
  const key = (bucket.lo / width).toString();
  const small = prints.every((print) => rowsIn(print.get(key)) <= LEAF_ROWS);
  if (small || width <= search.finest) search.found.push(await diffRows(search.sides, search.table, bucket));
  else await narrow(search, bucket, level);
}

async function narrow(search: Search, bucket: Bucket, level: number): Promise<void> {
  const width = nextWidth(search.table, bucket, level);
  const prints = await Promise.all(
    search.sides.map((side) => bucketPrints(side, search.table, search.method, width, bucket)),
  );
  await visitAll(search, differing(prints[0]!, prints[1]!, width), width, prints, level + 1);
}

async function visitAll(
  search: Search,
  buckets: Bucket[],
  width: bigint,
  prints: Map<string, string>[],
  level: number,
): Promise<void> {
  for (const bucket of buckets) {
    if (search.found.length >= MAX_FINDINGS) {
      search.stopped = true;
      return;
    }
    await visit(search, bucket, width, prints, level);
  }
}

function nextWidth(table: ParityTable, bucket: Bucket, level: number): bigint {
  if (table.axis.kind === 'time') return TIME_WIDTHS[Math.min(level, TIME_WIDTHS.length - 1)]!;
  const span = bucket.hi - bucket.lo;
  return span / KEY_SPLIT > 0n ? span / KEY_SPLIT : 1n;
}

/** "2026-01-02", "2026-01-02 13:00–13:01 UTC", … or "keys 1000–1063". */
export function describeBucket(table: ParityTable, bucket: Bucket): string {
  if (table.axis.kind === 'key') return `keys ${bucket.lo}–${bucket.hi - 1n}`;
  const start = new Date(Number(bucket.lo / 1000n));
  const width = bucket.hi - bucket.lo;
  if (width === MICROS_PER_DAY) return start.toISOString().slice(0, 10);
  const end = new Date(Number(bucket.hi / 1000n));
  const cut = width >= 60_000_000n ? 16 : width >= 1_000_000n ? 19 : 23;
  return (
    `${start.toISOString().slice(0, 10)} ` +
    `${start.toISOString().slice(11, cut)}–${end.toISOString().slice(11, cut)} ` +
    `UTC${width < 1000n ? ` (+${bucket.lo % 1000n} µs)` : ''}`
  );
}

function describeDiff(table: ParityTable, sides: [Side, Side], diff: RangeDiff): string {
  const parts = diff.missingIn
    .map((n, index) => (n > 0 ? `${formatCount(n)} row${n === 1 ? '' : 's'} missing in ${sides[index]!.label}` : ''))
    .filter(Boolean);
  const differing = table.axis.kind === 'key' ? [...diff.values.keys()] : [];
  const keys =
    differing.length > 0 ? ` (keys ${differing.slice(0, 10).join(', ')}${differing.length > 10 ? ', …' : ''})` : '';
  return `${table.name} ${describeBucket(table, diff.bucket)}: ${parts.join(', ') || 'rows differ'}${keys}`;
}

/**
 * The bisection itself, for a table or anything read like one (a continuous aggregate's view): one grouped scan per
 * side over the top-level ranges, then only the ranges that differ, narrower and narrower.
 */
export async function findDifferences(
  sides: [Side, Side],
  table: ParityTable,
  options: SearchOptions = {},
): Promise<Differences> {
  const method = await chooseHashMethod(
    sides.map((side) => ({
      client: side.client,
      table: { schema: table.schema, name: table.name, timeColumn: table.axis.column, columns: table.columns },
    })),
  );
  const top = table.axis.kind === 'time' ? MICROS_PER_DAY : await topKeyWidth(sides, table);
  const [a, b] = await Promise.all(sides.map((side) => bucketPrints(side, table, method, top)));
  const suspects = differing(a!, b!, top);
  const rows = [...a!.values()].reduce((sum, print) => sum + rowsIn(print), 0);
  // A microsecond (or one key) is as narrow as a range gets.
  const search: Search = { sides, table, method, finest: options.finest ?? 1n, found: [], stopped: false };
  await visitAll(search, suspects, top, [a!, b!], 1);
  return { method, rows, ranges: a!.size, suspects, found: search.found, complete: !search.stopped };
}

export async function checkParity(sides: [Side, Side], table: ParityTable): Promise<CheckResult> {
  const name = `content parity: ${table.schema}.${table.name}`;
  const { method, rows, ranges, suspects, found } = await findDifferences(sides, table);
  if (suspects.length === 0) {
    return pass(
      name,
      `${formatCount(rows)} rows in ${ranges} ${table.axis.kind === 'time' ? 'day' : 'key range'}(s) identical on ` +
        `both sides`,
    );
  }
  const lines = found.map((diff) => describeDiff(table, sides, diff));
  return fail(name, lines[0] ?? `${suspects.length} range(s) differ`, {
    ranges: lines,
    differingTopRanges: suspects.length,
    hash: method,
  });
}

/** Key buckets: about 256 over the span of both sides' keys, a power of two wide. */
async function topKeyWidth(sides: [Side, Side], table: ParityTable): Promise<bigint> {
  const column = quoteIdent(table.axis.column);
  const spans = await Promise.all(
    sides.map(
      async (side) =>
        (
          await side.client.query<{ lo: string | null; hi: string | null }>(
            `SELECT min(${column})::text AS lo, max(${column})::text AS hi FROM ${qualified(table.schema, table.name)}`,
          )
        ).rows[0]!,
    ),
  );
  const values = spans
    .flatMap((s) => [s.lo, s.hi])
    .filter((v): v is string => v !== null)
    .map(BigInt);
  if (values.length === 0) return 1n;
  // biome-ignore lint/complexity/useMathMinMax: these are bigints, which Math.max and Math.min do not take.
  const span = values.reduce((x, y) => (x > y ? x : y)) - values.reduce((x, y) => (x < y ? x : y)) + 1n;
  let width = 1n;
  while (width * 256n < span) width *= 2n;
  return width;
}

/**
 * Tables with neither an integer key nor a timestamp column (a composite key, say): one count and checksum of the
 * whole table per side. Equal data passes; a difference fails without a narrower range (set tables[].key to get one).
 */
export async function checkWholeTable(
  sides: [Side, Side],
  table: { schema: string; name: string; columns: string[] },
): Promise<CheckResult> {
  const name = `content parity: ${table.schema}.${table.name}`;
  const method = await chooseHashMethod(
    sides.map((side) => ({
      client: side.client,
      table: { schema: table.schema, name: table.name, timeColumn: '', columns: table.columns },
    })),
  );
  const columns = table.columns.map(quoteIdent).join(', ');
  const [a, b] = await Promise.all(
    sides.map(async (side) => {
      const { rows } = await side.client.query<{ n: string; h: string }>(
        `SELECT count(*) AS n, coalesce(sum(${rowHash(method)}), 0)::text AS h FROM (SELECT ${columns} FROM ` +
          `${qualified(table.schema, table.name)}) AS r`,
      );
      return rows[0]!;
    }),
  );
  if (a!.n === b!.n && a!.h === b!.h)
    return pass(name, `${formatCount(Number(a!.n))} rows identical on both sides (whole-table checksum)`);
  return fail(
    name,
    `${table.name}: the rows differ (${formatCount(Number(a!.n))} in ${sides[0].label}, ` +
      `${formatCount(Number(b!.n))} in ${sides[1].label}); set tables[].key or time-column to narrow it down`,
  );
}
