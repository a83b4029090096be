import type { CliCommand } from '../../lib/action/cli.ts';
import { INPUTS as DUMP_INPUTS } from '../../dump-postgres/src/inputs.ts';
import { run as dumpPostgres } from '../../dump-postgres/src/main.ts';
import { INPUTS as MIGRATE_INPUTS } from '../../migrate-ticks/src/inputs.ts';
import { run as migrateTicks } from '../../migrate-ticks/src/main.ts';
import { INPUTS as DRILL_INPUTS } from '../../restore-drill/src/inputs.ts';
import { INPUTS as PRUNE_INPUTS } from '../../prune-backups/src/inputs.ts';
import { run as pruneBackups } from '../../prune-backups/src/main.ts';
import { INPUTS as REPORT_INPUTS } from '../../report/src/inputs.ts';
import { run as report } from '../../report/src/main.ts';
import { run as restoreDrill } from '../../restore-drill/src/main.ts';
import { INPUTS as SNAPSHOT_INPUTS } from '../../snapshot-qdrant/src/inputs.ts';
import { run as snapshotQdrant } from '../../snapshot-qdrant/src/main.ts';
import { INPUTS as INTEGRITY_INPUTS } from '../../validate-integrity/src/inputs.ts';
import { run as validateIntegrity } from '../../validate-integrity/src/main.ts';

/** Every action, by the name it has in workflows. */
export const COMMANDS: Record<string, CliCommand> = {
  'dump-postgres': {
    description: 'pg_dump streamed through zstd and age to every destination, manifest last.',
    inputs: DUMP_INPUTS,
    run: dumpPostgres,
  },
  'snapshot-qdrant': {
    description: 'snapshot Qdrant collections (every node), streamed through zstd and age to every destination.',
    inputs: SNAPSHOT_INPUTS,
    run: snapshotQdrant,
  },
  'migrate-ticks': {
    description: 'copy tick data into a TimescaleDB hypertable (or daily partitions), range by range, resumable, verified.',
    inputs: MIGRATE_INPUTS,
    run: migrateTicks,
  },
  'validate-integrity': {
    description: 'row counts, content parity with bisection, foreign keys, embeddings, TimescaleDB shape, backup freshness.',
    inputs: INTEGRITY_INPUTS,
    run: validateIntegrity,
  },
  'restore-drill': {
    description: 'restore the newest (or a given) backup (PostgreSQL or Qdrant) into a scratch target and verify it.',
    inputs: DRILL_INPUTS,
    run: restoreDrill,
  },
  'prune-backups': {
    description: 'GFS retention in every destination; never deletes the newest backup nor the newest verified one.',
    inputs: PRUNE_INPUTS,
    run: pruneBackups,
  },
  report: {
    description: 'open, update or close the GitHub failure issue of a workflow and backup name (GITHUB_REPOSITORY, GITHUB_TOKEN).',
    inputs: REPORT_INPUTS,
    run: report,
  },
};
