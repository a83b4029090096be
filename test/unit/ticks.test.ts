import { describe, expect, it } from 'vitest';
import { fingerprintSql } from '../../actions/lib/pg/fingerprint.ts';
import { Origin } from '../../actions/lib/action/origin.ts';
import { describeRange, parseShard, planRanges } from '../../actions/lib/ticks/plan.ts';
import { parseTableName } from '../../actions/lib/ticks/tables.ts';
import { postgresDdl, SEED_TICK_TABLE, timescaleDdl } from '../../actions/lib/ticks/ddl.ts';
import { defineTickTable } from '../../actions/lib/ticks/definition.ts';

const DAY = 86_400_000;
const at = (iso: string): Date => new Date(iso);

describe('range planning', () => {
  it('aligns ranges to UTC days, clipping the first and last to from and to', () => {
    const ranges = planRanges(at('2026-01-05T13:00:00Z'), at('2026-01-07T06:00:00Z'), DAY);
    expect(ranges.map((r) => [r.start.toISOString(), r.end.toISOString()])).toEqual([
      ['2026-01-05T13:00:00.000Z', '2026-01-06T00:00:00.000Z'],
      ['2026-01-06T00:00:00.000Z', '2026-01-07T00:00:00.000Z'],
      ['2026-01-07T00:00:00.000Z', '2026-01-07T06:00:00.000Z'],
    ]);
    expect(describeRange(ranges[1]!)).toBe('2026-01-06');
    expect(describeRange(ranges[0]!)).toBe('2026-01-05T13:00:00.000Z–2026-01-06T00:00:00.000Z');
  });

  it('shards take every n-th range, together covering each range exactly once', () => {
    const all = planRanges(at('2026-01-01T00:00:00Z'), at('2026-01-11T00:00:00Z'), DAY);
    const shards = [1, 2, 3].map((index) =>
      planRanges(at('2026-01-01T00:00:00Z'), at('2026-01-11T00:00:00Z'), DAY, { index, count: 3 }),
    );
    expect(shards.map((s) => s.length)).toEqual([4, 3, 3]);
    const merged = shards
      .flat()
      .map((r) => r.start.getTime())
      .sort((a, b) => a - b);
    expect(merged).toEqual(all.map((r) => r.start.getTime()));
  });

  it('parses shards and rejects impossible ones', () => {
    expect(parseShard('2/4', Origin.input('shard'))).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', '1/0', 'two', '1-2'])
      expect(() => parseShard(bad, Origin.input('shard'))).toThrow('Input "shard"');
  });
});

describe('table names', () => {
  it('fold unquoted names to lower case and keep quoted ones', () => {
    expect(parseTableName('Tick_Data', Origin.input('t'))).toMatchObject({ schema: undefined, name: 'tick_data' });
    expect(parseTableName('market."Ticks ""raw"""', Origin.input('t'))).toMatchObject({
      schema: 'market',
      name: 'Ticks "raw"',
    });
    expect(() => parseTableName('a.b.c', Origin.input('source-table'))).toThrow('Input "source-table" is "a.b.c"');
    expect(() => parseTableName("x'; drop table y", Origin.input('source-table'))).toThrow('Input "source-table"');
  });
});

describe('range fingerprint', () => {
  it('hashes the same columns, cast where the other side differs, over a half-open range', () => {
    const sql = fingerprintSql({
      schema: 'public',
      name: 'tick_data',
      timeColumn: 'time',
      columns: ['time', 'last_price'],
      casts: [undefined, 'numeric(20,8)'],
    });
    expect(sql).toContain('SELECT "time", "last_price"::numeric(20,8) FROM "public"."tick_data"');
    expect(sql).toContain('WHERE "time" >= $1 AND "time" < $2');
    expect(sql).toContain('sum(hashtext(r::text)::bigint)');
    expect(fingerprintSql({ schema: 'public', name: 't', timeColumn: 'time', columns: ['time'] }, 'record')).toContain(
      'sum(hash_record_extended(r, 0))',
    );
  });
});

describe('the table setup: auto makes', () => {
  const table = (...names: string[]) => ({
    schema: 'public',
    name: 'tick_data',
    columns: names.map((name) => ({
      name,
      type: name === 'time' ? 'timestamp with time zone' : 'numeric',
      notNull: false,
    })),
  });
  const choice = (price?: string) => ({
    price,
    priceOrigin: Origin.input('price-column'),
    volume: 'volume',
    volumeOrigin: Origin.input('volume-column'),
  });

  it('takes the candle price from last_price before price, or from the column named', () => {
    const both = table('time', 'symbol', 'price', 'last_price', 'volume');
    expect(defineTickTable(both, 'time', choice()).definition.candles).toEqual({
      symbol: 'symbol',
      price: 'last_price',
      volume: 'volume',
    });
    expect(defineTickTable(both, 'time', choice('price')).definition.candles?.price).toBe('price');
    expect(
      defineTickTable(table('time', 'symbol', 'price', 'volume'), 'time', choice()).definition.candles?.price,
    ).toBe('price');
  });

  it('skips the candles, saying why in one line, when a column is missing; the columns stay as they are', () => {
    const defined = defineTickTable(table('time', 'symbol', 'volume'), 'time', choice('mid'));
    expect(defined.definition.candles).toBeUndefined();
    expect(defined.definition.columns.map((column) => column.name)).toEqual(['time', 'symbol', 'volume']);
    expect(defined.noCandles).toBe(
      'No candles: public.tick_data has no price column "mid" (input "price-column"), so the candle aggregates are ' +
        'skipped; the ticks are copied all the same. For candles, set input "price-column" and input ' +
        '"volume-column" to its columns (it has time, symbol, volume).',
    );
    expect(defineTickTable(table('time', 'price', 'volume'), 'time', choice()).noCandles).toContain(
      'has no symbol column,',
    );
  });

  it('without a symbol: no segmentby, no (symbol, time) index, no candles, in both shapes', () => {
    const { definition } = defineTickTable(table('time', 'price', 'volume'), 'time', choice());
    const timescale = timescaleDdl(definition);
    expect(timescale).not.toContain('segmentby');
    expect(timescale).toContain(`timescaledb.orderby = '"time" DESC'`);
    expect(timescale).not.toMatch(/CREATE (INDEX|MATERIALIZED VIEW)/);
    expect(postgresDdl(definition)).not.toMatch(/CREATE (INDEX|MATERIALIZED VIEW)|backstop_refresh_candles/);
    expect(timescaleDdl(SEED_TICK_TABLE).match(/CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)/g)).toHaveLength(4);
  });
});
