import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { onInterrupt } from './interrupt.ts';

/** Keeps the last lines of a child's stderr for the error message (the whole of it could be gigabytes). */
const STDERR_TAIL_BYTES = 4096;

/** A tool that did not exit 0; `signal` is set when a signal ended it. */
export class ToolExitError extends Error {
  override name = 'ToolExitError';
  readonly signal: NodeJS.Signals | null;

  constructor(message: string, signal: NodeJS.Signals | null) {
    super(message);
    this.signal = signal;
  }
}

export interface RunningTool {
  child: ChildProcess;
  /** Resolves when the tool exits 0; rejects with its stderr tail otherwise. */
  exited: Promise<void>;
  stderrTail(): string;
}

export function startTool(
  command: string,
  args: string[],
  options: SpawnOptions & { label?: string } = {},
): RunningTool {
  const label = options.label ?? command.split('/').pop() ?? command;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  // Interrupted, we stop the tool ourselves: SIGTERM first (pg_dump and pg_restore then cancel their server
  // queries), SIGKILL if it is still there after a grace period. A tool left running would hold locks for hours.
  const forget = onInterrupt(`stopped ${label}`, () => stopChild(child));
  child.once('close', forget);
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    tail = (tail + text).slice(-STDERR_TAIL_BYTES);
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`Could not run ${label}: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new ToolExitError(`${label} ${why}: ${lastLines(tail) || 'no error output'}`, signal));
      }
    });
  });
  return { child, exited, stderrTail: () => tail };
}

/** Runs a tool to completion and returns its stdout. */
export async function runTool(
  command: string,
  args: string[],
  options: SpawnOptions & { label?: string } = {},
): Promise<string> {
  const tool = startTool(command, args, options);
  let out = '';
  tool.child.stdout?.setEncoding('utf8');
  tool.child.stdout?.on('data', (text: string) => {
    out += text;
  });
  await tool.exited;
  return out;
}

const STOP_GRACE_MS = 3_000;

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('close', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join(' / ');
}
