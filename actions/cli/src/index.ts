#!/usr/bin/env node
import { commandHelp, runCommand, type CliIo } from '../../lib/action/cli.ts';
import { exitCleanlyOnSignals } from '../../lib/interrupt.ts';
import { progressTiming } from '../../lib/pipeline/progress.ts';
import { BACKSTOP_VERSION } from '../../lib/version.ts';
import { COMMANDS } from './commands.ts';
import { runDemo } from './demo.ts';
import { KEYGEN_USAGE, runKeygen } from './keygen.ts';

/** A live progress line on a terminal: rewritten in place, ended by the next line of other output. */
let liveLine = false;
const endLiveLine = (): void => {
  if (liveLine) process.stdout.write('\r\u001b[2K');
  liveLine = false;
};
const io: CliIo = {
  out: (text) => {
    endLiveLine();
    process.stdout.write(`${text}\n`);
  },
  err: (text) => {
    endLiveLine();
    process.stderr.write(`${text}\n`);
  },
  live: process.stdout.isTTY
    ? (text) => {
        process.stdout.write(`\r\u001b[2K${text.slice(0, Math.max(20, (process.stdout.columns || 80) - 1))}`);
        liveLine = true;
      }
    : undefined,
};
// On a terminal the live line moves every second; in a log, a line every 15 s is enough.
if (process.stdout.isTTY) progressTiming.everyMs = 1_000;
process.on('exit', () => {
  if (liveLine) process.stdout.write('\n');
});

const NAME_WIDTH = Math.max(...Object.keys(COMMANDS).map((name) => name.length));

const USAGE = `usage: backstop <command> [--input value ...]

commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(NAME_WIDTH)} ${command.description}`)
  .join('\n')}
  ${'demo'.padEnd(NAME_WIDTH)} a throwaway PostgreSQL with sample trading data: dump → restore drill → integrity check
  ${'keygen'.padEnd(NAME_WIDTH)} a new age identity in a file (0600), its recipient printed: no age-keygen needed

'backstop --version' prints the version.
'backstop <command> --help' lists a command's inputs. Secrets go in BACKSTOP_<INPUT> variables,
e.g. BACKSTOP_DATABASE_URL, BACKSTOP_ENCRYPTION_IDENTITY.`;

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  exitCleanlyOnSignals(
    { error: (line) => io.err(`error: ${line}`), info: (line) => io.err(line) },
    `running backstop ${name ?? ''}`.trim(),
  );
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(BACKSTOP_VERSION);
    return 0;
  }
  if (name === 'keygen') {
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(KEYGEN_USAGE);
      return 0;
    }
    return runKeygen(rest, io);
  }
  if (name === 'demo') return runDemo(rest, io);
  const command = COMMANDS[name];
  if (!command) {
    io.err(`error: unknown command "${name}".\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return 0;
  }
  return runCommand(command, rest, process.env, io);
}

process.exitCode = await main(process.argv.slice(2));
