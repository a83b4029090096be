import { formatBytes, formatRate } from '../format.ts';

const PROGRESS_INTERVAL_MS = 15_000;

/** Logs "label: 1.2 GiB, 85 MiB/s" every 15 s while long work runs, so a stuck job is told from a slow one. */
export function reportProgress(label: string, bytesSoFar: () => number, log: (line: string) => void): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    const seconds = (Date.now() - started) / 1000;
    log(`${label}: ${formatBytes(bytesSoFar())} so far, ${formatRate(bytesSoFar(), seconds)}`);
  }, PROGRESS_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
