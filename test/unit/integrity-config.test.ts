import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../actions/lib/action/errors.ts';
import { emptyConfig, parseConfig } from '../../actions/lib/integrity/config.ts';
import { normalizedDefinition } from '../../actions/lib/integrity/timescale/parity/catalog.ts';

describe('the validate-integrity config: timescaledb-parity', () => {
  it('is unset by default (compared when both sides have TimescaleDB), and reads enabled and aggregates', () => {
    expect(emptyConfig().timescaleParity).toEqual({});
    expect(parseConfig({}, 'c.yml').timescaleParity).toEqual({ enabled: undefined, aggregates: undefined });
    expect(parseConfig({ 'timescaledb-parity': { enabled: false } }, 'c.yml').timescaleParity.enabled).toBe(false);
    expect(
      parseConfig({ 'timescaledb-parity': { aggregates: ['candle_1m', 'ticks.candle_1h'] } }, 'c.yml').timescaleParity,
    ).toEqual({ enabled: undefined, aggregates: ['candle_1m', 'ticks.candle_1h'] });
  });

  it.each([
    [{ 'timescaledb-parity': [] }, '"timescaledb-parity" at the top level must be a mapping of keys.'],
    [{ 'timescaledb-parity': { enabled: 'no' } }, '"enabled" at timescaledb-parity must be true or false.'],
    [{ 'timescaledb-parity': { aggregates: 'candle_1m' } }, '"aggregates" at timescaledb-parity must be a list of'],
    [
      { 'timescaledb-parity': { aggregate: ['x'] } },
      'unknown key "aggregate" at timescaledb-parity; known keys: enabled',
    ],
  ])('refuses %j in one line naming the key', (data, message) => {
    expect(() => parseConfig(data, 'c.yml')).toThrow(ConfigurationError);
    expect(() => parseConfig(data, 'c.yml')).toThrow(message);
  });

  it('keeps the single-database timescaledb expectations as they were', () => {
    const config = parseConfig({ timescaledb: [{ hypertable: 'tick_data', 'chunk-interval': '1 day' }] }, 'c.yml');
    expect(config.timescaledb).toEqual([
      {
        hypertable: 'tick_data',
        chunkInterval: '1 day',
        columnstoreAfter: undefined,
        retention: undefined,
        aggregates: undefined,
        maxLag: undefined,
      },
    ]);
  });
});

describe('continuous aggregate definitions, as two servers can agree on them', () => {
  // PostgreSQL 15 writes the source before each column; 17 does not. The extension's schema differs by provider.
  const pg15 = `SELECT extensions.time_bucket('00:05:00'::interval, tick_data."time") AS bucket,
    tick_data.symbol, extensions.first(tick_data.last_price, tick_data."time") AS open
   FROM public.tick_data
  GROUP BY (extensions.time_bucket('00:05:00'::interval, tick_data."time")), tick_data.symbol;`;
  const pg17 = `SELECT time_bucket('00:05:00'::interval, "time") AS bucket,
    symbol, first(last_price, "time") AS open
   FROM public.tick_data
  GROUP BY (time_bucket('00:05:00'::interval, "time")), symbol;`;

  it('leave out the extension schema before functions and the source before columns, not the table schema', () => {
    expect(normalizedDefinition(pg15, 'extensions', 'public.tick_data')).toBe(pg17);
    expect(
      normalizedDefinition(pg17.replace(/time_bucket\(/g, 'public.time_bucket('), 'public', 'public.tick_data'),
    ).toBe(pg17);
  });

  it('still differ where the aggregates do', () => {
    const other = pg15.replace("'00:05:00'", "'00:10:00'");
    expect(normalizedDefinition(other, 'extensions', 'public.tick_data')).not.toBe(pg17);
    // Another table of the same name in another schema is another source.
    expect(
      normalizedDefinition(pg17.replace('public.tick_data', 'ticks.tick_data'), 'public', 'ticks.tick_data'),
    ).not.toBe(pg17);
  });
});
