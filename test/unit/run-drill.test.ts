import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../actions/lib/action/errors.ts';
import { writeManifest, type FoundBackup } from '../../actions/lib/manifest/catalog.ts';
import { readLatestDrill, runDrill, type Budgets, type EngineOutcome } from '../../actions/lib/manifest/drills.ts';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { postgresManifest } from '../harness/manifests.ts';

const BACKUP_FINISHED = '2026-03-01T00:00:00.000Z';

const manifest: Manifest = postgresManifest('20260301T000000Z-daily-abcd', BACKUP_FINISHED);

type TestOutcome = EngineOutcome & { tables: string[] };

function freshOutcome(): TestOutcome {
  return { target: 'nowhere yet', restoreSeconds: 0, checksumsVerified: false, problems: [], tables: [] };
}

/** A clock that tells the drill's start, then its end. */
function clock(startedAt: string, finishedAt: string): () => Date {
  const times = [startedAt, finishedAt];
  return () => new Date(times.shift() ?? finishedAt);
}

describe('runDrill, the envelope every engine drills in', () => {
  let root: string;
  let holder: LocalStore;
  let elsewhere: LocalStore;
  let found: FoundBackup;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-run-drill-'));
    holder = new LocalStore(path.join(root, 'holder'));
    elsewhere = new LocalStore(path.join(root, 'elsewhere'));
    await writeManifest([holder], manifest);
    found = { store: holder, manifest };
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  interface Drill {
    budgets?: Budgets;
    dryRun?: boolean;
    rtoInDryRun?: boolean;
    onVerified?: () => Promise<void>;
    startedAt?: string;
  }

  function drill(restore: (outcome: TestOutcome) => Promise<void>, options: Drill = {}) {
    const startedAt = options.startedAt ?? '2026-03-01T06:00:00.000Z';
    const finishedAt = new Date(Date.parse(startedAt) + 90_000).toISOString();
    return runDrill(
      {
        found,
        stores: [elsewhere, holder],
        budgets: options.budgets ?? {},
        dryRun: options.dryRun ?? false,
        now: clock(startedAt, finishedAt),
        engine: 'postgres',
        outcome: freshOutcome(),
        rtoInDryRun: options.rtoInDryRun ?? false,
        onVerified: options.onVerified,
      },
      restore,
    );
  }

  it('writes the full record next to the backup, only where the backup is', async () => {
    const record = await drill(async (outcome) => {
      outcome.target = 'a throwaway PostgreSQL 17';
      outcome.restoreSeconds = 90;
      outcome.checksumsVerified = true;
      outcome.tables.push('public.trades');
    });
    expect(record).toEqual({
      version: 1,
      backupId: manifest.id,
      name: 'prod',
      engine: 'postgres',
      startedAt: '2026-03-01T06:00:00.000Z',
      finishedAt: '2026-03-01T06:01:30.000Z',
      dryRun: false,
      target: 'a throwaway PostgreSQL 17',
      restoreSeconds: 90,
      backupAgeHours: 6,
      verified: true,
      checksumsVerified: true,
      problems: [],
      tables: ['public.trades'],
    });
    expect(await readLatestDrill(holder, 'prod', manifest.id)).toEqual(record);
    expect(await readLatestDrill(elsewhere, 'prod', manifest.id)).toBeUndefined();
  });

  it("puts an engine's error first, keeps what the engine learnt before it, and holds no time to the RTO", async () => {
    const record = await drill(
      async (outcome) => {
        outcome.checksumsVerified = true;
        outcome.restoreSeconds = 500;
        outcome.problems.push('public.trades: 3 rows, the manifest says 4');
        throw new Error('connection reset');
      },
      { budgets: { maxAgeHours: 1, maxRestoreSeconds: 60 } },
    );
    expect(record.problems).toEqual([
      'connection reset',
      'The backup is 6.0 h old, over max-age-hours 1 (RPO): check that the backup workflow still runs.',
      'public.trades: 3 rows, the manifest says 4',
    ]);
    expect(record).toMatchObject({ verified: false, checksumsVerified: true, restoreSeconds: 500 });
    expect((await readLatestDrill(holder, 'prod', manifest.id))?.problems).toEqual(record.problems);
  });

  it('rethrows a ConfigurationError and writes no record: a setup mistake is no verdict on the backup', async () => {
    const drilling = drill(async () => {
      throw new ConfigurationError('Input "target-url": the database is not empty');
    });
    await expect(drilling).rejects.toThrow(ConfigurationError);
    expect(await readLatestDrill(holder, 'prod', manifest.id)).toBeUndefined();
  });

  it('adds the RPO problem before the engine’s own when the backup is older than max-age-hours', async () => {
    const record = await drill(
      async (outcome) => {
        outcome.checksumsVerified = true;
        outcome.problems.push('public.trades: missing after restore, the manifest says 4');
      },
      { budgets: { maxAgeHours: 5.5 } },
    );
    expect(record.problems).toEqual([
      'The backup is 6.0 h old, over max-age-hours 5.5 (RPO): check that the backup workflow still runs.',
      'public.trades: missing after restore, the manifest says 4',
    ]);
    expect(record.verified).toBe(false);
    expect((await drill(async () => undefined, { budgets: { maxAgeHours: 6 } })).problems).toEqual([]);
  });

  it('adds the RTO problem last when the restore took longer than max-restore-seconds', async () => {
    const slow = async (outcome: TestOutcome): Promise<void> => {
      outcome.restoreSeconds = 61.25;
      outcome.problems.push('public.trades: 3 rows, the manifest says 4');
    };
    const record = await drill(slow, { budgets: { maxRestoreSeconds: 60 } });
    expect(record.problems).toEqual([
      'public.trades: 3 rows, the manifest says 4',
      'The restore took 61.3 s, over max-restore-seconds 60 (RTO).',
    ]);
    expect(record.verified).toBe(false);
    // An engine whose dry run restores nothing has no restore time to hold to the RTO.
    const dryRun = await drill(slow, { budgets: { maxRestoreSeconds: 60 }, dryRun: true });
    expect(dryRun.problems).toEqual(['public.trades: 3 rows, the manifest says 4']);
    const timedDryRun = await drill(slow, { budgets: { maxRestoreSeconds: 60 }, dryRun: true, rtoInDryRun: true });
    expect(timedDryRun.problems).toContain('The restore took 61.3 s, over max-restore-seconds 60 (RTO).');
  });

  it('runs onVerified only for a drill without problems, before its record is written', async () => {
    const latestSeenByOnVerified: (string | undefined)[] = [];
    const onVerified = async (): Promise<void> => {
      latestSeenByOnVerified.push((await readLatestDrill(holder, 'prod', manifest.id))?.startedAt);
    };
    const stale = await drill(async () => undefined, { budgets: { maxAgeHours: 1 }, onVerified });
    expect(stale.verified).toBe(false);
    expect(latestSeenByOnVerified).toEqual([]);
    const passed = await drill(async () => undefined, { onVerified, startedAt: '2026-03-01T07:00:00.000Z' });
    expect(passed.verified).toBe(true);
    expect(latestSeenByOnVerified).toEqual([stale.startedAt]);
    expect((await readLatestDrill(holder, 'prod', manifest.id))?.startedAt).toBe(passed.startedAt);
  });
});
