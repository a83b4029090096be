import type { ActionDescriptor, InputSpecs } from './descriptor.ts';
import { inputEnvName, runContext } from './env.ts';
import { ConfigurationError, errorMessage } from './errors.ts';
import { SecretRegistry, type Runtime } from './runtime.ts';

/*
 * The runtime port in a terminal: the same run() as the GitHub action, with inputs from `--input value` flags or
 * BACKSTOP_<INPUT> environment variables (use those for secrets: flags show in `ps` and shell history), outputs
 * and the summary printed. There is no runner to mask secrets here, so the CLI redacts them itself.
 */

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Parses `--name value`, `--name=value` and bare boolean flags (`--dry-run`). */
export function parseFlags(args: string[], specs: InputSpecs): Map<string, string> {
  const values = new Map<string, string>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new ConfigurationError(`Unexpected argument "${arg}": inputs are given as --name value.`);
    const name = match[1]!;
    if (!(name in specs)) {
      throw new ConfigurationError(
        `Unknown input --${name}: this command takes ${Object.keys(specs)
          .map((n) => `--${n}`)
          .join(', ')}.`,
      );
    }
    let value = match[2];
    if (value === undefined) {
      const next = args[index + 1];
      value = next === undefined || next.startsWith('--') ? 'true' : next;
      if (value === next) index += 1;
    }
    values.set(name, value);
  }
  return values;
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
    info: (message) => io.out(secrets.redact(message)),
    notice: (message) => io.out(`notice: ${secrets.redact(message)}`),
    warning: (message) => io.err(`warning: ${secrets.redact(message)}`),
    setSecret: (secret) => void secrets.add(secret),
    redact: (text) => secrets.redact(text),
    writeSummary: async (markdown) => io.out(`\n${secrets.redact(markdown)}`),
    context: runContext(env),
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
    io.err(`error: ${redact(errorMessage(error))}`);
    return 1;
  }
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
