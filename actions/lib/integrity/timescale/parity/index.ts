/** TimescaleDB between two databases: shapes, continuous aggregates' rows and jobs (compare.ts). */
export { compareTimescale, type TimescaleParitySettings } from './compare.ts';
