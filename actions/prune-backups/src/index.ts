import { runAsGitHubAction } from '../../lib/runtime.ts';
import { run } from './main.ts';

await runAsGitHubAction(run);
