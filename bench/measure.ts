import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Measured {
  seconds: number;
  /** CPU seconds of the command and every process it waited for (GNU time's %U and %S). */
  userSeconds: number;
  systemSeconds: number;
  /** Peak resident memory of the largest process among them (GNU time's %M). */
  peakRssBytes: number;
  /** CPU seconds the PostgreSQL server spent meanwhile (backends, and the workers they started). */
  serverSeconds: number;
}

/**
 * Runs a command to completion under GNU time, with the server's CPU read from /proc before and after; rejects
 * with the output's tail on failure. `dataDir`: the cluster(s) whose server work counts (their postmaster.pid).
 */
export async function measure(
  command: string,
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; dataDir?: string | string[] } = {},
): Promise<Measured> {
  const report = path.join(os.tmpdir(), `backstop-time-${process.pid}-${Date.now()}`);
  const dataDirs = [options.dataDir ?? []].flat();
  const serversNow = (): number => dataDirs.reduce((sum, dataDir) => sum + serverCpuSeconds(dataDir), 0);
  const serverBefore = serversNow();
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', report, command, ...argv], {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // Only the tail matters for an error message; a tool writing its data to stdout must not fill memory.
    const keepTail = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8', 0, Math.min(chunk.length, 4096))).slice(-4096);
    };
    child.stdout.on('data', keepTail);
    child.stderr.on('data', keepTail);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${argv.join(' ')} exited ${code}: ${output}`)),
    );
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [user, system, maxKb] = (await fs.readFile(report, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  await fs.rm(report, { force: true });
  const serverSeconds = serversNow() - serverBefore;
  return { seconds, userSeconds: user!, systemSeconds: system!, peakRssBytes: maxKb! * 1024, serverSeconds };
}

const TICKS_PER_SECOND = 100;

/**
 * The server's CPU so far: the postmaster's own and that of the backends it reaped (cutime/cstime), plus the live
 * children's. A backend's time moves from "live child" to "reaped" when it exits, so the sum only grows.
 */
function serverCpuSeconds(dataDir: string): number {
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const fields = (pid: number | string): string[] => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  };
  // After the command name: state is field 3 of stat, so index 0 here; ppid 1; utime 11, stime 12, cutime 13, cstime 14.
  const own = fields(postmaster);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const child = fields(entry);
      if (Number(child[1]) === postmaster) ticks += Number(child[11]) + Number(child[12]);
    } catch {
      // exited while we looked
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Pairs of runs, the order alternating (stock first, then ours first), so drift and warm caches hit both alike. */
export async function alternatingPairs(
  rounds: number,
  stock: () => Promise<Measured>,
  ours: () => Promise<Measured>,
  onPair: (pair: { stock: Measured; ours: Measured }, round: number) => void = () => undefined,
): Promise<{ stock: Measured; ours: Measured }[]> {
  const pairs: { stock: Measured; ours: Measured }[] = [];
  for (let round = 1; round <= rounds; round++) {
    let pair: { stock: Measured; ours: Measured };
    if (round % 2 === 1) {
      const first = await stock();
      pair = { stock: first, ours: await ours() };
    } else {
      const first = await ours();
      pair = { ours: first, stock: await stock() };
    }
    pairs.push(pair);
    onPair(pair, round);
  }
  return pairs;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One line: the median of the pair ratios (min–max), and the median wall and CPU seconds of each side. */
export function describePairs(label: string, pairs: { stock: Measured; ours: Measured }[], target: string): string {
  const ratios = pairs.map((pair) => pair.ours.seconds / pair.stock.seconds);
  const side = (pick: (pair: { stock: Measured; ours: Measured }) => Measured): string => {
    const runs = pairs.map(pick);
    const wall = median(runs.map((run) => run.seconds));
    const user = median(runs.map((run) => run.userSeconds));
    const system = median(runs.map((run) => run.systemSeconds));
    const server = median(runs.map((run) => run.serverSeconds));
    return `${wall.toFixed(2)} s wall, ${user.toFixed(2)} user + ${system.toFixed(2)} sys CPU s, server ${server.toFixed(2)} CPU s`;
  };
  return [
    `${label}: median ratio ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}, ${pairs.length} pairs; target ${target})`,
    `    Backstop ${side((pair) => pair.ours)}`,
    `    stock    ${side((pair) => pair.stock)}`,
  ].join('\n');
}

/**
 * The environment a GitHub runner gives an action's bundle: INPUT_<NAME> per input, and GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY as files in `work` (created by the caller, as the runner creates them before a step).
 */
export function runnerEnv(inputs: Record<string, string>, work: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUNNER_TEMP: work,
    GITHUB_OUTPUT: path.join(work, 'out'),
    GITHUB_STEP_SUMMARY: path.join(work, 'summary'),
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return env;
}
