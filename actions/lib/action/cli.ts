import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { ActionDescriptor, InputSpecs } from './descriptor.ts';
import { inputEnvName, runContext } from './env.ts';
import { interrupted } from '../interrupt.ts';
import { ConfigurationError, errorMessage, InputProblems } from './errors.ts';
import { isSwitch } from './input-reader.ts';
import { isProgressLine } from '../format.ts';
import { markdownToText } from './plain-text.ts';
import { SecretRegistry, type Runtime } from './runtime.ts';

/*
 * The runtime port in a terminal: the same run() as the GitHub action, with inputs from `--input value` flags or
 * BACKSTOP_<INPUT> environment variables (use those for secrets: flags show in `ps` and shell history), outputs
 * and the summary printed. There is no runner to mask secrets here, so the CLI redacts them itself.
 */

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** A terminal's live line: replaced by the next one, kept when other output follows. Absent when not a TTY. */
  live?: (text: string) => void;
}

/**
 * Parses `--name value` and `--name=value` strictly (node:util parseArgs), booleans as switches (`--dry-run`,
 * `--no-dry-run`). A flag missing its value, a value that is another flag, an unknown or repeated flag, or a stray
 * word is one clear line, never a guess: `--storage-url --name x` must not back up into a folder named "true".
 */
export function parseFlags(args: string[], specs: InputSpecs): Map<string, string> {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, { type: isBooleanInput(spec) ? 'boolean' : 'string' } as const]),
  );
  const parsed = parseStrictly(args, options, specs);
  const seen = new Set<string>();
  for (const token of parsed.tokens as { kind: string; name?: string }[]) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    if (seen.has(token.name)) {
      throw new ConfigurationError(
        `--${token.name} is given more than once: give it once (several destinations or keys go in one ` +
          'comma-separated value).',
      );
    }
    seen.add(token.name);
  }
  return new Map(Object.entries(parsed.values).map(([name, value]) => [name, String(value)]));
}

/** parseArgs with Backstop's rules; its errors become one line each. */
function parseStrictly(args: string[], options: ParseArgsConfig['options'], specs: InputSpecs) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false, allowNegative: true, tokens: true });
  } catch (error) {
    throw new ConfigurationError(flagProblem(errorMessage(error), specs));
  }
}

/** An input the reader takes as true/false: a CLI switch. */
export function isBooleanInput(spec: InputSpecs[string]): boolean {
  return isSwitch(spec);
}

/** parseArgs' message, said the way a person at a terminal needs it (its own text mentions positionals and `--`). */
function flagProblem(message: string, specs: InputSpecs): string {
  const flag = /'(--?[^' ]+)/.exec(message)?.[1] ?? '';
  const known = Object.keys(specs)
    .map((name) => `--${name}`)
    .join(', ');
  if (/Unknown option/.test(message)) return `Unknown input ${flag}: this command takes ${known}.`;
  if (/argument is ambiguous/.test(message)) {
    return `${flag} is followed by another flag, not by its value: give ${flag} a value (${flag}=<value> if the value starts with -).`;
  }
  if (/argument missing/.test(message)) return `${flag} needs a value: ${flag} <value>.`;
  if (/does not take an argument/.test(message))
    return `${flag} is a switch: give it alone (${flag}) or as --no-${flag.slice(2)}.`;
  if (/Unexpected argument/.test(message)) {
    const word = /Unexpected argument '([^']*)'/.exec(message)?.[1] ?? '';
    return `Unexpected argument "${word}": inputs are given as --name value.`;
  }
  return message.split('\n')[0]!;
}

export interface CliRuntimeResult {
  runtime: Runtime;
  outputs: Map<string, string>;
}

export function cliRuntime(flags: Map<string, string>, env: NodeJS.ProcessEnv, io: CliIo): CliRuntimeResult {
  const secrets = new SecretRegistry();
  const outputs = new Map<string, string>();
  const runtime: Runtime = {
    getInput: (name) => flags.get(name) ?? env[inputEnvName(name)] ?? '',
    setOutput: (name, value) => void outputs.set(name, String(value)),
    info: (message) => {
      const line = secrets.redact(message);
      if (io.live && isProgressLine(line)) io.live(line);
      else io.out(line);
    },
    notice: (message) => io.out(`notice: ${secrets.redact(message)}`),
    warning: (message) => io.err(`warning: ${secrets.redact(message)}`),
    setSecret: (secret) => void secrets.add(secret),
    redact: (text) => secrets.redact(text),
    // A terminal gets the summary as text, tables aligned; Markdown is for GitHub's summary page.
    writeSummary: async (markdown) => io.out(`\n${secrets.redact(markdownToText(markdown))}`),
    context: { ...runContext(env), host: 'terminal' },
  };
  return { runtime, outputs };
}

/** Runs one command; returns the process exit code. */
export async function runCommand(
  command: ActionDescriptor,
  args: string[],
  env: NodeJS.ProcessEnv,
  io: CliIo,
): Promise<number> {
  let redact = (text: string): string => text;
  try {
    const { runtime, outputs } = cliRuntime(parseFlags(args, command.inputs), env, io);
    redact = runtime.redact;
    try {
      await command.run(runtime);
    } finally {
      if (outputs.size > 0)
        io.out(['outputs:', ...[...outputs].map(([name, value]) => `  ${name}=${redact(value)}`)].join('\n'));
    }
    return 0;
  } catch (error) {
    // Cut short by a signal: the interrupt's own line says what happened, and the process exits with its code.
    if (!interrupted()) for (const line of problemLines(error)) io.err(`error: ${redact(line)}`);
    return 1;
  }
}

/** An error's lines for the terminal: one per bad input when there are several. */
function problemLines(error: unknown): string[] {
  return error instanceof InputProblems ? error.problems : [errorMessage(error)];
}

export function commandHelp(command: ActionDescriptor): string {
  const lines = [`backstop ${command.name}: ${command.description}`, '', 'Inputs (flag, or environment variable):'];
  for (const [input, spec] of Object.entries(command.inputs)) {
    const flags = [
      spec.required ? 'required' : undefined,
      defaultText(spec) ? `default ${defaultText(spec)}` : undefined,
      spec.secret ? 'secret: prefer the variable' : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`  --${input} / ${inputEnvName(input)}${flags ? ` (${flags})` : ''}`, `      ${spec.description}`);
  }
  return lines.join('\n');
}

function defaultText(spec: InputSpecs[string]): string | undefined {
  return spec.default ?? spec.machineDefault?.();
}
