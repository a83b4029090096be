import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type PruneBackupsOutput } from './main.ts';

/** prune-backups: the one place its contract is written (action.yml and the README's tables are generated from it). */
export default defineAction<PruneBackupsOutput>({
  name: 'prune-backups',
  description:
    'GFS retention over complete backups, in every destination; never deletes the newest backup nor the newest ' +
    'verified one.',
  branding: { icon: 'scissors', color: 'gray-dark' },
  inputs: documented(INPUTS, {
    'storage-url': { docs: 'destinations, newline- or comma-separated' },
    name: { docs: 'the backup name' },
    'encryption-passphrase': {
      docs:
        'pgBackRest backups (`backup-physical`): the repository passphrase (`BACKSTOP_ENCRYPTION_PASSPHRASE`). A ' +
        'physical backup that retention drops leaves the repository first (`pgbackrest expire --set`, which also ' +
        'drops the WAL no remaining backup needs), then its Backstop folder; without the passphrase it is kept, ' +
        'with a warning. An incremental kept keeps the backups it is built on.',
    },
    'keep-last': { docs: 'the newest N backups' },
    'keep-hourly': { docs: 'the newest backup of each of the newest N hours (UTC): 7 days of hourlies' },
    'keep-daily': { docs: '… of each of the newest N days' },
    'keep-weekly': { docs: '… of each of the newest N ISO weeks' },
    'keep-monthly': { docs: '… of each of the newest N months' },
    'keep-quarterly': {
      docs:
        '… of each of the newest N calendar quarters (Q1 = January–March, UTC): TD-102 keeps quarterly archives ' +
        'for 7 years, so 28',
    },
    'keep-yearly': { docs: '… of each of the newest N years' },
    'incomplete-grace-hours': { docs: 'folders without a manifest older than this are deleted' },
    'dry-run': { docs: 'list what would go; delete nothing' },
  }),
  outputs: {
    kept: { description: 'Backups kept, over all destinations.', docs: 'backups kept, over all destinations' },
    deleted: {
      description: 'Backups deleted (or, in a dry run, that would be), over all destinations.',
      docs: 'backups deleted (in a dry run: that would be)',
    },
    'deleted-bytes': { description: 'Bytes they held.', docs: 'bytes they held' },
  },
  run,
});
