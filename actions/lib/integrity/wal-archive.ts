import type pg from 'pg';
import { listBackups } from '../manifest/catalog.ts';
import { repositoryNewestWal, type RepositoryAccess } from '../pgbackrest/repository.ts';
import type { Store } from '../storage/index.ts';
import { fail, pass, warn, type CheckResult } from './check.ts';
import type { BackupExpectation } from './config.ts';

interface ArchiverRow {
  mode: string;
  archived_count: string;
  last_archived_wal: string | null;
  last_archived_time: Date | null;
  failed_count: string;
  last_failed_wal: string | null;
  last_failed_time: Date | null;
  now: Date;
}

/**
 * The PITR RPO, from the server itself (pg_stat_archiver of database-url): how old the newest archived WAL segment
 * is, and whether archive_command is failing now (its last failure is newer than its last success: PostgreSQL keeps
 * the segment and retries, and pg_wal grows until the disk is full). On an idle server nothing is archived (no WAL
 * is written, archive_timeout switches only a segment that has some): set max-wal-age-minutes above the quietest
 * stretch, or keep a heartbeat write (e.g. a cron UPDATE every few minutes).
 */
export async function checkWalArchive(db: pg.Client, expectation: BackupExpectation): Promise<CheckResult> {
  const name = `wal archive: ${expectation.name}`;
  const max = expectation.maxWalAgeMinutes!;
  const row = (
    await db.query<ArchiverRow>(
      `SELECT current_setting('archive_mode') AS mode, archived_count, last_archived_wal, last_archived_time,
              failed_count, last_failed_wal, last_failed_time, now() AS now FROM pg_stat_archiver`,
    )
  ).rows[0]!;
  const details = {
    archivedCount: Number(row.archived_count),
    failedCount: Number(row.failed_count),
    lastArchivedWal: row.last_archived_wal,
    lastArchivedTime: row.last_archived_time?.toISOString() ?? null,
    lastFailedWal: row.last_failed_wal,
    lastFailedTime: row.last_failed_time?.toISOString() ?? null,
  };
  if (row.mode === 'off') {
    return fail(name, 'archive_mode is off on this server: no WAL is archived (run backstop archive-config)', details);
  }
  const failing =
    row.last_failed_time !== null &&
    (row.last_archived_time === null || row.last_failed_time.getTime() > row.last_archived_time.getTime());
  if (failing) {
    return fail(
      name,
      `archive_command is failing: ${details.failedCount} failure(s), the last on ${row.last_failed_wal} at ` +
        `${details.lastFailedTime}; the server log says why (pgBackRest's archive-push error)`,
      details,
    );
  }
  if (!row.last_archived_time) return fail(name, 'no WAL segment has been archived yet', details);
  const ageMinutes = (row.now.getTime() - row.last_archived_time.getTime()) / 60_000;
  const newest = `newest archived WAL ${row.last_archived_wal}, ${ageMinutes.toFixed(1)} min old`;
  if (ageMinutes > max) {
    return fail(name, `${newest} (max-wal-age-minutes ${max}): check archive_command and archive_timeout`, {
      ...details,
      ageMinutes,
    });
  }
  if (details.failedCount > 0) {
    return warn(
      name,
      `${newest}; ${details.failedCount} earlier archive_command failure(s), the last at ${details.lastFailedTime}`,
      { ...details, ageMinutes },
    );
  }
  return pass(name, `${newest}; ${details.archivedCount} archived, no failure`, { ...details, ageMinutes });
}

/**
 * The same RPO from the other end: the newest segment that reached the pgBackRest repository of the name's newest
 * physical backup, read from the storage (no connection to the database host needed, so it runs on GitHub too).
 * pg_stat_archiver counts what archive_command returned 0 for; this is what a recovery can actually replay. A name
 * with no physical backup has no repository to read: nothing to report.
 */
export async function checkWalRepository(
  stores: Store[],
  expectation: BackupExpectation,
  access: RepositoryAccess,
  now = new Date(),
): Promise<CheckResult[]> {
  const name = `wal repository: ${expectation.name}`;
  const max = expectation.maxWalAgeMinutes!;
  for (const store of stores) {
    const physical = (await listBackups(store, expectation.name)).find((b) => b.manifest?.engine === 'pgbackrest');
    if (!physical?.manifest) continue;
    const wal = await repositoryNewestWal(store, physical.manifest, access);
    if (!wal.holds) continue;
    const repo = physical.manifest.pgbackrest!.repo;
    if (!wal.newest) return [fail(name, `no WAL segment in ${repo} yet: check archive_command (pgbackrest check)`)];
    const ageMinutes = (now.getTime() - Date.parse(wal.newest.archivedAt)) / 60_000;
    const details = { repository: repo, ...wal.newest, ageMinutes };
    const finding = `newest WAL in ${repo}: ${wal.newest.segment}, ${ageMinutes.toFixed(1)} min old`;
    return [
      ageMinutes > max
        ? fail(name, `${finding} (max-wal-age-minutes ${max}): check archive_command and archive_timeout`, details)
        : pass(name, finding, details),
    ];
  }
  return [];
}
