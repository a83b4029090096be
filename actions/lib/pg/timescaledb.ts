import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { DatabaseUrl } from './connection.ts';

/**
 * What a server offers of TimescaleDB, read without touching the extension: a session that calls into it while the
 * library is not preloaded is ended by the server (FATAL: extension "timescaledb" must be preloaded), which the
 * client only reports as a lost connection on its next query.
 */
export interface TimescaleState {
  /** The version created in this database, if any. */
  installed?: string;
  /** The server has the extension's files (pg_available_extensions). */
  available: boolean;
  /** The library is loaded (shared_preload_libraries): its settings exist. */
  preloaded: boolean;
}

export async function timescaleState(client: pg.Client): Promise<TimescaleState> {
  const { rows } = await client.query<{ installed: string | null; available: boolean; preloaded: boolean }>(
    `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS installed,
            EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
            -- The loader defines these settings; shared_preload_libraries itself is readable by superusers only.
            EXISTS (SELECT 1 FROM pg_settings WHERE name LIKE 'timescaledb.%') AS preloaded`,
  );
  const state = rows[0]!;
  return { installed: state.installed ?? undefined, available: state.available, preloaded: state.preloaded };
}

/** The one line for a server that has TimescaleDB's files but does not preload its library. */
export function notPreloadedMessage(database: DatabaseUrl): string {
  return (
    `TimescaleDB is installed on the server of ${database.display} (${database.origin}) but not preloaded, so the ` +
    `timescaledb extension cannot be created or used there: add timescaledb to shared_preload_libraries ` +
    `(postgresql.conf: shared_preload_libraries = 'timescaledb', keeping any libraries already listed), restart ` +
    `the server and run again.`
  );
}

/**
 * The extension in this database, created when missing. A server without the library preloaded is refused before
 * anything calls into it; a role that may not create it (a trusted extension: it takes CREATE on the database) gets
 * the statement the database owner or a superuser must run.
 */
export async function ensureTimescaleExtension(
  client: pg.Client,
  database: DatabaseUrl,
  state: TimescaleState,
): Promise<string> {
  if (!state.preloaded) throw new ConfigurationError(notPreloadedMessage(database));
  if (state.installed) return state.installed;
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
  } catch (error) {
    if (/must be preloaded/.test(errorMessage(error))) throw new ConfigurationError(notPreloadedMessage(database));
    throw new ConfigurationError(
      `The timescaledb extension could not be created in ${database.display} (${database.origin}): ` +
        `${errorMessage(error)}. Have the database owner or a superuser run CREATE EXTENSION timescaledb in ` +
        `database ${database.database} (or grant this role CREATE on it; the server must list timescaledb in ` +
        'shared_preload_libraries), then run again.',
    );
  }
  return (await timescaleState(client)).installed!;
}
