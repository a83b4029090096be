import type { Identities } from '../crypto/age.ts';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FoundBackup } from '../manifest/catalog.ts';
import { backupFolder } from '../manifest/catalog.ts';
import type { ManifestFile } from '../manifest/schema.ts';
import { ChecksumError, fetchFile } from '../pipeline/fetch.ts';
import { ConfigurationError } from '../action/errors.ts';
import { onInterrupt } from '../interrupt.ts';
import { startTool } from '../process.ts';
import { libpqEnvironment, type DatabaseUrl } from '../pg/connection.ts';
import { findClientTool, type BinDirChoice, parseToolVersion, type PgTool } from '../pg/tools.ts';
import { pgRestoreArgv } from './argv.ts';

export interface RestoreOptions {
  found: FoundBackup;
  identities: Identities;
  jobs: number;
  pgBin: BinDirChoice;
  tempDir: string;
  log: (line: string) => void;
}

/** pg_restore must read the archive version its pg_dump wrote: at least that major. */
export async function findPgRestore(options: RestoreOptions): Promise<PgTool> {
  const version = options.found.manifest.tool.pgDump ?? '0';
  const major = parseToolVersion(`(PostgreSQL) ${version}`)?.major ?? 0;
  return findClientTool(
    'pg_restore',
    { version, major },
    options.pgBin,
    `the pg_dump ${version} that wrote this backup`,
  );
}

/**
 * Restores a PostgreSQL backup into an (empty) database. The custom format streams straight from storage into
 * pg_restore in one transaction, so a failure leaves nothing behind; the directory format is fetched to the temp
 * folder first (pg_restore --jobs needs files it can seek).
 */
export async function restoreInto(target: DatabaseUrl, options: RestoreOptions): Promise<void> {
  const pgRestore = await findPgRestore(options);
  const env = libpqEnvironment(target);
  if (options.found.manifest.format === 'directory') {
    await withFetchedDirectory(options, async (dir) => {
      const archive = { format: 'directory', path: dir, jobs: options.jobs } as const;
      const argv = pgRestoreArgv({ mode: 'restore', database: target, archive });
      const tool = startTool(pgRestore.path, argv, { env, label: 'pg_restore' });
      await tool.exited;
    });
    return;
  }
  const argv = pgRestoreArgv({ mode: 'restore', database: target, archive: { format: 'custom' } });
  const tool = startTool(pgRestore.path, argv, {
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
    label: 'pg_restore',
  });
  await streamInto(options, onlyFile(options), tool.child.stdin!, tool.exited);
}

/** Dry run: every byte downloaded, checksummed and decrypted; pg_restore --list reads the table of contents. */
export async function listArchive(options: RestoreOptions): Promise<string[]> {
  const pgRestore = await findPgRestore(options);
  if (options.found.manifest.format === 'directory') {
    let listing = '';
    await withFetchedDirectory(options, async (dir) => {
      const argv = pgRestoreArgv({ mode: 'list', archive: { format: 'directory', path: dir } });
      const tool = startTool(pgRestore.path, argv, { label: 'pg_restore' });
      tool.child.stdout!.setEncoding('utf8').on('data', (text: string) => (listing += text));
      await tool.exited;
    });
    return tocEntries(listing);
  }
  const argv = pgRestoreArgv({ mode: 'list', archive: { format: 'custom' } });
  const tool = startTool(pgRestore.path, argv, { stdio: ['pipe', 'pipe', 'pipe'], label: 'pg_restore' });
  let listing = '';
  tool.child.stdout!.setEncoding('utf8').on('data', (text: string) => (listing += text));
  // pg_restore --list stops reading after the table of contents; the rest is still downloaded and verified.
  await streamInto(options, onlyFile(options), new ForwardUntilClosed(tool.child.stdin!), tool.exited);
  return tocEntries(listing);
}

function tocEntries(listing: string): string[] {
  return listing.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';'));
}

function onlyFile(options: RestoreOptions): ManifestFile {
  const file = options.found.manifest.files[0];
  if (!file || options.found.manifest.files.length !== 1) {
    throw new Error(
      `Backup ${options.found.manifest.id} should hold one custom-format file; the manifest lists ` +
        `${options.found.manifest.files.length}.`,
    );
  }
  return file;
}

/**
 * Streams one stored file into a tool's stdin and waits for both. Which failure to report: a damaged file or a
 * wrong key first (they explain everything after), then the tool's own error, then the stream's.
 */
async function streamInto(
  options: RestoreOptions,
  file: ManifestFile,
  sink: Writable,
  toolExited: Promise<void>,
): Promise<void> {
  const { manifest, store } = options.found;
  const fetching = fetchFile(store, backupFolder(manifest.name, manifest.id), file, sink, {
    identities: options.identities,
    log: options.log,
  });
  const [fetched, exited] = await Promise.allSettled([fetching, toolExited]);
  if (
    fetched.status === 'rejected' &&
    (fetched.reason instanceof ChecksumError || fetched.reason instanceof ConfigurationError)
  ) {
    throw fetched.reason;
  }
  if (exited.status === 'rejected') throw exited.reason;
  if (fetched.status === 'rejected') throw fetched.reason;
}

async function withFetchedDirectory(options: RestoreOptions, use: (dir: string) => Promise<void>): Promise<void> {
  const { manifest, store } = options.found;
  const root = await fs.mkdtemp(path.join(options.tempDir, 'backstop-restore-'));
  const forget = onInterrupt('removed the fetched dump files', () => fs.rm(root, { recursive: true, force: true }));
  try {
    const dir = path.join(root, 'dump');
    await fs.mkdir(dir);
    for (const file of manifest.files) {
      const name = path
        .basename(file.path)
        .replace(/\.age$/, '')
        .replace(/\.zst$/, '');
      await fetchFile(store, backupFolder(manifest.name, manifest.id), file, createWriteStream(path.join(dir, name)), {
        identities: options.identities,
        log: options.log,
      });
    }
    await use(dir);
  } finally {
    forget();
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** Forwards to a child's stdin until the child stops reading, then swallows the rest. */
class ForwardUntilClosed extends Writable {
  private targetClosed = false;
  private readonly target: Writable;

  constructor(target: Writable) {
    super({ highWaterMark: 1 << 20 });
    this.target = target;
    target.on('error', () => (this.targetClosed = true));
    target.on('close', () => (this.targetClosed = true));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.targetClosed || this.target.write(chunk)) {
      callback();
      return;
    }
    const done = (): void => {
      this.target.off('drain', done);
      this.target.off('close', done);
      callback();
    };
    this.target.once('drain', done);
    this.target.once('close', done);
  }

  override _final(callback: () => void): void {
    if (!this.targetClosed) this.target.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.target.destroy();
    callback(error);
  }
}
