import { runAsGitHubAction } from '../../lib/action/runtime.ts';
import { INPUTS } from './inputs.ts';
import { run } from './main.ts';

await runAsGitHubAction(run, { action: 'migrate-ticks', inputs: INPUTS });
