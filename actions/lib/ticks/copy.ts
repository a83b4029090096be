import copyStreams from 'pg-copy-streams';
import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { VerificationError } from '../action/errors.ts';
import { CopyWitness } from '../pg/copy-witness.ts';
import { fingerprint, selectList, type HashMethod, type RangeTable } from '../pg/fingerprint.ts';
import { qualified, quoteIdent } from '../pg/connection.ts';
import { recordRange } from './ledger.ts';
import { describeRange, type TimeRange } from './plan.ts';

export interface CopyJob {
  source: RangeTable;
  target: RangeTable;
  /** Names the source in the ledger (host/database/schema.table, no credentials). */
  sourceIdentity: string;
  range: TimeRange;
  hash: HashMethod;
  verify: VerifyMode;
}

/**
 * How a range is proven copied. stream: the rows the source's COPY sent, the tuples counted crossing the pipe and
 * the rows the target's COPY stored must be equal (the bytes' sha256 goes into the ledger); binary COPY carries
 * every value in its own type's binary form, so what crosses is what the source holds. reread: the same, and then
 * both sides read the range back for a count and checksum of every row (a second pass over the target).
 */
export type VerifyMode = 'stream' | 'reread';

export interface RangeResult {
  range: TimeRange;
  rows: number;
  seconds: number;
}

function bound(date: Date): string {
  return `'${date.toISOString()}'::timestamptz`;
}

/**
 * Copies one range in one target transaction: delete whatever the range holds (a half-finished earlier attempt
 * cannot exist, but a run without the ledger may have left rows), stream binary COPY from the source straight into
 * COPY on the target through a witness that counts the tuples (no value is parsed here), verify the range
 * (`VerifyMode`), record it in the ledger, commit. The source reads in one repeatable-read snapshot, so the copy and
 * its checksum see the same rows even while the source is being written to. After a failure mid-stream the source
 * session is closed: open a new pair before the next range.
 */
export async function copyRange(sourceClient: pg.Client, targetClient: pg.Client, job: CopyJob): Promise<RangeResult> {
  const started = Date.now();
  const { target, range } = job;
  await sourceClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await sourceClient.query(BITMAP_READS);
  await targetClient.query('BEGIN');
  await targetClient.query(BITMAP_READS);
  let streaming = false;
  try {
    await targetClient.query(
      `DELETE FROM ${qualified(target.schema, target.name)} WHERE ${time(target)} >= $1 AND ${time(target)} < $2`,
      [range.start, range.end],
    );
    streaming = true;
    const streamed = await streamRange(sourceClient, targetClient, job);
    streaming = false;
    const rows = checkStreamCounts(range, streamed);
    const checksum =
      job.verify === 'reread' ? await rereadRange(sourceClient, targetClient, job, rows) : streamed.sha256;
    const seconds = (Date.now() - started) / 1000;
    await recordRange(targetClient, {
      source: job.sourceIdentity,
      target: `${target.schema}.${target.name}`,
      range,
      rows,
      checksum,
      seconds,
    });
    await targetClient.query('COMMIT');
    await sourceClient.query('COMMIT');
    return { range, rows, seconds };
  } catch (error) {
    await targetClient.query('ROLLBACK').catch(() => undefined);
    // A source whose COPY broke off is still sending into a stream nobody reads: a ROLLBACK would queue behind it
    // forever. Its session is closed instead (which ends its read-only transaction); the caller opens a new one.
    if (streaming) await sourceClient.end().catch(() => undefined);
    else await sourceClient.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * A day of ticks is a few percent of a table with an index on time, where the planner picks an index scan: one heap
 * visit per row, in index order. A bitmap heap scan through the same index reads each heap page once, in physical
 * order: measured on 3M seed-shaped ticks, 100–145 ms against 19 ms per 100,000-row range (a sequential scan of the
 * whole table costs 23–33 ms per 100,000 rows). For this transaction only.
 */
const BITMAP_READS = 'SET LOCAL enable_indexscan = off';

function time(table: RangeTable): string {
  return quoteIdent(table.timeColumn);
}

interface Streamed {
  /** "COPY n" of the source: the rows it sent. */
  sent: number;
  /** Tuples the witness counted crossing the pipe. */
  crossed: number;
  /** "COPY n" of the target: the rows it stored. */
  stored: number;
  /** `sha256:<hex>` of the binary stream. */
  sha256: string;
}

/** Binary COPY out of the source, through the witness, into COPY on the target. */
async function streamRange(sourceClient: pg.Client, targetClient: pg.Client, job: CopyJob): Promise<Streamed> {
  const { source, target, range } = job;
  const out = sourceClient.query(
    copyStreams.to(
      `COPY (SELECT ${selectList(source)} FROM ${qualified(source.schema, source.name)} ` +
        `WHERE ${time(source)} >= ${bound(range.start)} AND ${time(source)} < ${bound(range.end)}) TO STDOUT ` +
        `(FORMAT binary)`,
    ),
  );
  const witness = new CopyWitness();
  const into = targetClient.query(
    copyStreams.from(
      `COPY ${qualified(target.schema, target.name)} (${target.columns.map(quoteIdent).join(', ')}) FROM STDIN ` +
        `(FORMAT binary)`,
    ),
  );
  await pipeline(out, witness, into);
  return { sent: out.rowCount, crossed: witness.tuples, stored: into.rowCount, sha256: `sha256:${witness.digest()}` };
}

/** The three witnesses of a copy agree, or nothing of the range is kept. */
function checkStreamCounts(range: TimeRange, streamed: Streamed): number {
  const { sent, crossed, stored } = streamed;
  if (sent !== crossed || crossed !== stored) {
    throw new VerificationError(
      `Range ${describeRange(range)} did not verify: the source sent ${sent} rows, ${crossed} crossed the pipe, ` +
        `the target stored ${stored}. Nothing of this range was kept.`,
    );
  }
  return stored;
}

/** verify: reread: both sides read the range back; count and checksum must match. Returns the checksum. */
async function rereadRange(
  sourceClient: pg.Client,
  targetClient: pg.Client,
  job: CopyJob,
  copied: number,
): Promise<string> {
  const { source, target, range } = job;
  const [expected, actual] = await Promise.all([
    fingerprint(sourceClient, source, range.start, range.end, job.hash),
    fingerprint(targetClient, target, range.start, range.end, job.hash),
  ]);
  if (expected.rows !== actual.rows || expected.checksum !== actual.checksum || actual.rows !== copied) {
    throw new VerificationError(
      `Range ${describeRange(range)} did not verify: the source has ${expected.rows} rows (checksum ` +
        `${expected.checksum}), ` +
        `the target after the copy ${actual.rows} (checksum ${actual.checksum}). Nothing of this range was kept.`,
    );
  }
  return actual.checksum;
}
