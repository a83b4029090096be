/** What a recovering server's log says about how far it got (PostgreSQL's own messages, English locale). */
export interface RecoveryLog {
  /** "restored log file … from archive" lines: WAL segments fetched through restore_command. */
  segmentsRestored: number;
  /** The last segment fetched. */
  lastSegment: string | null;
  /** "recovery stopping before commit of transaction 737, time …": the target was reached. */
  stopLine: string | null;
  /** "recovery ended before configured recovery target was reached". */
  endedBeforeTarget: boolean;
  /** The first FATAL or PANIC line, when the server gave up. */
  fatal: string | null;
}

export function readRecoveryLog(text: string): RecoveryLog {
  const lines = text.split('\n');
  const restored = lines
    .map((line) => /restored log file "([0-9A-F]{24})" from archive/.exec(line)?.[1])
    .filter((segment): segment is string => segment !== undefined);
  const message = (line: string | undefined): string | null =>
    line ? line.replace(/^.*?(LOG|FATAL|PANIC):\s+/, '').trim() : null;
  return {
    segmentsRestored: new Set(restored).size,
    lastSegment: restored.at(-1) ?? null,
    stopLine: message(lines.find((line) => /recovery stopping (before|after)/.test(line))),
    endedBeforeTarget: lines.some((line) => /recovery ended before configured recovery target was reached/.test(line)),
    fatal: message(lines.find((line) => /\b(FATAL|PANIC):/.test(line))),
  };
}
