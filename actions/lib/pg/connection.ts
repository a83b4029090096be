import pg from 'pg';
import { ConfigurationError } from '../action/errors.ts';
import { onInterrupt } from '../interrupt.ts';
import type { Origin } from '../action/origin.ts';
import { whyNotAUrl } from '../format.ts';

/**
 * A PostgreSQL URL split into what may be shown and what must not. libpq tools get the URL without its password
 * and the password through PGPASSWORD, so it never shows in `ps` or in a tool's error message.
 */
export interface DatabaseUrl {
  /** The URL as given (with password): only for the pg client. */
  readonly url: string;
  /** postgresql://user:***@host:port/db — for logs, summaries, errors. */
  readonly display: string;
  /** The URL without its password, for libpq tools. */
  readonly withoutPassword: string;
  readonly password: string | undefined;
  readonly host: string;
  readonly database: string;
  /** Where the URL came from, for errors about it. */
  readonly origin: Origin;
}

export function parseDatabaseUrl(value: string, origin: Origin): DatabaseUrl {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigurationError(
      `${origin.title} is ${whyNotAUrl(value)}: use postgresql://user:password@host:5432/dbname (value not shown: ` +
        `it may hold a password).`,
    );
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new ConfigurationError(
      `${origin.title} has scheme "${parsed.protocol}": use postgresql://user:password@host:5432/dbname.`,
    );
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const withoutPassword = new URL(value);
  withoutPassword.password = '';
  const display = new URL(withoutPassword.href);
  if (password !== undefined) display.password = '***';
  display.search = '';
  return {
    url: value,
    display: display.href.replace('%2A%2A%2A', '***'),
    withoutPassword: withoutPassword.href,
    password,
    host: `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}`,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || parsed.username || 'postgres',
    origin,
  };
}

/** Environment for pg_dump/pg_restore/psql: the password out of argv, a name in pg_stat_activity. */
export function libpqEnvironment(database: DatabaseUrl): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGAPPNAME: 'backstop', PGCONNECT_TIMEOUT: '20' };
  delete env.PGPASSWORD;
  if (database.password !== undefined) env.PGPASSWORD = database.password;
  return env;
}

export async function connect(database: DatabaseUrl): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: database.url,
    application_name: 'backstop',
    connectionTimeoutMillis: 20_000,
  });
  // An idle connection dropped by the server must not crash the process with an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new ConfigurationError(
      `Cannot connect to ${database.display} (${database.origin}): ${(error as Error).message}. ` +
        'Check the host, port, credentials and that this machine can reach the server.',
    );
  }
  await client.query("SET TimeZone = 'UTC'");
  cancelOnInterrupt(client, database);
  return client;
}

/**
 * Interrupted, a query of ours still running (a count(*), a COPY) is cancelled on the server, and the connection
 * closed: a backend keeps working, and holding its locks, after its client is gone until it next writes to it.
 */
function cancelOnInterrupt(client: pg.Client, database: DatabaseUrl): void {
  const pid = (client as unknown as { processID: number | null }).processID;
  const forget = onInterrupt(`cancelled our queries on ${database.display}`, async () => {
    if (pid) {
      const canceller = new pg.Client({ connectionString: database.url, connectionTimeoutMillis: 3_000 });
      canceller.on('error', () => undefined);
      await canceller.connect();
      await canceller.query('SELECT pg_cancel_backend($1)', [pid]).finally(() => canceller.end());
    }
    await client.end();
  });
  client.once('end', forget);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
