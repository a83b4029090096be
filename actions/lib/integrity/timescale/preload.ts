import type pg from 'pg';
import { ConfigurationError } from '../../action/errors.ts';
import type { DatabaseUrl } from '../../pg/connection.ts';

/**
 * A database with the timescaledb extension on a server that does not preload its library is refused before any
 * check reads it: the first query that reaches into TimescaleDB makes the server end the session (FATAL: extension
 * "timescaledb" must be preloaded), which the client reports only as a lost connection on its next query, and a
 * hypertable read without the library misses every row in a compressed chunk. The library, once loaded, defines
 * its timescaledb.* settings; shared_preload_libraries itself is readable by superusers only.
 */
export async function assertTimescaleLoaded(client: pg.Client, database: DatabaseUrl): Promise<void> {
  const { rows } = await client.query<{ installed: boolean; loaded: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed,
            EXISTS (SELECT 1 FROM pg_settings WHERE name LIKE 'timescaledb.%') AS loaded`,
  );
  if (rows[0]!.installed && !rows[0]!.loaded) {
    throw new ConfigurationError(
      `${database.display} (${database.origin}) has the timescaledb extension, but its server does not preload the ` +
        `timescaledb library, so its hypertables cannot be read: add timescaledb to shared_preload_libraries ` +
        `(postgresql.conf: shared_preload_libraries = 'timescaledb', keeping any libraries already listed), restart ` +
        'the server and run again.',
    );
  }
}
