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

interface Bucket {
  lo: bigint;
  hi: bigint;
}

interface RangeDiff {
  bucket: Bucket;
  missingIn: [number, number];
  keys: string[];
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

/** Compares the rows of one small bucket; counts what each side lacks, and (keyed tables) which keys differ. */
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
  const keyed = table.axis.kind === 'key';
  const keysOf = (rows: { a: string; t: string }[], other: Map<string, number>): string[] =>
    rows.filter((r) => !other.has(r.t)).map((r) => r.a);
  const keys = keyed
    ? [...new Set([...keysOf(a!, inB), ...keysOf(b!, inA)])].sort((x, y) => Number(BigInt(x) - BigInt(y)))
    : [];
  return { bucket, missingIn: [lacking(inA, inB), lacking(inB, inA)], keys };
}

async function narrow(
  sides: [Side, Side],
  table: ParityTable,
  method: HashMethod,
  bucket: Bucket,
  level: number,
  found: RangeDiff[],
): Promise<void> {
  if (found.length >= MAX_FINDINGS) return;
  const width = nextWidth(table, bucket, level);
  const [a, b] = await Promise.all(sides.map((side) => bucketPrints(side, table, method, width, bucket)));
  for (const sub of differing(a!, b!, width)) {
    if (found.length >= MAX_FINDINGS) return;
    const key = (sub.lo / width).toString();
    const small = rowsIn(a!.get(key)) <= LEAF_ROWS && rowsIn(b!.get(key)) <= LEAF_ROWS;
    if (small || width === 1n) found.push(await diffRows(sides, table, sub));
    else await narrow(sides, table, method, sub, level + 1, found);
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
  const keys =
    diff.keys.length > 0 ? ` (keys ${diff.keys.slice(0, 10).join(', ')}${diff.keys.length > 10 ? ', …' : ''})` : '';
  return `${table.name} ${describeBucket(table, diff.bucket)}: ${parts.join(', ') || 'rows differ'}${keys}`;
}

export async function checkParity(sides: [Side, Side], table: ParityTable): Promise<CheckResult> {
  const name = `content parity: ${table.schema}.${table.name}`;
  const method = await chooseHashMethod(
    sides.map((side) => ({
      client: side.client,
      table: { schema: table.schema, name: table.name, timeColumn: table.axis.column, columns: table.columns },
    })),
  );
  const top = table.axis.kind === 'time' ? MICROS_PER_DAY : await topKeyWidth(sides, table);
  const [a, b] = await Promise.all(sides.map((side) => bucketPrints(side, table, method, top)));
  const suspects = differing(a!, b!, top);
  if (suspects.length === 0) {
    const rows = [...a!.values()].reduce((sum, print) => sum + rowsIn(print), 0);
    return pass(
      name,
      `${formatCount(rows)} rows in ${a!.size} ${table.axis.kind === 'time' ? 'day' : 'key range'}(s) identical on ` +
        `both sides`,
    );
  }
  const found: RangeDiff[] = [];
  for (const bucket of suspects) {
    if (found.length >= MAX_FINDINGS) break;
    const key = (bucket.lo / top).toString();
    if (rowsIn(a!.get(key)) <= LEAF_ROWS && rowsIn(b!.get(key)) <= LEAF_ROWS)
      found.push(await diffRows(sides, table, bucket));
    else await narrow(sides, table, method, bucket, 1, found);
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
