/**
 * checkTimescale against TimescaleDB 2.23 compiled to WASM (test/harness/pglite.ts), with sql/timescaledb/tick_data.sql
 * applied. The WASM build has no background workers: the job scheduler never runs, so job_stats never records a run.
 * Runs are therefore written into TimescaleDB's own stats table by hand, as test/integration/sql-timescaledb.test.ts
 * does for a failed job: a successful refresh (last_successful_finish), a failed run (last_run_success = false,
 * last_successful_finish = -infinity, which is what TimescaleDB stores until a first success), and an error in the
 * job history that timescaledb_information.job_errors shows. What is checked is the check's queries against the
 * real 2.23 views, not the scheduler.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../actions/lib/action/errors.ts';
import type { CheckResult } from '../../actions/lib/integrity/check.ts';
import { checkTimescale, type TimescaleExpectation } from '../../actions/lib/integrity/timescale/index.ts';
import { CANDLE_VIEWS } from '../harness/candles.ts';
import { startPgliteTimescale, type PgliteTimescale } from '../harness/pglite.ts';
import {
  CAGG_FRESHNESS_SQL,
  CAGG_REFRESH_POLICIES_SQL,
  LAST_JOB_ERRORS_SQL,
  POLICIES_SQL,
  POLICY_SETTING_SQL,
  RELATION_NAME_SQL,
} from '../harness/timescale-catalog.ts';

const DDL = readFileSync(new URL('../../sql/timescaledb/tick_data.sql', import.meta.url), 'utf8');
const SCHEMA = 'ticks_ts';
const VIEWS: string[] = [...CANDLE_VIEWS];
const EXPECTED: TimescaleExpectation = {
  hypertable: 'tick_data',
  chunkInterval: '1 day',
  columnstoreAfter: '30 days',
  retention: '90 days',
  aggregates: VIEWS,
};

let db: PgliteTimescale;
let client: pg.Client;

async function q<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]> {
  return (await client.query<T>(text, values)).rows;
}

/** The results by aspect (the part of the name after the hypertable), for readable assertions. */
function byAspect(results: CheckResult[], hypertable = 'tick_data'): Record<string, CheckResult> {
  return Object.fromEntries(results.map((result) => [result.name.replace(`timescaledb: ${hypertable} `, ''), result]));
}

async function refreshJobs(): Promise<Record<string, number>> {
  const rows = await q<{ view_name: string; job_id: number }>(CAGG_REFRESH_POLICIES_SQL);
  return Object.fromEntries(rows.map((row) => [row.view_name, row.job_id]));
}

async function policyJob(proc: string): Promise<number> {
  return (await q<{ job_id: number; proc_name: string }>(POLICIES_SQL, ['tick_data'])).find(
    (row) => row.proc_name === proc,
  )!.job_id;
}

/**
 * What the scheduler records after a run that ended `ago`: a success sets last_successful_finish; a failure leaves it
 * at -infinity (TimescaleDB's value before a first success) when the job never succeeded.
 */
async function recordRun(jobId: number, run: { succeeded: boolean; ago: string }): Promise<void> {
  await q(`DELETE FROM _timescaledb_internal.bgw_job_stat WHERE job_id = $1`, [jobId]);
  await q(
    `
    INSERT INTO _timescaledb_internal.bgw_job_stat
      (job_id, last_start, last_finish, next_start, last_successful_finish, last_run_success, total_runs, total_duration,
       total_duration_failures, total_successes, total_failures, total_crashes, consecutive_failures, consecutive_crashes)
    VALUES ($1, now() - $2::interval - INTERVAL '5 seconds', now() - $2::interval, now() + INTERVAL '1 minute',
            CASE WHEN $3::boolean THEN now() - $2::interval ELSE '-infinity' END, $3::boolean, 1, INTERVAL '5 seconds',
            CASE WHEN $3::boolean THEN INTERVAL '0' ELSE INTERVAL '5 seconds' END,
            $3::boolean::int, (NOT $3::boolean)::int, 0, (NOT $3::boolean)::int, 0)`,
    [jobId, run.ago, run.succeeded],
  );
}

