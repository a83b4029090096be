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
  /** What it weighs in the backup before compression (COPY text of a table, a collection's snapshots); undefined
   *  when that backup does not say (rows counted with count(*), an older manifest, or not in it at all). */
  bytes: number | undefined;
  previousBytes: number | undefined;
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

interface Measure {
  count: number | null;
  bytes: number | undefined;
}

/**
 * What a backup holds, by table or collection: the manifest's exact row counts and dumped bytes, or Qdrant's points
 * and the raw bytes of the collection's snapshots.
 */
function measuresOf(manifest: Manifest): Map<string, Measure> {
  if (manifest.collections) {
    const rawBytes = new Map(manifest.files.map((file) => [file.path, file.rawBytes]));
    return new Map(
      manifest.collections.map((c) => [
        c.name,
        { count: c.points, bytes: c.snapshots.reduce((sum, s) => sum + (rawBytes.get(s.file) ?? 0), 0) },
      ]),
    );
  }
  return new Map((manifest.tables ?? []).map((t) => [`${t.schema}.${t.name}`, { count: t.rows, bytes: t.dataBytes }]));
}

function rawBytesOf(manifest: Manifest): number {
  return manifest.files.reduce((sum, file) => sum + (file.rawBytes ?? 0), 0);
}

/**
 * The backup against the previous complete one of the same name: bytes, and each table's rows and dumped bytes
 * (each collection's points and snapshot bytes). A table that lost more than `maxDropPercent` of its rows, or is gone, is flagged: a backup of a database
 * someone just emptied is complete and verifies, and is still the one nobody wants to be the newest.
 */
export function compareWithPrevious(
  current: Manifest,
  previous: Manifest | undefined,
  maxDropPercent: number,
): BackupTrends | undefined {
  if (!previous) return undefined;
  const now = measuresOf(current);
  const before = measuresOf(previous);
  const labels = [...new Set([...before.keys(), ...now.keys()])].sort();
  const items = labels.map((label): ItemTrend => {
    const count = now.get(label)?.count;
    const was = before.get(label)?.count;
    const [bytes, previousBytes] = [now.get(label)?.bytes, before.get(label)?.bytes];
    return { label, count, previous: was, bytes, previousBytes, dropped: isDrop(was, count, maxDropPercent) };
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

/** The summary's trends section: bytes, then the tables whose rows or bytes changed (flagged first). */
export function trendsMarkdown(trends: BackupTrends | undefined): string {
  if (!trends) return '### Trends\n\nThe first complete backup of this name: nothing to compare with yet.\n';
  const unit = trends.unit;
  const changed = trends.items
    .filter((item) => item.count !== item.previous || item.bytes !== item.previousBytes)
    .sort((a, b) => Number(b.dropped) - Number(a.dropped));
  const countChanged = changed.filter((item) => item.count !== item.previous).length;
  const rows = changed
    .slice(0, SHOWN_ITEMS)
    .map((item) => [
      `${item.dropped ? '⚠️ ' : ''}${item.label}`,
      countText(item.previous),
      countText(item.count),
      changeText(item),
      bytesText(item.previousBytes),
      bytesText(item.bytes),
      bytesChangeText(item),
    ]);
  const lines = [
    `### Trends against ${trends.previousId}`,
    '',
    `Stored ${signedBytes(trends.storedBytes, trends.previousStoredBytes)}, dumped ` +
      `${signedBytes(trends.rawBytes, trends.previousRawBytes)}; ${countChanged} of ${trends.items.length} ` +
      `${unit === 'rows' ? 'tables' : 'collections'} changed their ${unit}.`,
  ];
  const drops = dropsOf(trends);
  if (drops.length > 0)
    lines.push(
      '',
      `⚠️ Lost more than ${trends.maxDropPercent}% of their ${unit}: ${drops.map((d) => d.label).join(', ')}.`,
    );
  if (rows.length > 0) {
    const thing = unit === 'rows' ? 'Table' : 'Collection';
    const header = [thing, 'Before', 'Now', 'Change', 'Bytes before', 'Bytes now', 'Bytes change'];
    lines.push('', markdownTable(header, rows));
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
  return signedChange(item.count, item.previous, formatCount);
}

function bytesText(bytes: number | undefined): string {
  return bytes === undefined ? '—' : formatBytes(bytes);
}

function bytesChangeText(item: ItemTrend): string {
  if (item.bytes === undefined || item.previousBytes === undefined) return '';
  return signedChange(item.bytes, item.previousBytes, formatBytes);
}

/** `+20 (20.0%)`, `−1.5 KiB (-3.0%)`: the change and its share of what there was. */
function signedChange(now: number, before: number, format: (value: number) => string): string {
  const delta = now - before;
  const percent = before === 0 ? '' : ` (${((delta / before) * 100).toFixed(1)}%)`;
  return `${delta >= 0 ? '+' : '−'}${format(Math.abs(delta))}${percent}`;
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
