import { runAsGitHubAction } from '../../lib/action/github.ts';
import action from './action.ts';

await runAsGitHubAction(action);
