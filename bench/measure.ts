import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  seconds: number;
  /** Peak resident memory of the process itself (VmHWM), sampled every 20 ms. */
  peakRssBytes: number;
}

/** Runs a command to completion, timing it and sampling its peak RSS; rejects with its output on failure. */
export function measure(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let peak = 0;
    // Only the tail matters for an error message; a tool writing its data to stdout must not fill memory.
    const keepTail = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8', 0, Math.min(chunk.length, 4096))).slice(-4096);
    };
    child.stdout.on('data', keepTail);
    child.stderr.on('data', keepTail);
    const sample = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      } catch {
        // exited between two samples
      }
    }, 20);
    child.on('close', (code) => {
      clearInterval(sample);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ seconds, peakRssBytes: peak });
      else reject(new Error(`${command} ${argv.join(' ')} exited ${code}: ${output}`));
    });
  });
}
