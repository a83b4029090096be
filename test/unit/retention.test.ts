import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  decideRetention,
  type RetainedBackup,
  type RetentionPolicy,
} from '../../actions/lib/manifest/retention.ts';

/** A small seeded PRNG (mulberry32): property tests that fail the same way every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function history(next: () => number): RetainedBackup[] {
  const count = Math.floor(next() * 400);
  const start = Date.UTC(2020, 0, 1);
  const span = next() < 0.5 ? 30 * 86_400_000 : 6 * 365 * 86_400_000; // a month of hourlies, or years of dailies
  return Array.from({ length: count }, (_, i) => {
    const createdAt = new Date(start + Math.floor(next() * span));
    return { id: `b${i}`, createdAt, verified: next() < 0.2 };
  });
}

function policy(next: () => number): RetentionPolicy {
  const n = (max: number): number => (next() < 0.3 ? 0 : Math.floor(next() * max));
  return { last: n(5), hourly: n(48), daily: n(40), weekly: n(15), monthly: n(15), quarterly: n(30), yearly: n(8) };
}

describe('GFS retention, over 500 random histories and policies', () => {
  const cases = Array.from({ length: 500 }, (_, seed) => {
    const next = random(seed + 1);
    return { seed, backups: history(next), policy: policy(next) };
  });

  it('never deletes the newest backup nor the newest verified one', () => {
    for (const { backups, policy: p, seed } of cases) {
      const { keep } = decideRetention(backups, p);
      const byTime = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
      if (byTime[0]) expect(keep.has(byTime[0].id), `seed ${seed}`).toBe(true);
      const verified = byTime.find((b) => b.verified);
      if (verified) expect(keep.has(verified.id), `seed ${seed}`).toBe(true);
    }
  });

  it('keeps or removes every backup exactly once, and keeps the newest keep-last', () => {
    for (const { backups, policy: p, seed } of cases) {
      const { keep, remove } = decideRetention(backups, p);
      expect([...keep.keys(), ...remove].sort(), `seed ${seed}`).toEqual(backups.map((b) => b.id).sort());
      expect(remove.filter((id) => keep.has(id))).toEqual([]);
      const newest = [...backups].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(0, p.last);
      for (const backup of newest) expect(keep.get(backup.id), `seed ${seed}`).toContain('last');
    }
  });

  it('keeps exactly one backup, the newest, per kept period bucket, and no more buckets than asked', () => {
    for (const { backups, policy: p, seed } of cases) {
      const { keep } = decideRetention(backups, p);
      for (const period of ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const) {
        const kept = [...keep].filter(([, reasons]) => reasons.some((r) => r.startsWith(`${period} `)));
        expect(kept.length, `seed ${seed} ${period}`).toBeLessThanOrEqual(p[period]);
        for (const [id] of kept) {
          const backup = backups.find((b) => b.id === id)!;
          const sameBucket = backups.filter(
            (b) => bucketOf(period, b.createdAt) === bucketOf(period, backup.createdAt),
          );
          expect(
            sameBucket.every((b) => b.createdAt <= backup.createdAt),
            `seed ${seed} ${period}`,
          ).toBe(true);
        }
        const buckets = new Set(backups.map((b) => bucketOf(period, b.createdAt)));
        expect(kept.length, `seed ${seed} ${period}`).toBe(Math.min(p[period], buckets.size));
      }
    }
  });

  it('orders by the backup time, not by the order it was listed in', () => {
    const backups = [
      { id: 'z-listed-first', createdAt: new Date('2026-01-01T00:00:00Z'), verified: false },
      { id: 'a-listed-last', createdAt: new Date('2026-01-02T00:00:00Z'), verified: false },
    ];
    expect(
      decideRetention(backups, { last: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0, quarterly: 0, yearly: 0 }),
    ).toEqual({
      keep: new Map([['a-listed-last', ['last', 'newest']]]),
      remove: ['z-listed-first'],
    });
  });

  it('puts each calendar quarter in its own bucket (UTC), the year in the name', () => {
    expect(bucketOf('quarterly', new Date('2026-01-01T00:00:00Z'))).toBe('2026-Q1');
    expect(bucketOf('quarterly', new Date('2026-03-31T23:59:59Z'))).toBe('2026-Q1');
    expect(bucketOf('quarterly', new Date('2026-04-01T00:00:00Z'))).toBe('2026-Q2');
    expect(bucketOf('quarterly', new Date('2026-12-31T23:59:59Z'))).toBe('2026-Q4');
  });

  it('keeps 7 years of quarterly archives out of 8 years of dailies with keep-quarterly 28 (TD-102)', () => {
    const day = 86_400_000;
    const start = Date.UTC(2019, 0, 1);
    const dailies = Array.from({ length: 8 * 365 }, (_, i) => ({
      id: `d${String(i).padStart(4, '0')}`,
      createdAt: new Date(start + i * day),
      verified: false,
    }));
    const { keep } = decideRetention(dailies, {
      last: 0,
      hourly: 0,
      daily: 0,
      weekly: 0,
      monthly: 0,
      quarterly: 28,
      yearly: 0,
    });
    const quarters = [...keep.values()].flat().filter((reason) => reason.startsWith('quarterly '));
    expect(quarters).toHaveLength(28);
    const oldest = quarters.map((reason) => reason.slice('quarterly '.length)).sort()[0];
    const newest = dailies.at(-1)!.createdAt;
    expect(oldest).toBe(
      bucketOf('quarterly', new Date(Date.UTC(newest.getUTCFullYear() - 7, newest.getUTCMonth() + 3))),
    );
  });

  it('uses ISO weeks (a week belongs to the year of its Thursday)', () => {
    expect(bucketOf('weekly', new Date('2026-01-01T12:00:00Z'))).toBe('2026-W01');
    expect(bucketOf('weekly', new Date('2027-01-01T12:00:00Z'))).toBe('2026-W53');
    expect(bucketOf('weekly', new Date('2024-12-30T12:00:00Z'))).toBe('2025-W01');
  });
});
