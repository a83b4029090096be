import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The ::error:: line(s) the runner would show. */
  errors: string[];
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Called once the process is running (to kill it mid-way). */
  onStart?: (child: ChildProcess) => void;
  /** Run as this OS user (when the tests run as root, to meet a permission a user meets). */
  user?: { uid: number; gid: number };
}

/**
 * Runs an action's bundled dist/index.js exactly as the GitHub runner does: `node dist/index.js` with one
 * INPUT_<NAME> variable per input (name upper-cased, hyphens kept: that is why we spawn node directly, npx drops
 * such variables), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, RUNNER_TEMP.
 */
export async function runAction(
  action: string,
  inputs: Record<string, string>,
  options: RunOptions = {},
): Promise<ActionRun> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `backstop-runner-${action}-`));
  const outputFile = path.join(work, 'output');
  const summaryFile = path.join(work, 'summary');
  await fs.writeFile(outputFile, '');
  await fs.writeFile(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? work,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: work,
    GITHUB_ACTIONS: 'true',
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  const user = options.user;
  let stderr = '';
  if (user) {
    env.HOME = work;
    for (const file of [work, outputFile, summaryFile]) await fs.chown(file, user.uid, user.gid);
  }
  try {
    const [node, bundle] = user ? reachableRuntime(action, user) : [process.execPath, bundleOf(action)];
    const child = spawn(node, [bundle], {
      env,
      cwd: work,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    // A binary the user may not run fails the spawn without a 'close': say so instead of waiting forever.
    child.once('error', (error) => {
      stderr += `spawn failed: ${error.message}`;
      child.emit('close', null);
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    options.onStart?.(child);
    const code = await new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
    return {
      code,
      stdout,
      stderr,
      outputs: parseOutputFile(await fs.readFile(outputFile, 'utf8')),
      summary: await fs.readFile(summaryFile, 'utf8'),
      errors: stdout.split('\n').filter((line) => line.startsWith('::error')),
    };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * The child's peak resident set size so far (VmHWM, the kernel's own high-water mark), read from /proc every 50 ms
 * until it exits: give it as `onStart` and read `bytes` once the run is over.
 */
export function watchPeakRss(): { onStart: (child: ChildProcess) => void; bytes: number } {
  const peak = {
    bytes: 0,
    onStart: (child: ChildProcess): void => {
      const timer = setInterval(() => {
        try {
          const kib = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
          peak.bytes = Math.max(peak.bytes, kib * 1024);
        } catch {
          // The process is gone.
        }
      }, 50);
      child.once('exit', () => clearInterval(timer));
    },
  };
  return peak;
}

/** GITHUB_OUTPUT holds `name<<delimiter\nvalue\ndelimiter` blocks (what @actions/core writes). */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[index]!);
    if (!match) continue;
    const value: string[] = [];
    for (index += 1; index < lines.length && lines[index] !== match[2]; index++) value.push(lines[index]!);
    outputs[match[1]!] = value.join('\n');
  }
  return outputs;
}

function bundleOf(action: string): string {
  return path.join(ROOT, 'actions', action, 'dist', 'index.js');
}

/**
 * Node and the action's bundle where `user` can run them. Cloned under a 0700 folder (root's home is one), another
 * user cannot reach the clone: then node and the dist folder are copied into world-readable folders of the system's
 * temp folder (node once per version, each bundle per test process), and those are run.
 */
function reachableRuntime(action: string, user: { uid: number; gid: number }): [string, string] {
  const canRun = (file: string): boolean =>
    spawnSync('test', ['-x', file], { uid: user.uid, gid: user.gid }).status === 0 &&
    spawnSync('test', ['-r', bundleOf(action)], { uid: user.uid, gid: user.gid }).status === 0;
  if (canRun(process.execPath)) return [process.execPath, bundleOf(action)];
  const node = path.join(os.tmpdir(), `backstop-node-${process.version}`, 'node');
  if (!existsSync(node)) {
    const staging = mkdtempSync(path.join(os.tmpdir(), 'backstop-node-'));
    cpSync(process.execPath, path.join(staging, 'node'));
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, path.dirname(node));
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const dist = path.join(os.tmpdir(), `backstop-dist-${process.pid}-${action}`);
  if (!existsSync(dist)) {
    cpSync(path.join(ROOT, 'actions', action, 'dist'), dist, { recursive: true });
    chmodSync(dist, 0o755);
  }
  return [node, path.join(dist, 'index.js')];
}
