import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../../action/errors.ts';

/** What a TimescaleDB check holds one hypertable to; only the aspects given are checked. */
export interface TimescaleExpectation {
  /** e.g. "tick_data" (through the search_path) or "public.tick_data" */
  hypertable: string;
  /** e.g. "1 day" (compared as an interval in SQL: "24 hours" is the same) */
  chunkInterval?: string;
  /** e.g. "30 days": the columnstore (compression) policy's compress_after */
  columnstoreAfter?: string;
  /** e.g. "90 days": the retention policy's drop_after */
  retention?: string;
  /** Continuous aggregate view names that must exist on the hypertable (directly or built on one that does). */
  aggregates?: string[];
  /** e.g. "2 hours": each aggregate's last successful refresh must be newer than now() - maxLag */
  maxLag?: string;
}

const INTERVAL_FIELDS = ['chunkInterval', 'columnstoreAfter', 'retention', 'maxLag'] as const;

/** A typo in an interval is the caller's to fix, so it is reported before anything is checked. */
export async function validateIntervals(db: pg.Client, expectation: TimescaleExpectation): Promise<void> {
  for (const field of INTERVAL_FIELDS) {
    const value = expectation[field];
    if (value === undefined) continue;
    try {
      await db.query('SELECT $1::interval', [value]);
    } catch (error) {
      throw new ConfigurationError(
        `TimescaleDB check of ${expectation.hypertable}: ${field} "${value}" is not an interval ` +
          `(${errorMessage(error)}); write e.g. "1 day", "30 days", "2 hours".`,
      );
    }
  }
}
