import { childEnvironment } from '../action/env.ts';
import { ConfigurationError } from '../action/errors.ts';
import { asUser } from '../pg/os-user.ts';
import { startTool, type RunningTool } from '../process.ts';

/** How Backstop runs pgBackRest for one stanza: which file, as whom, with which secrets in the environment. */
export interface Pgbackrest {
  /** The pgBackRest binary (Debian: /usr/bin/pgbackrest). */
  binary: string;
  configFile: string;
  stanza: string;
  /** The data directory's owner: pgBackRest must run as the same user as the server. */
  user: string;
  /** The repository's passphrase (undefined: not encrypted); handed down as PGBACKREST_REPO1_CIPHER_PASS only. */
  passphrase?: string;
  /** S3 credentials, likewise only through the environment. */
  s3Credentials?: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string };
  /** Where the repository is, for error messages. */
  repoDisplay: string;
  /** The database-url password, for pgBackRest's libpq connection (PGPASSWORD). */
  libpqPassword?: string;
}

/** Secrets never go on the command line (`ps` shows it to every user): pgBackRest reads them from its environment. */
export function pgbackrestEnvironment(tool: Pgbackrest): NodeJS.ProcessEnv {
  const extra: Record<string, string> = {};
  if (tool.passphrase !== undefined) extra.PGBACKREST_REPO1_CIPHER_PASS = tool.passphrase;
  const credentials = tool.s3Credentials ?? {};
  if (credentials.accessKeyId) extra.PGBACKREST_REPO1_S3_KEY = credentials.accessKeyId;
  if (credentials.secretAccessKey) extra.PGBACKREST_REPO1_S3_KEY_SECRET = credentials.secretAccessKey;
  if (credentials.sessionToken) extra.PGBACKREST_REPO1_S3_TOKEN = credentials.sessionToken;
  if (tool.libpqPassword !== undefined) extra.PGPASSWORD = tool.libpqPassword;
  return childEnvironment(extra);
}

/** Console quiet, every warning and error on stderr (what the error message quotes), no log files of its own. */
function argv(tool: Pgbackrest, command: string, args: string[], operands: string[]): string[] {
  return [
    `--config=${tool.configFile}`,
    `--stanza=${tool.stanza}`,
    '--log-level-console=off',
    '--log-level-stderr=warn',
    '--log-level-file=off',
    ...args,
    command,
    ...operands,
  ];
}

export function startPgbackrest(
  tool: Pgbackrest,
  command: string,
  args: string[] = [],
  operands: string[] = [],
): RunningTool {
  const run = asUser(tool.user, tool.binary, argv(tool, command, args, operands));
  return startTool(run.command, run.args, { env: pgbackrestEnvironment(tool), label: `pgbackrest ${command}` });
}

/** Runs one pgBackRest command to its end; its failure is one line that says what to do. */
/** `operands` follow the command (repo-ls's path); options come before it. */
export async function pgbackrest(
  tool: Pgbackrest,
  command: string,
  args: string[] = [],
  operands: string[] = [],
): Promise<string> {
  const running = startPgbackrest(tool, command, args, operands);
  let out = '';
  running.child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    out += text;
  });
  try {
    await running.exited;
    return out;
  } catch (error) {
    throw explainFailure(tool, command, running.stderrTail() || (error as Error).message);
  }
}

/**
 * pgBackRest's errors as a person can act on them. A wrong passphrase shows only as an info file that "is not" an
 * info file (the decrypted bytes are noise): that is the one most worth saying plainly.
 */
export function explainFailure(tool: Pgbackrest, command: string, message: string): Error {
  // The error's line and its indented continuation lines (HINT:): paths and the OS's reason are in them.
  const first = /ERROR: \[(\d+)\]: (.*(?:\n[ \t]+\S.*)*)/.exec(message);
  const code = first?.[1];
  const text = (first?.[2] ?? message).replace(/\s+/g, ' ').trim();
  const missing = /FileMissingError|missing stanza path/.test(message);
  if (!missing && tool.passphrase !== undefined && looksUndecryptable(message)) {
    return new ConfigurationError(
      `The encryption passphrase does not open the pgBackRest repository ${tool.repoDisplay} (stanza ` +
        `${tool.stanza}): give the passphrase archive-config was run with.`,
    );
  }
  if (tool.passphrase === undefined && /requires option: repo1-cipher-pass|cipher/.test(message)) {
    return new ConfigurationError(
      `The pgBackRest repository ${tool.repoDisplay} is encrypted: give its encryption passphrase.`,
    );
  }
  if (missing || code === '055') {
    return new ConfigurationError(
      `There is no pgBackRest stanza ${tool.stanza} in ${tool.repoDisplay}: run backstop archive-config for it ` +
        'first (it creates the stanza and prints the postgresql.conf lines).',
    );
  }
  return new Error(`pgbackrest ${command} failed${code ? ` (error ${code})` : ''}: ${text}`);
}

/**
 * A wrong key decrypts an info file into noise, which pgBackRest then fails to parse (quoting the noise, which can
 * push its own first lines out of the tail we keep): noise, a parse error or a crypto error all say the same.
 */
function looksUndecryptable(message: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the decrypted noise is what we look for
  const noise = /[\x00-\x08\x0e-\x1f\ufffd]/.test(message);
  return noise || /FormatError|CryptoError|key\/value found outside of section/.test(message);
}
