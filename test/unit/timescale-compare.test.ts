import { describe, expect, it } from 'vitest';
import type { TimescaleObjects } from '../../actions/lib/manifest/schema.ts';
import { compareTimescaleObjects } from '../../actions/lib/postgres/timescale.ts';

/** The comparison a drill makes between the manifest's TimescaleDB record and the restored database. */
function seedObjects(): TimescaleObjects {
  return {
    version: '2.24.0',
    hypertables: [
      {
        schema: 'public',
        name: 'tick_data',
        timeColumn: 'time',
        chunkInterval: '1 day',
        compression: { enabled: true, segmentBy: ['symbol'], orderBy: ['"time" DESC'] },
        chunks: 41,
        compressedChunks: 1,
      },
    ],
    continuousAggregates: ['candle_1m', 'candle_1h'].map((name, index) => ({
      schema: 'public',
      name,
      source: 'public.tick_data',
      materializedOnly: true,
      definitionSha256: String(index).repeat(64),
      rows: 1000 - index,
    })),
    jobs: [
      job('policy_compression', 'public.tick_data', { compress_after: '30 days' }),
      job('policy_retention', 'public.tick_data', { drop_after: '90 days' }),
    ],
  };
}

function job(proc: string, hypertable: string | null, config: Record<string, unknown>) {
  return { proc, hypertable, scheduleInterval: '12:00:00', scheduled: true, config };
}

describe('compareTimescaleObjects', () => {
  it('finds nothing when the restored objects equal the record, whatever the order of config keys', () => {
    const restored = seedObjects();
    restored.jobs[0]!.config = { hypertable_id: 1, compress_after: '30 days' };
    const expected = seedObjects();
    expected.jobs[0]!.config = { compress_after: '30 days', hypertable_id: 1 };
    const { check, problems } = compareTimescaleObjects(expected, restored, true);
    expect(problems).toEqual([]);
    expect(check).toEqual({
      version: '2.24.0',
      hypertables: { expected: 1, matching: 1 },
      continuousAggregates: { expected: 2, matching: 2 },
      jobs: { expected: 2, matching: 2 },
      definitionsCompared: true,
    });
  });

  it('names each difference: settings, a missing object, an extra one, a definition', () => {
    const restored = seedObjects();
    const hypertable = restored.hypertables[0]!;
    hypertable.chunkInterval = '7 days';
    hypertable.compression = { enabled: false, segmentBy: [], orderBy: [] };
    restored.continuousAggregates[0]!.definitionSha256 = 'f'.repeat(64);
    restored.continuousAggregates.pop();
    restored.continuousAggregates.push({ ...restored.continuousAggregates[0]!, name: 'candle_5m' });
    restored.jobs[1]!.scheduled = false;
    const { check, problems } = compareTimescaleObjects(seedObjects(), restored, true);
    expect(problems).toEqual([
      'hypertable public.tick_data: chunk interval 7 days, the manifest says 1 day',
      'hypertable public.tick_data: compression off, the manifest says on',
      'hypertable public.tick_data: segmentby (none), the manifest says symbol',
      'hypertable public.tick_data: orderby (none), the manifest says "time" DESC',
      "continuous aggregate public.candle_1m: its definition differs from the manifest's (sha256 ffffffffffff, the " +
        'manifest says 000000000000)',
      'continuous aggregate public.candle_1h: missing after restore',
      'continuous aggregate public.candle_5m: restored, but not in the manifest',
      'job policy_retention on public.tick_data: scheduled false, the manifest says true',
    ]);
    expect(check.continuousAggregates).toEqual({ expected: 2, matching: 0 });
    expect(check.jobs).toEqual({ expected: 2, matching: 1 });
  });

  it('leaves view definitions alone when asked to (another PostgreSQL major prints views its own way)', () => {
    const restored = seedObjects();
    restored.continuousAggregates[0]!.definitionSha256 = 'f'.repeat(64);
    const { check, problems } = compareTimescaleObjects(seedObjects(), restored, false);
    expect(problems).toEqual([]);
    expect(check.definitionsCompared).toBe(false);
  });

  it('matches jobs without a hypertable by their settings, and counts a lost or an added one', () => {
    const expected = seedObjects();
    expected.jobs.push(job('nightly_report', null, { to: 'ops' }), job('nightly_report', null, { to: 'dev' }));
    const restored = seedObjects();
    restored.jobs.push(job('nightly_report', null, { to: 'dev' }), job('vacuum_ticks', null, {}));
    const { check, problems } = compareTimescaleObjects(expected, restored, true);
    expect(problems).toEqual([
      'job nightly_report on no hypertable: missing after restore',
      'job vacuum_ticks on no hypertable: restored, but not in the manifest (schedule 12:00:00, config {})',
    ]);
    expect(check.jobs).toEqual({ expected: 4, matching: 3 });
  });
});
