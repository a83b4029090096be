/**
 * The TimescaleDB catalog queries now live in the library, next to the integrity check that runs them
 * (actions/lib/integrity/timescale/sql.ts); they are re-exported here for the tests that verify them against
 * TimescaleDB (test/integration/sql-timescaledb.test.ts, test/integration/integrity-timescale.test.ts).
 */
export {
  CAGGS_SQL,
  CAGG_FRESHNESS_SQL,
  CAGG_REFRESH_POLICIES_SQL,
  FAILING_JOBS_SQL,
  HYPERTABLE_INTERVAL_SQL,
  LAST_JOB_ERRORS_SQL,
  POLICIES_SQL,
  POLICY_SETTING_SQL,
  RELATION_NAME_SQL,
  TIMESCALEDB_VERSION_SQL,
} from '../../actions/lib/integrity/timescale/sql.ts';
