import type { CliCommand } from '../../lib/cli.ts';
import { INPUTS as DUMP_INPUTS } from '../../dump-postgres/src/inputs.ts';
import { run as dumpPostgres } from '../../dump-postgres/src/main.ts';
import { INPUTS as DRILL_INPUTS } from '../../restore-drill/src/inputs.ts';
import { run as restoreDrill } from '../../restore-drill/src/main.ts';

/** Every action, by the name it has in workflows. */
export const COMMANDS: Record<string, CliCommand> = {
  'dump-postgres': {
    description: 'pg_dump streamed through zstd and age to every destination, manifest last.',
    inputs: DUMP_INPUTS,
    run: dumpPostgres,
  },
  'restore-drill': {
    description: 'restore the newest (or a given) backup into an empty database, verify checksums and row counts.',
    inputs: DRILL_INPUTS,
    run: restoreDrill,
  },
};
