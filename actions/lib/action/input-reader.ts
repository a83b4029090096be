import { ConfigurationError, InputProblems } from './errors.ts';
import { maskUrlCredentials, secretLookingParts } from './mask.ts';
import type { InputSpec, InputSpecs } from './descriptor.ts';
import { Origin } from './origin.ts';
import type { Runtime } from './runtime.ts';

/** Typed reads of declared inputs. Every error names the input, says what is wrong and what to do. */
export class InputReader {
  private readonly runtime: Runtime;
  private readonly specs: InputSpecs;

  constructor(runtime: Runtime, specs: InputSpecs) {
    this.runtime = runtime;
    this.specs = specs;
  }

  /**
   * Registers every secret input with the runtime, and whatever looks like a secret in any other input (an age
   * identity given as a recipient, a URL with a password). Call before anything is logged.
   */
  maskSecrets(): void {
    for (const [name, spec] of Object.entries(this.specs)) {
      const value = this.raw(name);
      if (!value) continue;
      for (const part of secretLookingParts(value)) this.runtime.setSecret(part);
      if (spec.secret === 'url') maskUrlCredentials(this.runtime, value);
      else if (spec.secret) this.runtime.setSecret(value);
    }
  }

  /**
   * Every required input that is missing, in one line, before anything else is read: a first run should not be a
   * game of one error at a time.
   */
  checkRequired(): void {
    const missing = Object.entries(this.specs).filter(([name, spec]) => spec.required && this.raw(name) === '');
    if (missing.length === 1) this.string(missing[0]![0]);
    if (missing.length > 1) {
      const names = missing.map(([name]) => `"${name}"`).join(', ');
      const where = this.inTerminal ? '--help lists what they take' : "the action's README lists what they take";
      throw new ConfigurationError(`Inputs ${names} are required: set each of them (${where}).`);
    }
  }

  /**
   * Reads each field on its own, so every bad input is reported at once: one failing field does not hide the
   * next. One problem is thrown as it is; several as InputProblems, a line each. An input two fields read (the
   * timeouts of several connections) is named once.
   */
  fields<T extends object>(readers: { [Key in keyof T]: () => T[Key] }): T {
    const problems: ConfigurationError[] = [];
    const values: Partial<T> = {};
    for (const key of Object.keys(readers) as (keyof T)[]) {
      try {
        values[key] = readers[key]();
      } catch (error) {
        if (!(error instanceof ConfigurationError)) throw error;
        const found =
          error instanceof InputProblems ? error.problems.map((line) => new ConfigurationError(line)) : [error];
        problems.push(...found.filter((problem) => !problems.some((seen) => seen.message === problem.message)));
      }
    }
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1) throw new InputProblems(problems.map((problem) => problem.message));
    return values as T;
  }

  /**
   * How the user sets an input where they are: `--dry-run` / `--jobs 4` in a terminal, `dry-run: true` /
   * `jobs: 4` in a workflow. For hints ("or set allow-unencrypted: true").
   */
  spell(name: string, value: string): string {
    this.spec(name);
    if (!this.inTerminal) return `${name}: ${value}`;
    if (isSwitch(this.spec(name))) return value === 'false' ? `--no-${name}` : `--${name}`;
    return `--${name} ${value}`;
  }

  /** In a terminal (the CLI) rather than a workflow step: hints name flags and environment variables there. */
  get inTerminal(): boolean {
    return this.runtime.context.host === 'terminal';
  }

  string(name: string): string {
    const value = this.raw(name);
    if (value === '' && this.spec(name).required) {
      throw new ConfigurationError(`Input "${name}" is required: ${this.spec(name).description}`);
    }
    return value;
  }

  optional(name: string): string | undefined {
    const value = this.string(name);
    return value === '' ? undefined : value;
  }

  boolean(name: string): boolean {
    const value = this.string(name).toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(value)) return true;
    if (['false', 'no', '0', 'off', ''].includes(value)) return false;
    throw new ConfigurationError(`Input "${name}" is "${value}", not a boolean: set it to true or false.`);
  }

  integer(name: string, range: { min: number; max?: number }): number {
    return this.parseNumber(name, range, true);
  }

  optionalNumber(name: string, range: { min: number; max?: number }): number | undefined {
    return this.string(name) === '' ? undefined : this.parseNumber(name, range, false);
  }

  choice<T extends string>(name: string, choices: readonly T[]): T {
    const value = this.string(name) as T;
    if (!choices.includes(value)) {
      throw new ConfigurationError(`Input "${name}" is "${value}": use one of ${choices.join(', ')}.`);
    }
    return value;
  }

  /** Newline- or comma-separated values, blanks dropped. */
  list(name: string): string[] {
    return splitList(this.string(name));
  }

  private parseNumber(name: string, range: { min: number; max?: number }, whole: boolean): number {
    const text = this.string(name);
    const value = Number(text);
    const kind = whole ? 'a whole number' : 'a number';
    const bounds = range.max === undefined ? `${range.min} or more` : `from ${range.min} to ${range.max}`;
    if (text === '' || !Number.isFinite(value) || (whole && !Number.isInteger(value))) {
      throw new ConfigurationError(`Input "${name}" is "${text}", not ${kind}: set it to ${kind} ${bounds}.`);
    }
    if (value < range.min || (range.max !== undefined && value > range.max)) {
      throw new ConfigurationError(`Input "${name}" is ${value}, out of range: set it to ${kind} ${bounds}.`);
    }
    return value;
  }

  /** Where a value read from this input came from, for the parsed value to carry (origin.ts). */
  origin(name: string): Origin {
    this.spec(name);
    return Origin.input(name);
  }

  private raw(name: string): string {
    const value = this.runtime.getInput(name).trim();
    if (value !== '') return value;
    const spec = this.spec(name);
    return spec.default ?? spec.machineDefault?.() ?? '';
  }

  private spec(name: string): InputSpec {
    const spec = this.specs[name];
    if (!spec) throw new Error(`Input "${name}" is read but not declared in the action's input specs.`);
    return spec;
  }
}

/** An input the CLI takes as a switch (`--dry-run`): declared boolean, or defaulting to true/false. */
export function isSwitch(spec: InputSpec): boolean {
  return spec.type === 'boolean' || spec.default === 'true' || spec.default === 'false';
}

export function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
