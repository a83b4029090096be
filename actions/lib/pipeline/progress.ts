import { formatProgress } from '../format.ts';

/** How often progress is logged: every 15 s in a workflow log; the CLI on a terminal makes it 1 s (a live line). */
export const progressTiming = { everyMs: 15_000 };

/**
 * Logs "label: 1.2 GiB of 4.0 GiB (30%), 85 MiB/s, ETA 34 s" (or "… so far" when the total is unknown) while long
 * work runs, so a stuck job is told from a slow one.
 */
export function reportProgress(
  label: string,
  bytesSoFar: () => number,
  log: (line: string) => void,
  total?: number,
): () => void {
  const started = Date.now();
  const timer = setInterval(() => {
    log(formatProgress(label, bytesSoFar(), total, (Date.now() - started) / 1000));
  }, progressTiming.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
