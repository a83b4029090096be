import { VerificationError } from '../action/errors.ts';
import type { Store } from '../storage/index.ts';
import type { Manifest } from './schema.ts';
import { formatBytes, formatCount, markdownTable } from '../format.ts';
import { previousCompleteBackup, storedBytes } from './capacity.ts';

/** One table (PostgreSQL) or collection (Qdrant) against the previous backup of the same name. */
export interface ItemTrend {
  /** schema.table, or the collection's name. */
  label: string;
  /** null: its rows are not in the backup (exclude-table-data); undefined: not in that backup at all. */
  count: number | null | undefined;
  previous: number | null | undefined;
  /** Lost more than the allowed share of its rows (a table gone counts as all of them). */
  dropped: boolean;
}

export interface BackupTrends {
  previousId: string;
  /** Rows for PostgreSQL, points for Qdrant. */
  unit: 'rows' | 'points';
  storedBytes: number;
  previousStoredBytes: number;
  rawBytes: number;
  previousRawBytes: number;
  items: ItemTrend[];
  maxDropPercent: number;
}

/** What a backup counts, by table or collection: the manifest's exact row counts, or Qdrant's points. */
function countsOf(manifest: Manifest): Map<string, number | null> {
  if (manifest.collections) return new Map(manifest.collections.map((c) => [c.name, c.points]));
  return new Map((manifest.tables ?? []).map((t) => [`${t.schema}.${t.name}`, t.rows]));
}

function rawBytesOf(manifest: Manifest): number {
  return manifest.files.reduce((sum, file) => sum + (file.rawBytes ?? 0), 0);
}

/**
 * The backup against the previous complete one of the same name: bytes, and each table's rows (each collection's
 * points). A table that lost more than `maxDropPercent` of its rows, or is gone, is flagged: a backup of a database
 * someone just emptied is complete and verifies, and is still the one nobody wants to be the newest.
 */
export function compareWithPrevious(
  current: Manifest,
  previous: Manifest | undefined,
  maxDropPercent: number,
): BackupTrends | undefined {
  if (!previous) return undefined;
  const now = countsOf(current);
  const before = countsOf(previous);
  const labels = [...new Set([...before.keys(), ...now.keys()])].sort();
  const items = labels.map((label): ItemTrend => {
    const count = now.has(label) ? now.get(label) : undefined;
    const was = before.has(label) ? before.get(label) : undefined;
    return { label, count, previous: was, dropped: isDrop(was, count, maxDropPercent) };
  });
  return {
    previousId: previous.id,
    unit: current.collections ? 'points' : 'rows',
    storedBytes: storedBytes(current),
    previousStoredBytes: storedBytes(previous),
    rawBytes: rawBytesOf(current),
    previousRawBytes: rawBytesOf(previous),
    items,
    maxDropPercent,
  };
}

/** Rows lost beyond the allowed share; uncounted rows (excluded data) are no signal either way. */
function isDrop(previous: number | null | undefined, count: number | null | undefined, maxPercent: number): boolean {
  if (typeof previous !== 'number' || previous === 0 || count === null) return false;
  const lost = previous - (count ?? 0);
  return (lost / previous) * 100 > maxPercent;
}

export function dropsOf(trends: BackupTrends | undefined): ItemTrend[] {
  return trends?.items.filter((item) => item.dropped) ?? [];
}

/** One line per flagged table, for the warning and the failure. */
export function dropText(item: ItemTrend, unit: BackupTrends['unit']): string {
  if (item.count === undefined) return `${item.label} is gone (had ${item.previous} ${unit})`;
  const lost = (item.previous as number) - (item.count as number);
  const percent = ((lost / (item.previous as number)) * 100).toFixed(1);
  return `${item.label} lost ${lost} of ${item.previous} ${unit} (${percent}%)`;
}

/** Tables listed in the summary at most: the changed ones first, flagged ones before those. */
const SHOWN_ITEMS = 30;

