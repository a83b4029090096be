/**
 * GFS retention (grandfather-father-son, as restic's `forget` keeps snapshots): keep the newest `last` backups, then
 * the newest backup of each of the newest N hours, days, ISO weeks, months, quarters and years (UTC). Whatever the policy,
 * the newest complete backup and the newest one whose drill verified are kept: retention can never delete the last
 * good copy. Pure: it only decides; the action deletes.
 */
export interface RetentionPolicy {
  last: number;
  hourly: number;
  daily: number;
  weekly: number;
  monthly: number;
  /** TD-102's compliance archive: one backup per calendar quarter (Jan-Mar, Apr-Jun, …), 28 of them for 7 years. */
  quarterly: number;
  yearly: number;
}

export interface RetainedBackup {
  id: string;
  createdAt: Date;
  /** Its latest drill verified. */
  verified: boolean;
  /** The backup it cannot be restored without (an incremental's base): kept whenever this one is. */
  dependsOn?: string;
}

export interface RetentionDecision {
  /** id → why it is kept ("last", "daily 2026-01-18", "newest verified", …). */
  keep: Map<string, string[]>;
  remove: string[];
}

type Period = Exclude<keyof RetentionPolicy, 'last'>;

const PERIODS: Period[] = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'];

/** The UTC calendar bucket a time falls in, per period. */
export function bucketOf(period: Period, at: Date): string {
  const iso = at.toISOString();
  switch (period) {
    case 'hourly':
      return iso.slice(0, 13);
    case 'daily':
      return iso.slice(0, 10);
    case 'monthly':
      return iso.slice(0, 7);
    case 'quarterly':
      return `${iso.slice(0, 4)}-Q${Math.floor(at.getUTCMonth() / 3) + 1}`;
    case 'yearly':
      return iso.slice(0, 4);
    case 'weekly':
      return isoWeek(at);
  }
}

function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides its year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export function decideRetention(backups: RetainedBackup[], policy: RetentionPolicy): RetentionDecision {
  // By the manifest's time, newest first; the id breaks ties (it sorts by time too).
  const sorted = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
  const keep = new Map<string, string[]>();
  const because = (id: string, reason: string): void => void keep.set(id, [...(keep.get(id) ?? []), reason]);

  for (const backup of sorted.slice(0, policy.last)) because(backup.id, 'last');
  for (const period of PERIODS) {
    const seen = new Set<string>();
    for (const backup of sorted) {
      if (seen.size >= policy[period]) break;
      const bucket = bucketOf(period, backup.createdAt);
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      because(backup.id, `${period} ${bucket}`);
    }
  }
  if (sorted[0]) because(sorted[0].id, 'newest');
  const newestVerified = sorted.find((backup) => backup.verified);
  if (newestVerified) because(newestVerified.id, 'newest verified');
  keepChains(sorted, keep);
  return { keep, remove: sorted.filter((backup) => !keep.has(backup.id)).map((backup) => backup.id) };
}

/** A kept incremental keeps what it is built on, down to its full backup: a chain is restorable whole or not at all. */
function keepChains(backups: RetainedBackup[], keep: Map<string, string[]>): void {
  const byId = new Map(backups.map((backup) => [backup.id, backup]));
  for (const id of [...keep.keys()]) {
    let base = byId.get(id)?.dependsOn;
    while (base && byId.has(base)) {
      keep.set(base, [...(keep.get(base) ?? []), `base of ${id}`]);
      base = byId.get(base)?.dependsOn;
    }
  }
}
