import { runAsGitHubAction } from '../../lib/action/runtime.ts';
import { run } from './main.ts';

// No step record: the report step reads the records, it does not leave one.
await runAsGitHubAction(run);
