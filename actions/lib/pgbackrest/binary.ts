import { existsSync } from 'node:fs';
import { ConfigurationError } from '../action/errors.ts';
import { runTool } from '../process.ts';

export interface PgbackrestBinary {
  path: string;
  /** e.g. "2.45" */
  version: string;
}

/** Where the packages put it; run by absolute path, because runuser's PATH is not ours. */
const CANDIDATES = ['/usr/bin/pgbackrest', '/usr/local/bin/pgbackrest'];

export async function findPgbackrest(): Promise<PgbackrestBinary> {
  const file = CANDIDATES.find((candidate) => existsSync(candidate)) ?? 'pgbackrest';
  let out: string;
  try {
    out = await runTool(file, ['version']);
  } catch {
    throw new ConfigurationError(
      'pgBackRest is not installed on this machine: apt-get install pgbackrest (or dnf install pgbackrest), on the ' +
        'database host and wherever drills run.',
    );
  }
  const version = /pgBackRest (\S+)/.exec(out)?.[1] ?? out.trim();
  return { path: file, version };
}
