import copyStreams from 'pg-copy-streams';
import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { VerificationError } from '../action/errors.ts';
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
}

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
 * COPY on the target (no row is parsed here), compare count and checksum of the range on both sides, record it in
 * the ledger, commit. The source reads in one repeatable-read snapshot, so the copy and its checksum see the same
 * rows even while the source is being written to.
 */
export async function copyRange(sourceClient: pg.Client, targetClient: pg.Client, job: CopyJob): Promise<RangeResult> {
  const started = Date.now();
  const { source, target, range } = job;
  const time = (table: RangeTable): string => quoteIdent(table.timeColumn);
  await sourceClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await targetClient.query('BEGIN');
  try {
    await targetClient.query(
      `DELETE FROM ${qualified(target.schema, target.name)} WHERE ${time(target)} >= $1 AND ${time(target)} < $2`,
      [range.start, range.end],
    );
    const out = sourceClient.query(
      copyStreams.to(
        `COPY (SELECT ${selectList(source)} FROM ${qualified(source.schema, source.name)} ` +
          `WHERE ${time(source)} >= ${bound(range.start)} AND ${time(source)} < ${bound(range.end)}) TO STDOUT ` +
          `(FORMAT binary)`,
      ),
    );
    const into = targetClient.query(
      copyStreams.from(
        `COPY ${qualified(target.schema, target.name)} (${target.columns.map(quoteIdent).join(', ')}) FROM STDIN ` +
          `(FORMAT binary)`,
      ),
    );
    await pipeline(out, into);
    const [expected, actual] = await Promise.all([
      fingerprint(sourceClient, source, range.start, range.end, job.hash),
      fingerprint(targetClient, target, range.start, range.end, job.hash),
    ]);
    if (expected.rows !== actual.rows || expected.checksum !== actual.checksum) {
      throw new VerificationError(
        `Range ${describeRange(range)} did not verify: the source has ${expected.rows} rows (checksum ` +
          `${expected.checksum}), ` +
          `the target after the copy ${actual.rows} (checksum ${actual.checksum}). Nothing of this range was kept.`,
      );
    }
    const seconds = (Date.now() - started) / 1000;
    await recordRange(targetClient, {
      source: job.sourceIdentity,
      target: `${target.schema}.${target.name}`,
      range,
      rows: actual.rows,
      checksum: actual.checksum,
      seconds,
    });
    await targetClient.query('COMMIT');
    await sourceClient.query('COMMIT');
    return { range, rows: actual.rows, seconds };
  } catch (error) {
    await targetClient.query('ROLLBACK').catch(() => undefined);
    await sourceClient.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