/** An error in the job history, as the scheduler writes it (timescaledb_information.job_errors reads it). */
async function recordError(jobId: number, message: string): Promise<void> {
  await q(
    `
    INSERT INTO _timescaledb_internal.bgw_job_stat_history (job_id, pid, execution_start, execution_finish,
      succeeded, data)
    VALUES ($1, 4242, now() - INTERVAL '1 minute', now(), false,
            jsonb_build_object('job', jsonb_build_object('proc_schema', '_timescaledb_functions', 'proc_name', 'policy_refresh_continuous_aggregate'),
                               'error_data', jsonb_build_object('message', $2::text, 'sqlerrcode', 'XX000')))`,
    [jobId, message],
  );
}

beforeAll(async () => {
  db = await startPgliteTimescale();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await q(`CREATE SCHEMA ${SCHEMA}`);
  await q(`SET search_path = ${SCHEMA}`);
  await client.query(DDL);
});

afterEach(async () => {
  // Every test starts from the shape the DDL makes, with no recorded runs (the last test drops the extension).
  const [{ present }] = (await q<{ present: boolean }>(
    `SELECT to_regclass('_timescaledb_internal.bgw_job_stat') IS NOT NULL AS present`,
  )) as [{ present: boolean }];
  if (!present) return;
  await q(`DELETE FROM _timescaledb_internal.bgw_job_stat`);
  await q(`DELETE FROM _timescaledb_internal.bgw_job_stat_history`);
});

afterAll(async () => {
  await client?.end().catch(() => {});
  await db?.stop();
});

