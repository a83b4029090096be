import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type BackupStatusOutput } from './main.ts';

/** backup-status: the one place its contract is written (action.yml and the README's tables are generated from it). */
export default defineAction<BackupStatusOutput>({
  name: 'backup-status',
  description:
    'The daily status of every backup name: a job summary row per name and one self-contained HTML page with ' +
    'charts of size, duration and restore time over 90 days and the last drills.',
  branding: { icon: 'activity', color: 'green' },
  inputs: documented(INPUTS, {
    'storage-url': {
      docs:
        'Destinations, newline- or comma-separated (`s3://bucket/prefix`, `file:///path`). Every name found in any ' +
        'of them is shown; each name is read from the first destination that holds a complete backup of it.',
    },
    names: { docs: 'Only these names (a name without any complete backup is shown as stale).' },
    'max-age-hours': {
      docs: 'The RPO: a name whose newest complete backup finished longer ago than this is stale.',
    },
    'html-path': {
      defaultLabel: '`$RUNNER_TEMP/backstop-status/index.html`',
      docs:
        'The status page: one HTML file with everything inline (charts are SVG, no script, no font, nothing ' +
        'fetched), ready for an artifact or GitHub Pages ([docs/status-page.md](../../docs/status-page.md)).',
    },
    'fail-on-stale': { docs: 'Fail the step when any name is stale (the page and summary are written first).' },
  }),
  outputs: {
    'html-path': { description: 'The status page written.', docs: 'absolute path of the status page' },
    stale: {
      description: 'Stale names, comma-separated (empty when every name is fresh).',
      docs: 'stale names, comma-separated; empty when all are fresh',
    },
    names: { description: 'Every name shown, comma-separated.', docs: 'every name shown, comma-separated' },
  },
  run,
});
