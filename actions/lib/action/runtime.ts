import type { RunContext } from './env.ts';

/**
 * Everything an action touches of its host: the port. The GitHub runner (github.ts) and the CLI (cli.ts) each
 * implement it, so every action's run() is the same code in a workflow and in a terminal at 3 a.m.
 */
export interface Runtime<Output extends string = string> {
  /** The raw value of an input ('' when unset). Read it through InputReader, never directly. */
  getInput(name: string): string;
  setOutput(name: Output, value: string | number | boolean): void;
  info(message: string): void;
  /** Worth a reader's attention but not a problem (GitHub shows it as a notice annotation). */
  notice(message: string): void;
  warning(message: string): void;
  /** Registers a secret: masked by the runner, and redacted by the CLI from everything it prints. */
  setSecret(secret: string): void;
  /** Replaces every registered secret in a text (for messages that leave the process by other paths). */
  redact(text: string): string;
  writeSummary(markdown: string): Promise<void>;
  /** The host's environment, read once (env.ts). */
  readonly context: RunContext;
}

/** Secrets shorter than this are not redacted from text: masking "a" would mangle every line. */
const MIN_REDACTED_LENGTH = 4;

export class SecretRegistry {
  private readonly secrets = new Set<string>();

  add(secret: string): boolean {
    if (secret.length < MIN_REDACTED_LENGTH || this.secrets.has(secret)) return false;
    this.secrets.add(secret);
    return true;
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a URL is replaced whole before the password inside it.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
    return out;
  }
}
