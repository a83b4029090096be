import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Origin } from '../../actions/lib/action/origin.ts';
import { findBackupAsOf, listBackups, writeManifest } from '../../actions/lib/manifest/catalog.ts';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { chooseType } from '../../actions/lib/pgbackrest/backup.ts';
import { postgresqlConfLines, repoOptions } from '../../actions/lib/pgbackrest/config.ts';
import { postgresTime, targetProblems } from '../../actions/lib/pgbackrest/drill.ts';
import type { BackupSet } from '../../actions/lib/pgbackrest/info.ts';
import { readRecoveryLog } from '../../actions/lib/pgbackrest/recovery-log.ts';
import { walGaps } from '../../actions/lib/pgbackrest/wal.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { S3Store } from '../../actions/lib/storage/s3.ts';
import { readTime } from '../../actions/restore-drill/src/inputs.ts';
import { postgresManifest } from '../harness/manifests.ts';

const ORIGIN = Origin.input('to-time');

function physical(id: string, stoppedAt: string): Manifest {
  return {
    ...postgresManifest(id, stoppedAt),
    engine: 'pgbackrest',
    // Backstop finishes (verify, manifest) after pgBackRest stopped the backup: the stop is what counts.
    finishedAt: new Date(Date.parse(stoppedAt) + 600_000).toISOString(),
    pgbackrest: { stoppedAt } as Manifest['pgbackrest'],
  };
}

describe('choosing the backup for a point in time', () => {
  let root: string;
  let store: LocalStore;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-asof-'));
    store = new LocalStore(root);
    await writeManifest([store], postgresManifest('20260110T020000Z-daily-aaaa', '2026-01-10T02:05:00.000Z'));
    await writeManifest([store], postgresManifest('20260111T020000Z-daily-bbbb', '2026-01-11T02:05:00.000Z'));
    await writeManifest([store], physical('20260110T120000Z-hourly-cccc', '2026-01-10T12:01:00.000Z'));
    // pgBackRest's repository shares the name's folder: it is never taken for a backup.
    await fs.mkdir(path.join(root, 'prod/pgbackrest/archive'), { recursive: true });
    await fs.writeFile(path.join(root, 'prod/pgbackrest/archive/x'), 'x');
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('takes the newest complete dump finished at or before the time', async () => {
    const found = await findBackupAsOf([store], 'prod', new Date('2026-01-11T01:00:00Z'), ORIGIN, 'postgres');
    expect(found.manifest.id).toBe('20260110T020000Z-daily-aaaa');
  });

  it('times a physical backup by where pgBackRest stopped it, not by when Backstop finished', async () => {
    const found = await findBackupAsOf([store], 'prod', new Date('2026-01-10T12:05:00Z'), ORIGIN, 'pgbackrest');
    expect(found.manifest.id).toBe('20260110T120000Z-hourly-cccc');
  });

  it('a time before the oldest backup is one line naming the input and the oldest usable moment', async () => {
    await expect(findBackupAsOf([store], 'prod', new Date('2026-01-01T00:00:00Z'), ORIGIN)).rejects.toThrow(
      'Input "to-time" is 2026-01-01T00:00:00.000Z, before the oldest complete backup of "prod" (consistent from ' +
        '2026-01-10T02:05:00.000Z): choose a time after that.',
    );
  });

  it('never lists the pgbackrest folder as a backup (so prune never deletes it as incomplete)', async () => {
    expect((await listBackups(store, 'prod')).map((listing) => listing.id)).not.toContain('pgbackrest');
  });
});

describe('to-time', () => {
  it('takes ISO 8601 with an offset, in any of its spellings', () => {
    expect(readTime('2026-01-18T04:25:00+01:00', ORIGIN)?.toISOString()).toBe('2026-01-18T03:25:00.000Z');
    expect(readTime('2026-01-18 04:25:00+0100', ORIGIN)?.toISOString()).toBe('2026-01-18T03:25:00.000Z');
    expect(readTime('2026-01-18T04:25+01', ORIGIN)?.toISOString()).toBe('2026-01-18T03:25:00.000Z');
    expect(readTime('2026-01-18T03:25:00.123Z', ORIGIN)?.toISOString()).toBe('2026-01-18T03:25:00.123Z');
    expect(readTime(undefined, ORIGIN)).toBeUndefined();
  });

  it('refuses a time without an offset, or no time at all, in one line', () => {
    expect(() => readTime('2026-01-18T03:25:00', ORIGIN)).toThrow(/^Input "to-time" is "2026-01-18T03:25:00", not an/);
    expect(() => readTime('yesterday', ORIGIN)).toThrow(/not an ISO 8601 time with offset/);
  });

  it('reaches PostgreSQL as UTC with an explicit offset', () => {
    expect(postgresTime(new Date('2026-01-18T03:25:00.5Z'))).toBe('2026-01-18 03:25:00.500+00');
  });
});

describe('the WAL archive', () => {
  it('finds a hole in a timeline, across a log file boundary too', () => {
    const segments = ['000000010000000000000003', '000000010000000000000004', '000000010000000000000006'];
    expect(walGaps(segments, '000000010000000000000003')).toEqual([
      { after: '000000010000000000000004', before: '000000010000000000000006', missing: 1 },
    ]);
    expect(walGaps(['0000000100000000000000FF', '000000010000000100000000'], null)).toEqual([]);
    expect(walGaps(['0000000100000000000000FE', '000000010000000100000000'], null)).toHaveLength(1);
  });

  it('ignores what lies before the oldest backup, and each timeline stands alone', () => {
    const segments = ['000000010000000000000001', '000000010000000000000005', '000000010000000000000006'];
    expect(walGaps(segments, '000000010000000000000005')).toEqual([]);
    expect(walGaps([...segments.slice(1), '000000020000000000000009'], null)).toEqual([]);
  });
});

