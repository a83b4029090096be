/**
 * What to undo when the process is told to stop (SIGINT, SIGTERM: a cancelled workflow, Ctrl-C, a timeout): every
 * piece of work that starts something outside this process registers how to end it (a child to stop, a throwaway
 * cluster to shut down, an upload to abort, a server query to cancel, a temp folder to remove) and unregisters when
 * it ends normally. The adapters (action/github.ts, action/cli.ts) install the signal handlers that run them.
 *
 * Generic on purpose: it imports nothing, so any room may use it.
 */
export interface Cleanup {
  /** For the one line printed on interrupt, e.g. "stopped pg_dump", "removed the partial upload of …". */
  what: string;
  run: () => Promise<void> | void;
}

const registered = new Set<Cleanup>();

/** Registers a cleanup; the returned function unregisters it (call it when the work ends on its own). */
export function onInterrupt(what: string, run: Cleanup['run']): () => void {
  const cleanup = { what, run };
  registered.add(cleanup);
  return () => void registered.delete(cleanup);
}

/** How long one cleanup may take before it is given up (the runner sends SIGKILL ~7.5 s after SIGINT). */
const CLEANUP_TIMEOUT_MS = 5_000;

/**
 * Runs every registered cleanup, newest first (an upload is aborted before the folder it reads is removed), each
 * bounded in time; returns what was done and what failed. Never throws.
 */
export async function runCleanups(): Promise<{ done: string[]; failed: string[] }> {
  const cleanups = [...registered].reverse();
  registered.clear();
  const done: string[] = [];
  const failed: string[] = [];
  for (const cleanup of cleanups) {
    const outcome = await Promise.race([
      Promise.resolve()
        .then(cleanup.run)
        .then(() => 'done' as const)
        .catch(() => 'failed' as const),
      new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), CLEANUP_TIMEOUT_MS).unref()),
    ]);
    if (outcome === 'done') done.push(cleanup.what);
    else failed.push(`${cleanup.what} (${outcome})`);
  }
  return { done, failed };
}

const EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** The first signal received, once one was: the work it cut short fails, and that failure is not reported again. */
let first: NodeJS.Signals | undefined;

export function interrupted(): boolean {
  return first !== undefined;
}

/**
 * On the first SIGINT or SIGTERM: run the cleanups, print one line saying what was interrupted and what was
 * cleaned, and exit 130 or 143. A second signal while cleaning (the runner sends SIGTERM after SIGINT) does not cut
 * the cleanup short: it is said once, and the cleanup goes on.
 */
export function exitCleanlyOnSignals(
  report: { error: (line: string) => void; info: (line: string) => void },
  doing: string,
): void {
  const handle = (signal: NodeJS.Signals): void => {
    if (first) {
      report.info(`${signal} during cleanup: still cleaning up after ${first}, exiting as soon as that is done.`);
      return;
    }
    first = signal;
    void runCleanups().then(({ done, failed }) => {
      const cleaned = done.length > 0 ? `; cleaned up: ${done.join(', ')}` : '; there was nothing to clean up';
      const left = failed.length > 0 ? `; could not clean up: ${failed.join(', ')}` : '';
      report.error(`Interrupted by ${signal} while ${doing}${cleaned}${left}. No half-written backup was kept.`);
      process.exit(EXIT_CODES[signal] ?? 1);
    });
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
