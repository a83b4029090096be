/**
 * TimescaleDB integrity: one hypertable against its expected chunks, policies, aggregates and jobs (checks.ts), and
 * two databases against each other (parity/).
 */
export { checkTimescale } from './checks.ts';
export type { TimescaleExpectation } from './expectation.ts';
export { compareTimescale, type TimescaleParitySettings } from './parity/index.ts';
