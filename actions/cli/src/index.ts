#!/usr/bin/env node
import { commandHelp, runCommand, type CliIo } from '../../lib/action/cli.ts';
import { exitCleanlyOnSignals } from '../../lib/interrupt.ts';
import { BACKSTOP_VERSION } from '../../lib/version.ts';
import { COMMANDS } from './commands.ts';
import { runDemo } from './demo.ts';
import { KEYGEN_USAGE, runKeygen } from './keygen.ts';

const io: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

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
