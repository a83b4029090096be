import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type ScratchCluster } from '../harness/postgres.ts';
import { sayWhenTimescaleIsMissing, startTimescaleCluster, TIMESCALE } from '../harness/timescale.ts';

sayWhenTimescaleIsMissing();

describe.runIf(TIMESCALE)('a test cluster with the installed TimescaleDB', () => {
  let cluster: ScratchCluster;
  beforeAll(async () => {
    cluster = await startTimescaleCluster();
  });
  afterAll(async () => cluster?.stop());

  it('preloads the library, so the extension can be created and used', async () => {
    await sql(cluster.url, 'CREATE EXTENSION IF NOT EXISTS timescaledb');
    const [row] = await sql<{ v: string }>(
      cluster.url,
      "SELECT extversion AS v FROM pg_extension WHERE extname = 'timescaledb'",
    );
    expect(row!.v).toBe(TIMESCALE!.version);
    const [telemetry] = await sql<{ level: string }>(
      cluster.url,
      "SELECT current_setting('timescaledb.telemetry_level') AS level",
    );
    expect(telemetry!.level).toBe('off');
  });
});
