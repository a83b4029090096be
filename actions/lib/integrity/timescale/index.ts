/** TimescaleDB integrity: one hypertable against its expected chunks, policies, aggregates and jobs (checks.ts). */
export { checkTimescale } from './checks.ts';
export type { TimescaleExpectation } from './expectation.ts';
