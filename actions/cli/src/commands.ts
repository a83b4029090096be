import type { ActionDescriptor } from '../../lib/action/descriptor.ts';
import backfillEmbeddings from '../../backfill-embeddings/src/action.ts';
import dumpPostgres from '../../dump-postgres/src/action.ts';
import migrateTicks from '../../migrate-ticks/src/action.ts';
import pruneBackups from '../../prune-backups/src/action.ts';
import report from '../../report/src/action.ts';
import restoreDrill from '../../restore-drill/src/action.ts';
import snapshotQdrant from '../../snapshot-qdrant/src/action.ts';
import validateIntegrity from '../../validate-integrity/src/action.ts';

/** Every action, in the order the help lists them; each is a CLI command under the name it has in workflows. */
export const ACTIONS: ActionDescriptor[] = [
  dumpPostgres,
  snapshotQdrant,
  migrateTicks,
  validateIntegrity,
  backfillEmbeddings,
  restoreDrill,
  pruneBackups,
  report,
];

export const COMMANDS: Record<string, ActionDescriptor> = Object.fromEntries(
  ACTIONS.map((action) => [action.name, action]),
);
