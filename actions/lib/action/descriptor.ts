import type { Runtime } from './runtime.ts';

/**
 * One declared input of an action. It is written once, here in the action's descriptor: the action.yml
 * `inputs:` block, the README's input table, the CLI's flags and help, and the reader's defaults all come from it.
 */
export interface InputSpec {
  /** One line for action.yml and `--help`. No `${{ }}` expression: GitHub evaluates them in action.yml. */
  description: string;
  /** The README's longer text (Markdown); the description when absent. */
  docs?: string;
  required?: boolean;
  default?: string;
  /** A default worked out on the machine that runs (e.g. the number of CPUs): in code only, never in action.yml. */
  machineDefault?: () => string;
  /** A default GitHub evaluates (`${{ github.token }}`): in action.yml only; the code has its own fallback. */
  runnerDefault?: string;
  /** How the README shows a default that is not a fixed value, e.g. "the number of CPUs". */
  defaultLabel?: string;
  /** `boolean`: a CLI switch (`--dry-run`), `true`/`false` in a workflow. */
  type?: 'boolean';
  /**
   * Masked before the first log line and never echoed in an error: `true` masks the whole value; `'url'` masks a
   * URL's password, and the whole URL only when it carries one (so a password-less URL stays readable).
   */
  secret?: true | 'url';
}

export type InputSpecs = Record<string, InputSpec>;

export interface OutputSpec {
  description: string;
  /** The README's longer text; the description when absent. */
  docs?: string;
}

/**
 * Everything an action is, in one place (actions/<name>/src/action.ts). Its dist entry runs it on the GitHub
 * runner, the CLI lists it as a command, and `npm run generate` writes its action.yml and README tables from it.
 */
export interface ActionDescriptor<Output extends string = string> {
  name: string;
  description: string;
  /** GitHub Marketplace branding (a Feather icon name and a colour). */
  branding: { icon: string; color: string };
  inputs: InputSpecs;
  outputs: Record<Output, OutputSpec>;
  run(runtime: Runtime<Output>): Promise<void>;
}

/** Types a descriptor: its run() may set only the outputs it declares. */
export function defineAction<Output extends string>(descriptor: ActionDescriptor<Output>): ActionDescriptor<Output> {
  return descriptor;
}

/** What the README adds to an input's spec: its longer text and how its default reads. */
export type InputDocs = Pick<InputSpec, 'docs' | 'defaultLabel' | 'runnerDefault'>;

/** The specs with each input's README text merged in; every documented name must be a declared input. */
export function documented<Specs extends InputSpecs>(specs: Specs, docs: { [Name in keyof Specs]?: InputDocs }): Specs {
  const merged: InputSpecs = {};
  for (const [name, spec] of Object.entries(specs)) merged[name] = { ...spec, ...docs[name] };
  return merged as Specs;
}
