import { pgbackrest, type Pgbackrest } from './command.ts';
import type { StanzaInfo } from './info.ts';

/**
 * The WAL archive's continuity. pgBackRest 2.45's verify checks every file it finds, not the files that are not
 * there: a segment deleted from the repository passes it, yet no recovery can go past that segment. Backstop lists
 * the archive and looks for the holes itself.
 */
const SEGMENT = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})-[0-9a-f]{40}/;

/** Every archived segment name (24 hex digits) of the stanza's archive ids, sorted. */
export async function archivedSegments(tool: Pgbackrest, info: StanzaInfo): Promise<string[]> {
  const names: string[] = [];
  for (const archive of info.archive) {
    const folder = `archive/${tool.stanza}/${archive.id}`;
    const out = await pgbackrest(tool, 'repo-ls', ['--recurse', '--output=json'], [folder]);
    for (const key of Object.keys(JSON.parse(out) as Record<string, unknown>)) {
      const name = key.split('/').pop() ?? '';
      const match = SEGMENT.exec(name);
      if (match) names.push(name.slice(0, 24));
    }
  }
  return [...new Set(names)].sort();
}

export interface WalGap {
  /** The last segment before the hole and the first after it. */
  after: string;
  before: string;
  missing: number;
}

/**
 * Holes in each timeline's run of segments, from `from` (the oldest backup's first segment) on: with 16 MiB
 * segments, 256 per log file number (`segmentBytes` says otherwise for a server initialised with another size).
 */
export function walGaps(segments: string[], from: string | null, segmentBytes = 16 * 1024 * 1024): WalGap[] {
  const perLog = 0x1_0000_0000 / segmentBytes;
  const position = (name: string): number =>
    Number.parseInt(name.slice(8, 16), 16) * perLog + Number.parseInt(name.slice(16, 24), 16);
  const gaps: WalGap[] = [];
  const byTimeline = new Map<string, string[]>();
  for (const name of segments) {
    if (from && name.slice(0, 8) === from.slice(0, 8) && name < from) continue;
    byTimeline.set(name.slice(0, 8), [...(byTimeline.get(name.slice(0, 8)) ?? []), name]);
  }
  for (const names of byTimeline.values()) {
    for (let index = 1; index < names.length; index++) {
      const missing = position(names[index]!) - position(names[index - 1]!) - 1;
      if (missing > 0) gaps.push({ after: names[index - 1]!, before: names[index]!, missing });
    }
  }
  return gaps;
}

/** One line for people: where recovery would stop, and what still restores. */
export function describeGaps(gaps: WalGap[]): string {
  const first = gaps[0]!;
  const total = gaps.reduce((sum, gap) => sum + gap.missing, 0);
  return (
    `the WAL archive has ${total} segment(s) missing, first after ${first.after} (next archived: ${first.before}): ` +
    `no recovery can replay past ${first.after}; check archive_command (pg_stat_archiver), and take a full ` +
    'backup so that later times can be restored'
  );
}

/** The newest WAL segment in the repository and when it arrived there. */
export interface NewestWal {
  segment: string;
  archivedAt: string;
}

interface ListedEntry {
  type: string;
  time?: number;
}

/**
 * The PITR RPO as the repository sees it (not as the server believes it): the newest archived segment and its
 * arrival time, from `repo-ls` of the stanza's archive (every archive id). A later timeline sorts after an earlier
 * one, as segment names do. Listing reads names only: no passphrase is needed, nothing is decrypted.
 */
export async function newestArchivedWal(tool: Pgbackrest): Promise<NewestWal | undefined> {
  const out = await pgbackrest(tool, 'repo-ls', ['--recurse', '--output=json'], [`archive/${tool.stanza}`]);
  let newest: { segment: string; time: number } | undefined;
  for (const [key, entry] of Object.entries(JSON.parse(out) as Record<string, ListedEntry>)) {
    const name = key.split('/').pop() ?? '';
    if (entry.type !== 'file' || entry.time === undefined || !SEGMENT.test(name)) continue;
    const segment = name.slice(0, 24);
    if (!newest || segment > newest.segment || (segment === newest.segment && entry.time > newest.time)) {
      newest = { segment, time: entry.time };
    }
  }
  return newest && { segment: newest.segment, archivedAt: new Date(newest.time * 1000).toISOString() };
}
