import type pg from 'pg';

/**
 * What a server offers of TimescaleDB, read without touching the extension itself: on a server that does not preload
 * the library, the first call into an installed timescaledb ends the session with a FATAL error, so nothing here may
 * call one. Any engine that works on TimescaleDB (drills, migrations, integrity checks) asks this first.
 */
export interface TimescaleOnServer {
  /** The timescaledb loader is in shared_preload_libraries (it defines timescaledb.disable_load when loaded). */
  preloaded: boolean;
  /** The version created in the connected database, or null. */
  installed: string | null;
  /** Every version the server can create (pg_available_extension_versions); empty when it has no TimescaleDB. */
  available: string[];
  /** The version CREATE EXTENSION picks without VERSION. */
  defaultVersion: string | null;
}

export async function timescaleOnServer(client: pg.Client): Promise<TimescaleOnServer> {
  const { rows } = await client.query<{
    preloaded: boolean;
    installed: string | null;
    available: string[] | null;
    default_version: string | null;
  }>(`
    SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'timescaledb.disable_load') AS preloaded,
           (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS installed,
           (SELECT array_agg(version ORDER BY version) FROM pg_available_extension_versions
             WHERE name = 'timescaledb') AS available,
           (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS default_version`);
  const row = rows[0]!;
  return {
    preloaded: row.preloaded,
    installed: row.installed,
    available: row.available ?? [],
    defaultVersion: row.default_version,
  };
}

/** How to fix a server that has TimescaleDB but does not preload it; `where` starts the sentence. */
export function notPreloadedMessage(where: string): string {
  return (
    `${where} has TimescaleDB but does not preload it, and TimescaleDB works only preloaded: add timescaledb to ` +
    "shared_preload_libraries (postgresql.conf: shared_preload_libraries = 'timescaledb') and restart the server " +
    '(the timescale/timescaledb images preload it).'
  );
}

/** The image that runs a given TimescaleDB on a given PostgreSQL major: never `latest`, a dump needs its version. */
export function timescaleImage(version: string, major: number): string {
  return `timescale/timescaledb:${version}-pg${major}`;
}

/** Where to get a TimescaleDB version for a PostgreSQL major, for the hints. */
export function timescalePackage(version: string, major: number): string {
  return `timescaledb-2-postgresql-${major} ${version} from Timescale's package repository`;
}