describe('checkTimescale on TimescaleDB 2.23 (WASM) with sql/timescaledb/tick_data.sql', () => {
  it('passes the shape the DDL makes, aspect by aspect, by bare or qualified name', async () => {
    for (const hypertable of ['tick_data', `${SCHEMA}.tick_data`]) {
      const results = await checkTimescale(client, { ...EXPECTED, hypertable });
      expect(results.map((result) => [result.name, result.status])).toEqual([
        ['timescaledb: extension', 'pass'],
        [`timescaledb: ${hypertable} chunk interval`, 'pass'],
        [`timescaledb: ${hypertable} columnstore policy`, 'pass'],
        [`timescaledb: ${hypertable} retention policy`, 'pass'],
        [`timescaledb: ${hypertable} continuous aggregates`, 'pass'],
        [`timescaledb: ${hypertable} jobs`, 'pass'],
      ]);
    }
    const aspects = byAspect(await checkTimescale(client, EXPECTED));
    expect(aspects['timescaledb: extension']!.finding).toMatch(/^timescaledb 2\.23\.\S+ is installed$/);
    expect(aspects['chunk interval']!.finding).toBe(`${SCHEMA}.tick_data has 1 day chunks, as expected`);
    expect(aspects['columnstore policy']!.finding).toMatch(
      /^tick_data's columnstore policy \(job \d+\) moves chunks to the columnstore after 30 days$/,
    );
    expect(aspects['retention policy']!.finding).toMatch(
      /^tick_data's retention policy \(job \d+\) drops chunks older than 90 days$/,
    );
    expect(aspects['continuous aggregates']!.finding).toBe(
      `${SCHEMA}.tick_data has all 4 continuous aggregates: ${VIEWS.join(', ')}`,
    );
    expect(aspects.jobs!.finding).toBe(
      `no job of ${SCHEMA}.tick_data and its 4 continuous aggregates failed its last run`,
    );
  });

  it('compares intervals as intervals ("24 hours" is "1 day") and checks only what is expected', async () => {
    const results = await checkTimescale(client, {
      hypertable: 'tick_data',
      chunkInterval: '24 hours',
      columnstoreAfter: '720 hours',
    });
    expect(results.map((result) => [result.name, result.status])).toEqual([
      ['timescaledb: extension', 'pass'],
      ['timescaledb: tick_data chunk interval', 'pass'],
      ['timescaledb: tick_data columnstore policy', 'pass'],
      ['timescaledb: tick_data jobs', 'pass'],
    ]);
  });

  it('fails a wrong expected chunk interval, saying what it is and what was expected', async () => {
    const aspects = byAspect(await checkTimescale(client, { ...EXPECTED, chunkInterval: '7 days' }));
    expect(aspects['chunk interval']).toMatchObject({
      status: 'fail',
      finding: `${SCHEMA}.tick_data has 1 day chunks; expected 7 days`,
      details: { chunkInterval: '1 day', expected: '7 days' },
    });
    expect(aspects['columnstore policy']!.status).toBe('pass');
  });

  it('fails a table that is missing or not a hypertable, and checks nothing further', async () => {
    const missing = await checkTimescale(client, { ...EXPECTED, hypertable: 'no_such_ticks' });
    expect(missing.map((result) => [result.name, result.status, result.finding])).toEqual([
      ['timescaledb: extension', 'pass', expect.any(String)],
      [
        'timescaledb: no_such_ticks chunk interval',
        'fail',
        'no_such_ticks does not exist; expected a hypertable with 1 day chunks',
      ],
    ]);
    await q(`CREATE TABLE plain_ticks (time timestamptz NOT NULL, price numeric)`);
    try {
      const plain = byAspect(await checkTimescale(client, { hypertable: 'plain_ticks' }), 'plain_ticks');
      expect(plain['chunk interval']).toMatchObject({
        status: 'fail',
        finding: `${SCHEMA}.plain_ticks is a plain table, not a hypertable; expected a hypertable`,
      });
      expect(Object.keys(plain)).toHaveLength(2);
    } finally {
      await q(`DROP TABLE plain_ticks`);
    }
  });

  it('fails when the retention policy is missing (remove_retention_policy), and passes again once it is back', async () => {
    await q(`SELECT remove_retention_policy('tick_data')`);
    try {
      const aspects = byAspect(await checkTimescale(client, EXPECTED));
      expect(aspects['retention policy']).toMatchObject({
        status: 'fail',
        finding: 'tick_data has no retention policy; expected one that drops chunks older than 90 days',
      });
      expect(aspects['columnstore policy']!.status).toBe('pass');
    } finally {
      await q(`SELECT add_retention_policy('tick_data', drop_after => INTERVAL '90 days')`);
    }
    expect(byAspect(await checkTimescale(client, EXPECTED))['retention policy']!.status).toBe('pass');
  });

  it('fails a policy with another setting, or paused', async () => {
    const wrong = byAspect(
      await checkTimescale(client, { ...EXPECTED, columnstoreAfter: '7 days', retention: '1 year' }),
    );
    const columnstoreJob = await policyJob('policy_compression');
    expect(wrong['columnstore policy']).toMatchObject({
      status: 'fail',
      finding:
        `tick_data's columnstore policy (job ${columnstoreJob}) moves chunks to the columnstore after 30 ` +
        `days; expected 7 days`,
    });
    expect(wrong['retention policy']!.finding).toMatch(/drops chunks older than 90 days; expected 1 year$/);

    await q(`SELECT alter_job($1, scheduled => false)`, [columnstoreJob]);
    try {
      expect(byAspect(await checkTimescale(client, EXPECTED))['columnstore policy']).toMatchObject({
        status: 'fail',
        finding:
          `tick_data's columnstore policy (job ${columnstoreJob}) is paused (scheduled = false); expected it ` +
          `running, 30 days`,
      });
    } finally {
      await q(`SELECT alter_job($1, scheduled => true)`, [columnstoreJob]);
    }
  });

  it('fails a missing continuous aggregate, and one that is not built on the hypertable', async () => {
    const aspects = byAspect(
      await checkTimescale(client, { ...EXPECTED, aggregates: [...VIEWS, 'candle_4h', 'tick_data'] }),
    );
    expect(aspects['continuous aggregates']).toMatchObject({
      status: 'fail',
      finding:
        `candle_4h does not exist; tick_data is not a continuous aggregate of ${SCHEMA}.tick_data; ` +
        `expected ${[...VIEWS, 'candle_4h', 'tick_data'].join(', ')}`,
    });
    // A hierarchical aggregate counts: candle_1h reads candle_15m's materialization, not tick_data.
    expect((aspects['continuous aggregates']!.details as { found: string[] }).found.sort()).toEqual(
      VIEWS.map((view) => `${SCHEMA}.${view}`).sort(),
    );
  });

  it('warns about aggregates never refreshed (no run recorded, or only failed runs)', async () => {
    const jobs = await refreshJobs();
    await recordRun(jobs.candle_5m!, { succeeded: false, ago: '10 minutes' });
    await recordRun(jobs.candle_15m!, { succeeded: true, ago: '10 minutes' });
    await recordRun(jobs.candle_1h!, { succeeded: true, ago: '10 minutes' });
    const freshness = byAspect(await checkTimescale(client, { ...EXPECTED, maxLag: '2 hours' }))[
      'aggregate freshness'
    ]!;
    expect(freshness).toMatchObject({
      status: 'warn',
      finding:
        `${SCHEMA}.candle_1m was never refreshed (job ${jobs.candle_1m}); ` +
        `${SCHEMA}.candle_5m was never refreshed (job ${jobs.candle_5m}); expected a successful refresh ` +
        `within 2 hours`,
    });
  });

  it('passes aggregates refreshed within the lag and fails a stale one, naming when it was last refreshed', async () => {
    const jobs = await refreshJobs();
    for (const view of VIEWS) await recordRun(jobs[view]!, { succeeded: true, ago: '10 minutes' });
    const fresh = byAspect(await checkTimescale(client, { ...EXPECTED, maxLag: '2 hours' }))['aggregate freshness']!;
    expect(fresh).toMatchObject({ status: 'pass', finding: 'all 4 continuous aggregates refreshed within 2 hours' });

    await recordRun(jobs.candle_1h!, { succeeded: true, ago: '3 hours' });
    const stale = byAspect(await checkTimescale(client, { ...EXPECTED, maxLag: '2 hours' }))['aggregate freshness']!;
    expect(stale.status).toBe('fail');
    expect(stale.finding).toMatch(
      new RegExp(
        `^${SCHEMA}\\.candle_1h was last refreshed \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC, 03:00:0\\d ago ` +
          `\\(job ${jobs.candle_1h}\\); expected a successful refresh within 2 hours$`,
      ),
    );

    // Without a list of aggregates, every aggregate built on the hypertable is held to the lag.
    const all = byAspect(await checkTimescale(client, { hypertable: 'tick_data', maxLag: '4 hours' }))[
      'aggregate freshness'
    ]!;
    expect(all).toMatchObject({ status: 'pass', finding: 'all 4 continuous aggregates refreshed within 4 hours' });
  });

  it('fails an aggregate without a refresh policy: nothing refreshes it', async () => {
    const jobs = await refreshJobs();
    for (const view of VIEWS) await recordRun(jobs[view]!, { succeeded: true, ago: '10 minutes' });
    await q(`SELECT remove_continuous_aggregate_policy('candle_1h')`);
    try {
      const freshness = byAspect(await checkTimescale(client, { ...EXPECTED, maxLag: '2 hours' }))[
        'aggregate freshness'
      ]!;
      expect(freshness).toMatchObject({
        status: 'fail',
        finding: `${SCHEMA}.candle_1h has no refresh policy; expected a successful refresh within 2 hours`,
      });
    } finally {
      await q(`SELECT add_continuous_aggregate_policy('candle_1h', start_offset => INTERVAL '1 day', end_offset => INTERVAL '1 hour',
                                                     schedule_interval => INTERVAL '1 hour')`);
    }
  });

  it('fails a failing job of the hypertable or its aggregates, naming the job, its proc and its last error', async () => {
    const jobs = await refreshJobs();
    const retentionJob = await policyJob('policy_retention');
    await recordRun(jobs.candle_5m!, { succeeded: false, ago: '2 minutes' });
    await recordError(jobs.candle_5m!, 'could not refresh continuous aggregate on purpose');
    await recordRun(retentionJob, { succeeded: false, ago: '1 hour' }); // no error in the history: the run's start is named

    const jobsResult = byAspect(await checkTimescale(client, EXPECTED)).jobs!;
    expect(jobsResult.status).toBe('fail');
    // Listed by job id (the retention policy was re-added above, so its id is the higher one).
    const at = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC';
    const failures = [
      { id: retentionJob, text: `job ${retentionJob} \\(policy_retention on tick_data\\) last failed ${at}` },
      {
        id: jobs.candle_5m!,
        text:
          `job ${jobs.candle_5m} \\(policy_refresh_continuous_aggregate on candle_5m\\) last failed ` +
          `${at}: could not refresh continuous aggregate on purpose`,
      },
    ].sort((a, b) => a.id - b.id);
    expect(jobsResult.finding).toMatch(
      new RegExp(
        `^2 jobs of ${SCHEMA}\\.tick_data and its 4 continuous aggregates failing: ` +
          `${failures.map((failure) => failure.text).join('; ')}$`,
      ),
    );
    expect(jobsResult.details).toEqual(
      expect.arrayContaining([
        {
          jobId: retentionJob,
          proc: 'policy_retention',
          table: `${SCHEMA}.tick_data`,
          totalFailures: 1,
          lastError: null,
        },
        {
          jobId: jobs.candle_5m,
          proc: 'policy_refresh_continuous_aggregate',
          table: `${SCHEMA}.candle_5m`,
          totalFailures: 1,
          lastError: {
            finish_time: expect.stringMatching(/ UTC$/),
            err_message: 'could not refresh continuous aggregate on purpose',
          },
        },
      ]),
    );
    expect(jobsResult.details).toHaveLength(2);
  });

  it(
    'leaves failing jobs of other tables alone (as sql-timescaledb.test.ts fails one: add_job, run_job, the ' +
      'stats row)',
    async () => {
      await q(`CREATE FUNCTION ${SCHEMA}.backstop_other_job(job_id integer, config jsonb) RETURNS void
             LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'another job fails on purpose'; END $$`);
      const [{ id }] = (await q<{ id: number }>(
        `SELECT add_job('${SCHEMA}.backstop_other_job', INTERVAL '1 day', scheduled => false) AS id`,
      )) as [{ id: number }];
      try {
        await expect(client.query(`CALL run_job($1)`, [id])).rejects.toThrow(/fails on purpose/);
        await recordRun(id, { succeeded: false, ago: '1 minute' });
        expect(
          await q(`SELECT job_id FROM timescaledb_information.job_stats WHERE last_run_status = 'Failed'`),
        ).toEqual([{ job_id: id }]);
        expect(byAspect(await checkTimescale(client, EXPECTED)).jobs!.status).toBe('pass');
      } finally {
        await q(`SELECT delete_job($1)`, [id]);
      }
    },
  );

  it('refuses an expectation that is not an interval before checking anything', async () => {
    await expect(checkTimescale(client, { ...EXPECTED, maxLag: 'two hours' })).rejects.toThrow(ConfigurationError);
    await expect(checkTimescale(client, { ...EXPECTED, retention: '90 dayz' })).rejects.toThrow(
      /retention "90 dayz" is not an interval/,
    );
    await expect(checkTimescale(client, { hypertable: 'a.b.c.d' })).rejects.toThrow(ConfigurationError);
  });

  it('the library queries answer as documented', async () => {
    expect(await q(RELATION_NAME_SQL, ['tick_data'])).toEqual([{ nspname: SCHEMA, relname: 'tick_data' }]);
    expect(await q(RELATION_NAME_SQL, ['nope'])).toEqual([]);
    const [setting] = await q(POLICY_SETTING_SQL, ['tick_data', 'policy_retention', 'drop_after', '2160 hours']);
    expect(setting).toMatchObject({ setting: '90 days', matches: true, scheduled: true });
    expect(await q(POLICY_SETTING_SQL, ['tick_data', 'policy_reorder', 'index_name', '1 day'])).toEqual([]);
    const freshness = await q(CAGG_FRESHNESS_SQL, ['1 hour']);
    expect(freshness.map((row) => [row.view_name, row.last_refresh, row.fresh])).toEqual(
      [...VIEWS].sort().map((view) => [view, null, null]),
    );
    expect(await q(LAST_JOB_ERRORS_SQL, [[1, 2, 3]])).toEqual([]);
  });

  it('fails "timescaledb: extension", alone, when the extension is absent', async () => {
    // Last: dropping the extension drops the hypertable and everything built on it.
    await q(`DROP EXTENSION timescaledb CASCADE`);
    expect(await checkTimescale(client, EXPECTED)).toEqual([
      {
        name: 'timescaledb: extension',
        status: 'fail',
        finding: 'the timescaledb extension is not installed in this database; expected it, with hypertable tick_data',
        details: undefined,
      },
    ]);
  });
});