describe('what the recovering server logged', () => {
  const reached = [
    'LOG:  restored log file "000000010000000000000003" from archive',
    'LOG:  restored log file "000000010000000000000004" from archive',
    'LOG:  restored log file "000000010000000000000004" from archive',
    'LOG:  recovery stopping before commit of transaction 737, time 2026-12-01 22:44:38.182997+00',
    'LOG:  last completed transaction was at log time 2026-12-01 22:44:35.790993+00',
  ].join('\n');
  const ended = [
    'LOG:  restored log file "000000010000000000000005" from archive',
    'FATAL:  recovery ended before configured recovery target was reached',
  ].join('\n');

  it('reads the stop line, the segments fetched, and "ended before"', () => {
    expect(readRecoveryLog(reached)).toEqual({
      segmentsRestored: 2,
      lastSegment: '000000010000000000000004',
      stopLine: 'recovery stopping before commit of transaction 737, time 2026-12-01 22:44:38.182997+00',
      endedBeforeTarget: false,
      fatal: null,
    });
    expect(readRecoveryLog(ended)).toMatchObject({ endedBeforeTarget: true, lastSegment: '000000010000000000000005' });
  });

  it('a recovery that stopped short, or went past the target, is a problem', () => {
    const target = new Date('2026-12-01T22:44:37Z');
    expect(targetProblems(target, readRecoveryLog(reached), '2026-12-01T22:44:35.790Z')).toEqual([]);
    expect(targetProblems(target, readRecoveryLog(ended), null)).toEqual([
      'Recovery ended before the target 2026-12-01T22:44:37.000Z.',
    ]);
    expect(targetProblems(target, readRecoveryLog(''), null)[0]).toMatch(/did not log where recovery stopped/);
    expect(targetProblems(target, readRecoveryLog(reached), '2026-12-01T22:44:38.000Z')).toEqual([
      'The last replayed transaction (2026-12-01T22:44:38.000Z) is after the target 2026-12-01T22:44:37.000Z.',
    ]);
  });
});

describe('pgBackRest configuration', () => {
  const set = (type: BackupSet['type'], stop: number): BackupSet =>
    ({ type, timestamp: { start: stop, stop } }) as BackupSet;
  const now = new Date('2026-01-18T00:00:00Z');
  const day = 86_400;

  it('auto: full when there is none, or the newest is 7 days old; else incremental', () => {
    expect(chooseType('auto', [], now).type).toBe('full');
    expect(chooseType('auto', [set('full', now.getTime() / 1000 - 8 * day)], now).type).toBe('full');
    expect(chooseType('auto', [set('full', now.getTime() / 1000 - 2 * day), set('incr', 0)], now).type).toBe('incr');
    expect(chooseType('diff', [], now).type).toBe('diff');
  });

  it('puts the repository under <prefix>/<name>/pgbackrest on S3, over HTTPS only, path-style for custom endpoints', () => {
    const s3 = { endpoint: 'https://minio.internal:9000', region: 'eu-west-1', forcePathStyle: true };
    const store = new S3Store('s3://acme-backups/postgres', s3);
    expect(repoOptions({ store, name: 'prod', s3, encrypted: true })).toEqual(
      expect.arrayContaining([
        ['repo1-type', 's3'],
        ['repo1-path', '/postgres/prod/pgbackrest'],
        ['repo1-s3-bucket', 'acme-backups'],
        ['repo1-s3-endpoint', 'minio.internal'],
        ['repo1-s3-port', '9000'],
        ['repo1-s3-uri-style', 'path'],
        ['repo1-cipher-type', 'aes-256-cbc'],
        ['compress-type', 'zst'],
      ]),
    );
    const plain = { ...s3, endpoint: 'http://127.0.0.1:9000' };
    expect(() =>
      repoOptions({ store: new S3Store('s3://b1/p', plain), name: 'x', s3: plain, encrypted: true }),
    ).toThrow(/plain HTTP: pgBackRest speaks only HTTPS to S3/);
  });

  it('archives through the stanza, once a minute on an idle server', () => {
    expect(postgresqlConfLines('/etc/pgbackrest/backstop-prod.conf', 'prod', 60)).toEqual([
      'archive_mode = on',
      "archive_command = 'pgbackrest --config=/etc/pgbackrest/backstop-prod.conf --stanza=prod archive-push %p'",
      'archive_timeout = 60',
      'wal_level = replica',
    ]);
  });
});

describe('retention of physical backup chains', () => {
  it('a kept incremental keeps its whole chain down to the full, and nothing else', async () => {
    const { decideRetention } = await import('../../actions/lib/manifest/retention.ts');
    const at = (day: number): Date => new Date(Date.UTC(2026, 0, day));
    const decision = decideRetention(
      [
        { id: 'full-1', createdAt: at(1), verified: false },
        { id: 'incr-2', createdAt: at(2), verified: false, dependsOn: 'full-1' },
        { id: 'incr-3', createdAt: at(3), verified: false, dependsOn: 'incr-2' },
        { id: 'full-0', createdAt: at(0), verified: false },
      ],
      { last: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0, quarterly: 0, yearly: 0 },
    );
    expect(decision.keep.get('incr-2')).toEqual(['base of incr-3']);
    expect(decision.keep.get('full-1')).toEqual(['base of incr-3']);
    expect(decision.remove).toEqual(['full-0']);
  });
});
