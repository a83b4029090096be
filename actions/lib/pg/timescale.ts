import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { DatabaseUrl } from './connection.ts';

/**
 * What a server offers of TimescaleDB, read without touching the extension itself: on a server that does not preload
 * the library, the first call into an installed timescaledb ends the session with a FATAL error, so nothing here may
 * call one. Any engine that works on TimescaleDB (drills, migrations, integrity checks) asks this first.
 */
export interface TimescaleOnServer {
  /**
   * The timescaledb loader is in shared_preload_libraries: it defines the boolean timescaledb.disable_load when
   * loaded (shared_preload_libraries itself is readable by superusers only; a timescaledb.* line in postgresql.conf
   * without the library is a mere placeholder, of type string).
   */
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
    SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'timescaledb.disable_load' AND vartype = 'bool') AS preloaded,
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

/**
 * The one line for a server that has TimescaleDB but does not preload it: `where` starts the sentence (the server or
 * database, with the input that names it), `so` says what cannot be done there.
 */
export function notPreloadedMessage(where: string, so: string): string {
  return (
    `${where} has TimescaleDB but does not preload it, so ${so}: add timescaledb to shared_preload_libraries ` +
    "(postgresql.conf: shared_preload_libraries = 'timescaledb', keeping any libraries already listed) and restart " +
    'the server (the timescale/timescaledb images preload it), then run again.'
  );
}

/** A database whose extension exists on a server that does not preload it is refused before anything calls into it. */
export async function assertTimescaleLoaded(client: pg.Client, database: DatabaseUrl, so: string): Promise<void> {
  const server = await timescaleOnServer(client);
  if (server.installed && !server.preloaded) {
    throw new ConfigurationError(notPreloadedMessage(`${database.display} (${database.origin})`, so));
  }
}

/**
 * The extension in this database, created when missing. A server without the library preloaded is refused before
 * anything calls into it; a role that may not create it (a trusted extension: it takes CREATE on the database) gets
 * the statement the database owner or a superuser must run.
 */
export async function ensureTimescaleExtension(
  client: pg.Client,
  database: DatabaseUrl,
  server: TimescaleOnServer,
): Promise<string> {
  const refused = (): ConfigurationError =>
    new ConfigurationError(
      notPreloadedMessage(
        `The server of ${database.display} (${database.origin})`,
        'the timescaledb extension cannot be created or used there',
      ),
    );
  if (!server.preloaded) throw refused();
  if (server.installed) return server.installed;
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
  } catch (error) {
    if (/must be preloaded/.test(errorMessage(error))) throw refused();
    throw new ConfigurationError(
      `The timescaledb extension could not be created in ${database.display} (${database.origin}): ` +
        `${errorMessage(error)}. Have the database owner or a superuser run CREATE EXTENSION timescaledb in ` +
        `database ${database.database} (or grant this role CREATE on it; the server must list timescaledb in ` +
        'shared_preload_libraries), then run again.',
    );
  }
  return (await timescaleOnServer(client)).installed!;
}

/** The image that runs a given TimescaleDB on a given PostgreSQL major: never `latest`, a dump needs its version. */
export function timescaleImage(version: string, major: number): string {
  return `timescale/timescaledb:${version}-pg${major}`;
}

/** Where to get a TimescaleDB version for a PostgreSQL major, for the hints. */
export function timescalePackage(version: string, major: number): string {
  return `timescaledb-2-postgresql-${major} ${version} from Timescale's package repository`;
}
