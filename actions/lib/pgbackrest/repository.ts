import fs from 'node:fs/promises';
import type { Manifest } from '../manifest/schema.ts';
import { currentUser } from '../pg/os-user.ts';
import type { S3Settings, Store } from '../storage/index.ts';
import { stagingFolder, writeRunConfig } from './backup.ts';
import { findPgbackrest } from './binary.ts';
import type { Pgbackrest } from './command.ts';
import { repoDisplay, repoOptions } from './config.ts';
import { newestArchivedWal, type NewestWal } from './wal.ts';

export interface RepositoryAccess {
  s3: S3Settings;
  s3Credentials: Pgbackrest['s3Credentials'];
}

/** Whether a destination holds the backup's repository, and the newest segment in it (none archived yet: undefined). */
export type RepositoryWal = { holds: false } | { holds: true; newest: NewestWal | undefined };

/**
 * The newest archived WAL of the repository a physical backup was made into, read from wherever Backstop runs
 * (a GitHub runner that cannot reach the database host).
 * Listing needs no passphrase, so the configuration says the repository is not encrypted: nothing is decrypted.
 */
export async function repositoryNewestWal(
  store: Store,
  manifest: Manifest,
  access: RepositoryAccess,
): Promise<RepositoryWal> {
  const record = manifest.pgbackrest;
  if (!record) return { holds: false };
  const repo = repoOptions({ store, name: manifest.name, s3: access.s3, encrypted: false });
  if (repoDisplay(repo) !== record.repo) return { holds: false };
  const binary = await findPgbackrest();
  const staging = await stagingFolder();
  try {
    const user = currentUser();
    const tool: Pgbackrest = {
      binary: binary.path,
      configFile: await writeRunConfig(staging, record.stanza, repo, user),
      stanza: record.stanza,
      user,
      s3Credentials: access.s3Credentials,
      repoDisplay: record.repo,
    };
    return { holds: true, newest: await newestArchivedWal(tool) };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
