import type { Origin } from '../action/origin.ts';
import type { CandleColumns, TickTableDefinition } from './ddl.ts';
import type { ResolvedTable } from './tables.ts';

/** The columns the candles read, as the user chose them. */
export interface CandleChoice {
  /** Undefined: last_price when the table has it, else price. */
  price?: string;
  priceOrigin: Origin;
  volume: string;
  volumeOrigin: Origin;
}

const SYMBOL = 'symbol';
const DEFAULT_PRICES = ['last_price', 'price'];

export interface DefinedTable {
  definition: TickTableDefinition;
  /** Why there are no candles (one line), when there are none. */
  noCandles?: string;
}

/**
 * The tick table setup: auto makes from a table's own columns (the source's, or the existing target's): every
 * column kept with its type and nullability, the columnstore segmented by symbol when there is one, and candles
 * when the price, volume and symbol columns exist.
 */
export function defineTickTable(table: ResolvedTable, timeColumn: string, choice: CandleChoice): DefinedTable {
  const has = (name: string): boolean => table.columns.some((column) => column.name === name);
  const price = choice.price ?? DEFAULT_PRICES.find(has) ?? DEFAULT_PRICES[0]!;
  const missing = [
    ...(has(price)
      ? []
      : [choice.price ? `price column "${price}" (${choice.priceOrigin})` : `last_price or price column`]),
    ...(has(choice.volume) ? [] : [`volume column "${choice.volume}" (${choice.volumeOrigin})`]),
    ...(has(SYMBOL) ? [] : ['symbol column']),
  ];
  const candles: CandleColumns | undefined =
    missing.length === 0 ? { symbol: SYMBOL, price, volume: choice.volume } : undefined;
  const definition: TickTableDefinition = {
    columns: table.columns.map(({ name, type, notNull }) => ({ name, type, notNull })),
    timeColumn,
    symbolColumn: has(SYMBOL) ? SYMBOL : undefined,
    candles,
  };
  if (candles) return { definition };
  return {
    definition,
    noCandles:
      `No candles: ${table.schema}.${table.name} has no ${missing.join(', no ')}, so the candle aggregates are ` +
      `skipped; the ticks are copied all the same. For candles, set ${choice.priceOrigin} and ` +
      `${choice.volumeOrigin} to its columns (it has ${table.columns.map((column) => column.name).join(', ')}).`,
  };
}

/** How the candles are made, for the summary: `last_price, volume`. */
export function describeCandles(candles: CandleColumns): string {
  return `open/high/low/close from ${candles.price}, volume from ${candles.volume}`;
}
