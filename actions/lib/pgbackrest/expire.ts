import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import type { Manifest } from '../manifest/schema.ts';
import { currentUser } from '../pg/os-user.ts';
import type { S3Settings, Store } from '../storage/index.ts';
import { stagingFolder, writeRunConfig } from './backup.ts';
import { findPgbackrest } from './binary.ts';
import { pgbackrest, type Pgbackrest } from './command.ts';
import { type Options, repoDisplay, repoOptions } from './config.ts';
import { stanzaInfo } from './info.ts';
import { spawnSync } from 'node:child_process';

export interface ExpireOptions {
  s3: S3Settings;
  s3Credentials: Pgbackrest['s3Credentials'];
  passphrase?: string;
  passphraseOrigin: Origin;
  log: (line: string) => void;
}

/**
 * prune-backups for a physical backup: its set leaves pgBackRest's repository (`pgbackrest expire --set`, which also
 * drops the WAL no remaining backup needs) before its Backstop folder goes. Retention already kept every base a kept
 * backup needs, so whatever expire takes with the set (its dependents) is going too. A set no longer in the
 * repository (a prune cut short after its expire) is nothing to do.
 */
export function expireBeforeDelete(options: ExpireOptions) {
  return async (store: Store, manifest: Manifest): Promise<void> => {
    const record = manifest.pgbackrest;
    if (!record) return;
    const repo = repoOptions({ store, name: manifest.name, s3: options.s3, encrypted: record.cipher !== 'none' });
    // Only the destination that holds the repository expires it; the others hold the manifest alone.
    if (repoDisplay(repo) !== record.repo) return;
    if (record.cipher !== 'none' && options.passphrase === undefined) {
      throw new ConfigurationError(
        `${options.passphraseOrigin.title} is empty: ${manifest.id} is a pgBackRest backup in an encrypted ` +
          'repository, and expiring it needs the passphrase archive-config was run with.',
      );
    }
    const binary = await findPgbackrest();
    const user = repoOwner(repo);
    const staging = await stagingFolder();
    try {
      const tool: Pgbackrest = {
        binary: binary.path,
        configFile: await writeRunConfig(staging, record.stanza, repo, user),
        stanza: record.stanza,
        user,
        passphrase: record.cipher === 'none' ? undefined : options.passphrase,
        s3Credentials: options.s3Credentials,
        repoDisplay: record.repo,
      };
      const info = await stanzaInfo(tool);
      if (!info.backup.some((set) => set.label === record.label)) return;
      await pgbackrest(tool, 'expire', [`--set=${record.label}`]);
      options.log(`pgbackrest expire --set=${record.label}: removed from ${record.repo} (and the WAL nothing needs)`);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  };
}

/** A local repository is pgBackRest's to write as its owner (the server's user); S3 needs no particular user. */
function repoOwner(repo: Options): string {
  const repoPath = repo.find(([name]) => name === 'repo1-path')?.[1];
  if (repo.find(([name]) => name === 'repo1-type')?.[1] !== 'posix' || !repoPath) return currentUser();
  const uid = statSync(repoPath).uid;
  return spawnSync('id', ['-nu', String(uid)], { encoding: 'utf8' }).stdout.trim() || currentUser();
}
