import { CANDLE_VIEWS as VIEWS } from '../../actions/lib/ticks/ddl.ts';

/**
 * One set of hand-made ticks and the candles they must give, shared by the TimescaleDB and the plain-PostgreSQL
 * shape tests: both shapes must produce exactly the same OHLCV from the same ticks.
 */
export const CANDLE_VIEWS = VIEWS as readonly CandleView[];

export type CandleView = 'candle_1m' | 'candle_5m' | 'candle_15m' | 'candle_1h';

/** Inserted out of time order on purpose: open/close follow time, not arrival. */
export function fixtureTicksSql(day: string): string {
  return `INSERT INTO tick_data (time, symbol, last_price, volume, bid_price, ask_price) VALUES
      ('${day} 10:00:50+00', 'EURUSD', 1.20, 4, NULL, NULL),
      ('${day} 10:00:05+00', 'EURUSD', 1.10, 2, 1.09, 1.11),
      ('${day} 10:00:35+00', 'EURUSD', 1.30, 1, NULL, NULL),
      ('${day} 10:00:20+00', 'EURUSD', 1.00, 3, NULL, NULL),
      ('${day} 10:01:10+00', 'EURUSD', 1.50, 1, NULL, NULL),
      ('${day} 10:07:00+00', 'EURUSD', 0.90, 5, NULL, NULL),
      ('${day} 10:59:59.999999+00', 'EURUSD', 1.40, 6, NULL, NULL),
      ('${day} 11:00:00+00', 'EURUSD', 1.60, 2, NULL, NULL),
      ('${day} 10:00:30+00', 'GBPUSD', 2.00, 7, NULL, NULL)`;
}

/** The select list candle assertions read (bucket as UTC HH24:MI, numbers as exact text). */
export const CANDLE_COLUMNS_SQL = `to_char(bucket AT TIME ZONE 'UTC', 'HH24:MI') AS at, symbol, open::text, high::text,
         low::text, close::text, volume::text`;

export interface Candle {
  at: string;
  symbol: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

export const candle = (at: string, symbol: string, o: string, h: string, l: string, cl: string, v: string): Candle => ({
  at,
  symbol,
  open: o,
  high: h,
  low: l,
  close: cl,
  volume: v,
});

export const EXPECTED_CANDLES: Record<CandleView, Candle[]> = {
  candle_1m: [
    candle('10:00', 'EURUSD', '1.10000000', '1.30000000', '1.00000000', '1.20000000', '10'),
    candle('10:01', 'EURUSD', '1.50000000', '1.50000000', '1.50000000', '1.50000000', '1'),
    candle('10:07', 'EURUSD', '0.90000000', '0.90000000', '0.90000000', '0.90000000', '5'),
    candle('10:59', 'EURUSD', '1.40000000', '1.40000000', '1.40000000', '1.40000000', '6'),
    candle('11:00', 'EURUSD', '1.60000000', '1.60000000', '1.60000000', '1.60000000', '2'),
    candle('10:00', 'GBPUSD', '2.00000000', '2.00000000', '2.00000000', '2.00000000', '7'),
  ],
  candle_5m: [
    candle('10:00', 'EURUSD', '1.10000000', '1.50000000', '1.00000000', '1.50000000', '11'),
    candle('10:05', 'EURUSD', '0.90000000', '0.90000000', '0.90000000', '0.90000000', '5'),
    candle('10:55', 'EURUSD', '1.40000000', '1.40000000', '1.40000000', '1.40000000', '6'),
    candle('11:00', 'EURUSD', '1.60000000', '1.60000000', '1.60000000', '1.60000000', '2'),
    candle('10:00', 'GBPUSD', '2.00000000', '2.00000000', '2.00000000', '2.00000000', '7'),
  ],
  candle_15m: [
    candle('10:00', 'EURUSD', '1.10000000', '1.50000000', '0.90000000', '0.90000000', '16'),
    candle('10:45', 'EURUSD', '1.40000000', '1.40000000', '1.40000000', '1.40000000', '6'),
    candle('11:00', 'EURUSD', '1.60000000', '1.60000000', '1.60000000', '1.60000000', '2'),
    candle('10:00', 'GBPUSD', '2.00000000', '2.00000000', '2.00000000', '2.00000000', '7'),
  ],
  candle_1h: [
    candle('10:00', 'EURUSD', '1.10000000', '1.50000000', '0.90000000', '1.40000000', '22'),
    candle('11:00', 'EURUSD', '1.60000000', '1.60000000', '1.60000000', '1.60000000', '2'),
    candle('10:00', 'GBPUSD', '2.00000000', '2.00000000', '2.00000000', '2.00000000', '7'),
  ],
};
