import { formatCount } from '../../../format.ts';
import { fail, pass, type CheckResult } from '../../check.ts';
import { findDifferences, type ParityTable, type RangeDiff } from '../../parity.ts';
import type { AggregateShape } from './catalog.ts';
import { counted, type Sides } from './words.ts';

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 24n * MICROS_PER_HOUR;
/** Buckets listed by time in a finding; more are only counted. */
const LISTED_BUCKETS = 4;

interface BucketGroup {
  /** Start of the hour (buckets narrower than an hour) or day the buckets fall in, in microseconds. */
  start: bigint;
  width: bigint;
  buckets: bigint[];
  rows: [number, number];
}

/**
 * The rows of a continuous aggregate, read through its view (what a query of it returns), compared the way tables
 * are (parity.ts): per day of the bucket column, bisected down to the buckets that differ. Those are named by the
 * hour they fall in (by the day, for buckets of an hour or more), with how many rows each side has in them.
 */
export async function compareAggregateContent(sides: Sides, aggregate: AggregateShape): Promise<CheckResult> {
  const name = `timescaledb parity: continuous aggregate ${aggregate.view}`;
  const integer = /^(smallint|integer|bigint)$/.test(aggregate.bucketType);
  const table: ParityTable = {
    schema: aggregate.schema,
    name: aggregate.name,
    columns: aggregate.columns,
    axis: { kind: integer ? 'key' : 'time', column: aggregate.bucketColumn },
  };
  const groupWidth = reportWidth(aggregate.bucketMicros);
  const { method, rows, ranges, suspects, found, complete } = await findDifferences(sides, table, {
    finest: groupWidth,
  });
  if (suspects.length === 0) {
    const unit = integer ? 'bucket range' : 'day';
    return pass(name, `${formatCount(rows)} rows in ${counted(ranges, unit)} identical on both sides`);
  }
  const groups = groupBuckets(found, groupWidth);
  const lines = groups.map((group) => describeGroup(sides, group, integer));
  const more = complete
    ? lines.length > 1
      ? `; ${counted(lines.length - 1, 'more range differs', 'more ranges differ')}`
      : ''
    : `; more ranges differ, in ${counted(suspects.length, integer ? 'bucket range' : 'day')} in all`;
  return fail(name, `${lines[0]}${more}`, {
    ranges: lines,
    buckets: groups.flatMap((group) => group.buckets.map((bucket) => bucketTime(bucket, integer))).slice(0, 100),
    differingDays: suspects.length,
    hash: method,
  });
}

/** Buckets narrower than an hour are reported by the hour, wider ones by the day; integer buckets by key range. */
function reportWidth(bucketMicros: bigint | undefined): bigint | undefined {
  if (bucketMicros === undefined) return undefined;
  return bucketMicros < MICROS_PER_HOUR ? MICROS_PER_HOUR : MICROS_PER_DAY;
}

/** The differing buckets by the hour or day they fall in (integer buckets: by the range they were found in). */
function groupBuckets(found: RangeDiff[], width: bigint | undefined): BucketGroup[] {
  const groups = new Map<bigint, BucketGroup>();
  for (const diff of found) {
    for (const [bucket, rows] of diff.values) {
      const start = width === undefined ? diff.bucket.lo : floorTo(bucket, width);
      const group = groups.get(start) ?? {
        start,
        width: width ?? diff.bucket.hi - diff.bucket.lo,
        buckets: [],
        rows: [0, 0],
      };
      group.buckets.push(bucket);
      group.rows = [group.rows[0] + rows[0], group.rows[1] + rows[1]];
      groups.set(start, group);
    }
  }
  return [...groups.values()].sort((x, y) => (x.start < y.start ? -1 : 1));
}

function floorTo(value: bigint, width: bigint): bigint {
  const rest = value % width;
  return rest < 0n ? value - rest - width : value - rest;
}

/**
 * "3 buckets differ in 2026-01-05 10:00–11:00 UTC (10:00, 10:05, 10:10; compare-url has 0 rows there)", or for one
 * "bucket 2026-01-05 10:05 UTC differs (the values differ)".
 */
function describeGroup(sides: Sides, group: BucketGroup, integer: boolean): string {
  const there = rowsThere(sides, group.rows);
  if (group.buckets.length === 1) {
    const [bucket] = group.buckets as [bigint];
    return `bucket ${integer ? bucket : `${isoDate(bucket)} ${isoMinute(bucket)} UTC`} differs (${there})`;
  }
  const where = integer
    ? `${group.start}–${group.start + group.width - 1n}`
    : group.width === MICROS_PER_DAY
      ? isoDate(group.start)
      : `${isoDate(group.start)} ${isoMinute(group.start)}–${isoMinute(group.start + group.width)} UTC`;
  const listed = group.buckets.length <= LISTED_BUCKETS;
  const which = listed ? `${group.buckets.map((bucket) => (integer ? bucket : isoMinute(bucket))).join(', ')}; ` : '';
  return `${group.buckets.length} buckets differ in ${where} (${which}${there})`;
}

function rowsThere(sides: Sides, [a, b]: [number, number]): string {
  if (a === 0) return `${sides[0].label} has 0 rows there`;
  if (b === 0) return `${sides[1].label} has 0 rows there`;
  if (a !== b) return `${formatCount(a)} rows in ${sides[0].label}, ${formatCount(b)} in ${sides[1].label}`;
  return 'the values differ';
}

function bucketTime(bucket: bigint, integer: boolean): string {
  return integer ? String(bucket) : new Date(Number(bucket / 1000n)).toISOString();
}

const isoDate = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString().slice(0, 10);
const isoMinute = (micros: bigint) => new Date(Number(micros / 1000n)).toISOString().slice(11, 16);