/** The summary's trends section: bytes, then the tables whose count changed (flagged first). */
export function trendsMarkdown(trends: BackupTrends | undefined): string {
  if (!trends) return '### Trends\n\nThe first complete backup of this name: nothing to compare with yet.\n';
  const unit = trends.unit;
  const changed = trends.items
    .filter((item) => item.count !== item.previous)
    .sort((a, b) => Number(b.dropped) - Number(a.dropped));
  const rows = changed
    .slice(0, SHOWN_ITEMS)
    .map((item) => [
      `${item.dropped ? '⚠️ ' : ''}${item.label}`,
      countText(item.previous),
      countText(item.count),
      changeText(item),
    ]);
  const lines = [
    `### Trends against ${trends.previousId}`,
    '',
    `Stored ${signedBytes(trends.storedBytes, trends.previousStoredBytes)}, dumped ` +
      `${signedBytes(trends.rawBytes, trends.previousRawBytes)}; ${changed.length} of ${trends.items.length} ` +
      `${unit === 'rows' ? 'tables' : 'collections'} changed their ${unit}.`,
  ];
  const drops = dropsOf(trends);
  if (drops.length > 0)
    lines.push(
      '',
      `⚠️ Lost more than ${trends.maxDropPercent}% of their ${unit}: ${drops.map((d) => d.label).join(', ')}.`,
    );
  if (rows.length > 0) {
    lines.push('', markdownTable([unit === 'rows' ? 'Table' : 'Collection', 'Before', 'Now', 'Change'], rows));
    if (changed.length > SHOWN_ITEMS) lines.push('', `… and ${changed.length - SHOWN_ITEMS} more changed.`);
  }
  return `${lines.join('\n')}\n`;
}

function countText(count: number | null | undefined): string {
  if (count === undefined) return '—';
  return count === null ? 'not dumped' : formatCount(count);
}

function changeText(item: ItemTrend): string {
  if (item.previous === undefined) return 'new';
  if (item.count === undefined) return 'gone';
  if (typeof item.count !== 'number' || typeof item.previous !== 'number') return '';
  const delta = item.count - item.previous;
  const percent = item.previous === 0 ? '' : ` (${((delta / item.previous) * 100).toFixed(1)}%)`;
  return `${delta >= 0 ? '+' : '−'}${formatCount(Math.abs(delta))}${percent}`;
}

function signedBytes(now: number, before: number): string {
  const delta = now - before;
  return `${formatBytes(now)} (${delta >= 0 ? '+' : '−'}${formatBytes(Math.abs(delta))})`;
}

/**
 * The trends of a stored backup against the previous complete one of its name. Each drop is warned about at once;
 * the failure fail-on-row-drop asks for is returned, to be thrown only after the summary is written: failing earlier
 * would lose a backup, not prevent a loss.
 */
export async function trendsOfStoredBackup(
  stores: Store[],
  manifest: Manifest,
  settings: { maxRowDropPercent: number; failOnRowDrop: boolean },
  warn: (line: string) => void,
): Promise<{ trends: BackupTrends | undefined; failure: VerificationError | undefined }> {
  // Read once the backup is stored: a destination that is down has already failed the backup by then.
  const previous = await previousCompleteBackup(stores, manifest.name, manifest.id);
  const trends = compareWithPrevious(manifest, previous, settings.maxRowDropPercent);
  if (!trends) return { trends, failure: undefined };
  const drops = dropsOf(trends).map((drop) => dropText(drop, trends.unit));
  for (const drop of drops) warn(`${drop} since backup ${trends.previousId}: a data-loss signal.`);
  const meant = trends.unit === 'points' ? 'those points were' : 'that data was';
  const failure =
    settings.failOnRowDrop && drops.length > 0
      ? new VerificationError(
          `Backup ${manifest.id} is stored, but ${drops.join('; ')} since backup ${trends.previousId} ` +
            `(fail-on-row-drop): check whether ${meant} meant to go.`,
        )
      : undefined;
  return { trends, failure };
}
