import { realpathSync } from 'node:fs';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { connect, type DatabaseUrl } from '../pg/connection.ts';

/** What pgBackRest needs to know of the running server, read from the server itself over database-url. */
export interface ServerFacts {
  dataDir: string;
  port: number;
  /** The first unix socket folder: pgBackRest connects through a socket, never TCP. */
  socketDir: string | undefined;
  version: string;
  versionNum: number;
  user: string;
  archiveMode: string;
  archiveCommand: string;
  walSegmentBytes: number;
}

export async function readServerFacts(database: DatabaseUrl): Promise<ServerFacts> {
  const client = await connect(database);
  try {
    const row = (
      await client.query<Record<string, string>>(
        `SELECT current_setting('data_directory') AS data_dir, current_setting('port') AS port,
                current_setting('unix_socket_directories') AS sockets, current_setting('server_version') AS version,
                current_setting('server_version_num') AS version_num, current_user AS "user",
                current_setting('archive_mode') AS archive_mode, current_setting('archive_command') AS archive_command,
                pg_size_bytes(current_setting('wal_segment_size')) AS wal_segment_bytes`,
      )
    ).rows[0]!;
    return {
      dataDir: row.data_dir!,
      port: Number(row.port),
      socketDir: row.sockets!.split(',')[0]?.trim() || undefined,
      version: row.version!,
      versionNum: Number(row.version_num),
      user: row.user!,
      archiveMode: row.archive_mode!,
      archiveCommand: row.archive_command!,
      walSegmentBytes: Number(row.wal_segment_bytes),
    };
  } catch (error) {
    throw new ConfigurationError(
      `Cannot read the server's settings over ${database.display} (${database.origin}): ${(error as Error).message}. ` +
        'The role needs to read data_directory: a superuser or a member of pg_read_all_settings.',
    );
  } finally {
    await client.end();
  }
}

/** pg-data and the server must be the same cluster: a backup of another folder would restore the wrong database. */
export function checkSameCluster(pgData: string, facts: ServerFacts, pgDataOrigin: Origin, database: DatabaseUrl) {
  const real = (dir: string): string => {
    try {
      return realpathSync(dir);
    } catch {
      return dir;
    }
  };
  if (real(pgData) !== real(facts.dataDir)) {
    throw new ConfigurationError(
      `${pgDataOrigin.title} is ${pgData} but the server at ${database.display} runs from ${facts.dataDir}: give ` +
        'the data directory of that server (SHOW data_directory).',
    );
  }
}
