import type { ActionDescriptor } from '../../lib/action/descriptor.ts';
import backfillEmbeddings from '../../backfill-embeddings/src/action.ts';
import backupFiles from '../../backup-files/src/action.ts';
import archiveConfig from './archive-config.ts';
import catalogSync from './catalog-sync.ts';
import backupPhysical from '../../backup-physical/src/action.ts';
import backupStatus from '../../backup-status/src/action.ts';
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
  backupPhysical,
  snapshotQdrant,
  backupFiles,
  migrateTicks,
  validateIntegrity,
  backfillEmbeddings,
  restoreDrill,
  pruneBackups,
  backupStatus,
  report,
];

/** Commands of the CLI alone: one-off setup on a database host, no GitHub action of their own. */
const CLI_ONLY: ActionDescriptor[] = [archiveConfig, catalogSync];

export const COMMANDS: Record<string, ActionDescriptor> = Object.fromEntries(
  [...ACTIONS, ...CLI_ONLY].map((action) => [action.name, action]),
);
