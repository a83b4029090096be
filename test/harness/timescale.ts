import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestCluster, type ScratchCluster } from './postgres.ts';

/**
 * A real TimescaleDB, when one is installed for the PostgreSQL the test clusters run (the newest under
 * /usr/lib/postgresql): its library in the server's lib folder and its control file in the share folder. The tests
 * that need it run only then and say why they are skipped otherwise; GitHub CI runs them against service containers.
 */
export interface TimescaleInstall {
  major: number;
  /** The extension's default version (timescaledb.control), e.g. 2.24.0. */
  version: string;
}

const DEBIAN_ROOT = '/usr/lib/postgresql';

export function installedTimescale(): TimescaleInstall | undefined {
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const majors = readdirSync(DEBIAN_ROOT)
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => b - a);
  const major = majors[0];
  if (major === undefined) return undefined;
  const library = path.join(DEBIAN_ROOT, String(major), 'lib', 'timescaledb.so');
  const control = `/usr/share/postgresql/${major}/extension/timescaledb.control`;
  if (!existsSync(library) || !existsSync(control)) return undefined;
  const version = /default_version\s*=\s*'([^']+)'/.exec(readFileSync(control, 'utf8'))?.[1];
  return version ? { major, version } : undefined;
}

export const TIMESCALE = installedTimescale();

/** Why the real-TimescaleDB tests do not run here (printed by the suites that skip). */
export const NO_TIMESCALE_REASON =
  'TimescaleDB is not installed for the newest local PostgreSQL (no timescaledb.so and timescaledb.control): ' +
  'the real-TimescaleDB tests are skipped. Install TimescaleDB for that PostgreSQL to run them.';

/** Prints the skip reason once per test file that needs TimescaleDB, so a skip is never silent. */
export function sayWhenTimescaleIsMissing(): void {
  if (!TIMESCALE) console.warn(`[skipped] ${NO_TIMESCALE_REASON}`);
}

/** A throwaway cluster with timescaledb preloaded (the library refuses to work otherwise). */
export function startTimescaleCluster(): Promise<ScratchCluster> {
  return startTestCluster({ preload: ['timescaledb'] });
}
