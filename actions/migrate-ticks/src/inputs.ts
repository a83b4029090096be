import { ConfigurationError } from '../../lib/action/errors.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { parseDatabaseUrl } from '../../lib/pg/connection.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import type { MigrateOptions } from '../../lib/ticks/migrate.ts';
import { parseShard } from '../../lib/ticks/plan.ts';
import { parseTableName } from '../../lib/ticks/tables.ts';

export const INPUTS = {
  'source-url': {
    description: 'postgresql:// URL of the database the ticks are in (a secret).',
    required: true,
    secret: 'url',
  },
  'target-url': {
    description: 'postgresql:// URL of the TimescaleDB (or plain PostgreSQL) to copy into (a secret).',
    required: true,
    secret: 'url',
  },
  'source-table': { description: 'Source table, optionally schema-qualified.', default: 'tick_data' },
  'target-table': { description: 'Target table, optionally schema-qualified.', default: 'tick_data' },
  'time-column': {
    description: 'The timestamp column ranges are cut on (the same name on both sides).',
    default: 'time',
  },
  from: {
    description:
      'First instant to copy (ISO date or timestamp, UTC unless it says otherwise); default: the oldest row.',
  },
  to: { description: 'Copy rows before this instant; default: just past the newest row.' },
  workers: { description: 'Ranges copied in parallel.', default: '2' },
  verify: {
    description:
      "stream: each range's rows counted three times, as the source sent them, as they crossed the pipe and as the " +
      'target stored them, all equal (binary COPY moves every value in its own binary form); reread: also read ' +
      'every range back on both sides for a count and checksum of every row (a second pass over both).',
    default: 'stream',
  },
  setup: {
    description:
      "auto: create the target from the source's columns as a TimescaleDB hypertable with candles (or native daily " +
      'partitions without TimescaleDB); none: use the target table as it is.',
    default: 'auto',
  },
  'price-column': {
    description:
      'Source column the candles take open/high/low/close from (setup auto); default: last_price when the source ' +
      'has it, else price.',
  },
  'volume-column': { description: 'Source column the candles sum as volume (setup auto).', default: 'volume' },
  shard: {
    description:
      'i/n: this run takes every n-th range, starting with the i-th (a workflow matrix spreads one migration).',
    default: '1/1',
  },
  'dry-run': {
    description: 'Print the plan (ranges, source rows, estimated time) and write nothing.',
    default: 'false',
  },
} as const satisfies InputSpecs;

export type MigrateInputs = Omit<MigrateOptions, 'log' | 'warn'>;

export function readInputs(runtime: Runtime): MigrateInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const { range, ...read } = inputs.fields<Omit<MigrateInputs, 'from' | 'to'> & { range: TimeBounds }>({
    source: () => parseDatabaseUrl(inputs.string('source-url'), inputs.origin('source-url')),
    target: () => parseDatabaseUrl(inputs.string('target-url'), inputs.origin('target-url')),
    sourceTable: () => parseTableName(inputs.string('source-table'), inputs.origin('source-table')),
    targetTable: () => parseTableName(inputs.string('target-table'), inputs.origin('target-table')),
    timeColumn: () => inputs.string('time-column'),
    timeColumnOrigin: () => inputs.origin('time-column'),
    range: () => readRange(inputs),
    workers: () => inputs.integer('workers', { min: 1, max: 32 }),
    verify: () => inputs.choice('verify', ['stream', 'reread'] as const),
    setup: () => inputs.choice('setup', ['auto', 'none'] as const),
    setupOrigin: () => inputs.origin('setup'),
    candles: () => ({
      price: inputs.optional('price-column'),
      priceOrigin: inputs.origin('price-column'),
      volume: inputs.string('volume-column'),
      volumeOrigin: inputs.origin('volume-column'),
    }),
    shard: () => parseShard(inputs.string('shard'), inputs.origin('shard')),
    dryRun: () => inputs.boolean('dry-run'),
  });
  return { ...read, ...range };
}

type TimeBounds = Pick<MigrateInputs, 'from' | 'to'>;

/** from and to, each checked on its own; their order only once both are dates. */
function readRange(inputs: InputReader): TimeBounds {
  const { from, to } = inputs.fields<TimeBounds>({
    from: () => readInstant(inputs.optional('from'), 'from'),
    to: () => readInstant(inputs.optional('to'), 'to'),
  });
  if (from && to && to <= from) {
    throw new ConfigurationError(
      `Input "to" (${to.toISOString()}) is not after input "from" (${from.toISOString()}): swap them, or leave ` +
        `one empty.`,
    );
  }
  return { from, to };
}

/** 2026-01-05 (a UTC day) or a full ISO timestamp; an instant without a zone is taken as UTC. */
function readInstant(text: string | undefined, name: string): Date | undefined {
  if (!text) return undefined;
  const withZone = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? `${text}T00:00:00Z`
    : /[zZ]|[+-]\d{2}:?\d{2}$/.test(text)
      ? text
      : `${text}Z`;
  const date = new Date(withZone);
  if (Number.isNaN(date.getTime())) {
    throw new ConfigurationError(
      `Input "${name}" is "${text}", not a date or timestamp: use e.g. 2026-01-05 or 2026-01-05T13:30:00Z.`,
    );
  }
  return date;
}
