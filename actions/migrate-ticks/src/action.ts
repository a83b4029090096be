import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type MigrateTicksOutput } from './main.ts';

/** migrate-ticks: the one place its contract is written (action.yml and the README's tables are generated from it). */
export default defineAction<MigrateTicksOutput>({
  name: 'migrate-ticks',
  description:
    'Copy tick data from PostgreSQL into a TimescaleDB hypertable (or native partitions) range by range, resumable, ' +
    'every range verified.',
  branding: { icon: 'trending-up', color: 'orange' },
  inputs: documented(INPUTS, {
    'source-url': { docs: '`postgresql://` URL of the database the ticks are in. Masked.' },
    'target-url': { docs: '`postgresql://` URL of the TimescaleDB (or plain PostgreSQL) to copy into. Masked.' },
    'source-table': { docs: 'Source table, optionally schema-qualified.' },
    'target-table': { docs: 'Target table, optionally schema-qualified.' },
    'time-column': { docs: 'The timestamp column ranges are cut on, the same name on both sides.' },
    from: { defaultLabel: 'oldest row', docs: 'First instant to copy: `2026-01-05` (a UTC day) or an ISO timestamp.' },
    to: { defaultLabel: 'past the newest row', docs: 'Copy rows before this instant.' },
    workers: { docs: 'Ranges copied in parallel (each uses one source and one target connection).' },
    verify: {
      docs:
        "`stream`: each range's rows counted as the source's COPY sent them, as they crossed the pipe and as the " +
        "target's COPY stored them, all three equal (binary COPY moves every value in its own binary form, so what " +
        "crosses is what the source holds); the stream's sha256 goes into the ledger. `reread`: also reads every " +
        'range back on both sides for a count and a checksum of every row: a second pass over both, ~1.5× the time.',
    },
    setup: {
      docs:
        "`auto`: create the target table from the source's own columns (names, types, nullability; nothing dropped) " +
        'unless it exists, then, when the target server has TimescaleDB, make it a hypertable with 1-day chunks, ' +
        'the columnstore after 30 days (segmented by `symbol`, newest first), 90-day retention and the candle ' +
        'aggregates `candle_1m`, `candle_5m`, `candle_15m`, `candle_1h` with their refresh policies (the extension ' +
        'is created when missing; a server that does not preload the library fails with what to set); without ' +
        'TimescaleDB, daily partitions for the copy range and candle materialized views. The same statements as ' +
        '`sql/timescaledb/tick_data.sql` and `sql/postgres/tick_data.sql`, idempotent. `none`: use the target ' +
        'table as it is (every column of it must exist in the source).',
    },
    'price-column': {
      defaultLabel: '`last_price`, else `price`',
      docs:
        'The column the candles take open/high/low/close from. Without it (or without `volume-column` or a ' +
        '`symbol` column) the ticks still migrate and the candles are skipped with one warning.',
    },
    'volume-column': { docs: 'The column the candles sum as their volume.' },
    shard: { docs: '`i/n`: this run takes every n-th range starting with the i-th.' },
    'dry-run': {
      docs:
        'Print the plan (ranges, source rows per range, what the ledger already holds, estimated time); write ' +
        'nothing at all.',
    },
  }),
  outputs: {
    'rows-copied': {
      description: 'Rows copied by this run (0 when every range was already in the ledger).',
      docs: 'rows copied by this run (0 on a rerun of a finished migration)',
    },
    'chunks-copied': {
      description: 'Ranges copied and verified by this run.',
      docs: 'ranges copied and verified by this run',
    },
    'chunks-skipped': {
      description: 'Ranges skipped because the ledger already holds them.',
      docs: 'ranges the ledger already held',
    },
    'rows-per-second': { description: 'Copy throughput of this run.', docs: 'copy throughput of this run' },
    verified: {
      description: 'true when every range copied by this run verified (input verify says how).',
      docs: '`true` when every range this run copied verified (see `verify`)',
    },
  },
  run,
});
