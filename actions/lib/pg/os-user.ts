import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';

/**
 * The operating-system user a PostgreSQL data directory belongs to. The server runs as that user, and so must every
 * tool that reads or writes its files or its WAL archive (pgBackRest refuses mixed owners): as root, Backstop runs
 * such tools through `runuser -u <owner>`.
 */
export function dataDirOwner(dataDir: string, origin: Origin): string {
  let uid: number;
  try {
    uid = statSync(dataDir).uid;
  } catch {
    throw new ConfigurationError(
      `${origin.title} is ${dataDir}, which does not exist or cannot be read: give the PostgreSQL data directory ` +
        '(SHOW data_directory on the server), on this machine: a physical backup runs where the files are.',
    );
  }
  const name = spawnSync('id', ['-nu', String(uid)], { encoding: 'utf8' }).stdout.trim();
  return name || String(uid);
}

/** Whether this process runs as root. */
export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The name this process runs as. */
export function currentUser(): string {
  return spawnSync('id', ['-nu'], { encoding: 'utf8' }).stdout.trim();
}

/**
 * `command args` as `user`: unchanged when we already are that user, through runuser as root (which keeps the
 * environment, so secrets handed down in it still reach the tool).
 */
export function asUser(user: string, command: string, args: string[]): { command: string; args: string[] } {
  if (user === currentUser()) return { command, args };
  if (!runningAsRoot()) {
    throw new ConfigurationError(
      `The data directory belongs to "${user}" but Backstop runs as "${currentUser()}": run it as ${user} ` +
        `(sudo -u ${user} backstop …) or as root.`,
    );
  }
  return { command: 'runuser', args: ['-u', user, '--', command, ...args] };
}

/** The user a throwaway server runs as: PostgreSQL refuses root, so root's servers run as `postgres`. */
export function serverUser(): string {
  return runningAsRoot() ? 'postgres' : currentUser();
}

/** Gives a file or folder (not what is in it) to `user`, when we are root and it is not ours to keep. */
export function chownTo(user: string, target: string): void {
  if (runningAsRoot() && user !== 'root') spawnSync('chown', [`${user}:`, target]);
}
