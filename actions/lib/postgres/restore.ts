import type { Identities } from '../crypto/age.ts';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FoundBackup } from '../manifest/catalog.ts';
import { backupFolder } from '../manifest/catalog.ts';
import type { Manifest, ManifestFile } from '../manifest/schema.ts';
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

/** What to restore of the archive. */
export interface RestoreSelection {
  /** Owners and grants as in the source: the backup's roles must exist on the target. */
  privileges: boolean;
  /** A pg_restore --list file with the entries the target cannot take commented out. */
  useList?: string;
}

/**
 * Restores a PostgreSQL backup into an (empty) database. The custom format streams straight from storage into
 * pg_restore in one transaction, so a failure leaves nothing behind; the directory format is fetched to the temp
 * folder first (pg_restore --jobs needs files it can seek).
 */
export async function restoreInto(
  target: DatabaseUrl,
  options: RestoreOptions,
  selection: RestoreSelection = { privileges: false },
): Promise<void> {
  const pgRestore = await findPgRestore(options);
  const env = libpqEnvironment(target);
  if (options.found.manifest.format === 'directory') {
    await withFetchedDirectory(options, async (dir) => {
      const archive = { format: 'directory', path: dir, jobs: options.jobs } as const;
      const argv = pgRestoreArgv({ mode: 'restore', database: target, archive, ...selection });
      const tool = startTool(pgRestore.path, argv, { env, label: 'pg_restore' });
      await tool.exited;
    });
    return;
  }
  const argv = pgRestoreArgv({ mode: 'restore', database: target, archive: { format: 'custom' }, ...selection });
  const tool = startTool(pgRestore.path, argv, {
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
    label: 'pg_restore',
  });
  await streamInto(options, onlyFile(options), tool.child.stdin!, tool.exited);
}

/** Dry run: every byte downloaded, checksummed and decrypted; pg_restore --list reads the table of contents. */
export async function listArchive(options: RestoreOptions): Promise<string[]> {
  return tocEntries(await readListing(options, false));
}

/**
 * The table of contents as pg_restore --list --verbose prints it, each entry followed by what it depends on: to
 * choose what a target that lacks an extension can take. Every byte is fetched and verified, as in a dry run.
 */
export function readTocListing(options: RestoreOptions): Promise<string> {
  return readListing(options, true);
}

async function readListing(options: RestoreOptions, dependencies: boolean): Promise<string> {
  const pgRestore = await findPgRestore(options);
  if (options.found.manifest.format === 'directory') {
    let listing = '';
    await withFetchedDirectory(options, async (dir) => {
      const argv = pgRestoreArgv({ mode: 'list', archive: { format: 'directory', path: dir }, dependencies });
      const tool = startTool(pgRestore.path, argv, { label: 'pg_restore' });
      tool.child.stdout!.setEncoding('utf8').on('data', (text: string) => (listing += text));
      await tool.exited;
    });
    return listing;
  }
  const argv = pgRestoreArgv({ mode: 'list', archive: { format: 'custom' }, dependencies });
  const tool = startTool(pgRestore.path, argv, { stdio: ['pipe', 'pipe', 'pipe'], label: 'pg_restore' });
  let listing = '';
  tool.child.stdout!.setEncoding('utf8').on('data', (text: string) => (listing += text));
  // pg_restore --list stops reading after the table of contents; the rest is still downloaded and verified.
  await streamInto(options, onlyFile(options), new ForwardUntilClosed(tool.child.stdin!), tool.exited);
  return listing;
}

/** The backup's roles file (pg_dumpall --roles-only), decrypted; undefined for backups made before it existed. */
export async function fetchRolesFile(options: RestoreOptions): Promise<string | undefined> {
  const { manifest, store } = options.found;
  const file = manifest.files.find((candidate) => candidate.contents === 'roles');
  if (!file) return undefined;
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await fetchFile(store, backupFolder(manifest.name, manifest.id), file, sink, {
    identities: options.identities,
    log: options.log,
  });
  return Buffer.concat(chunks).toString('utf8');
}

/** The pg_dump archive's files: those marked `database`, or every file of a backup made before files were marked. */
export function databaseFiles(manifest: Manifest): ManifestFile[] {
  return manifest.files.filter((file) => file.contents === undefined || file.contents === 'database');
}

function tocEntries(listing: string): string[] {
  return listing.split('\n').filter((line) => line.trim() !== '' && !line.startsWith(';'));
}

function onlyFile(options: RestoreOptions): ManifestFile {
  const files = databaseFiles(options.found.manifest);
  if (files.length !== 1) {
    throw new Error(
      `Backup ${options.found.manifest.id} should hold one custom-format dump file; the manifest lists ` +
        `${files.length}.`,
    );
  }
  return files[0]!;
}

/** Errors of writing into a tool that has already gone: the tool's own failure says why. */
const SINK_ECHOES = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

function isSinkEcho(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SINK_ECHOES.has(code);
}

/**
 * Streams one stored file into a tool's stdin and waits for both. Which failure to report: a damaged file or a
 * wrong key first (they explain everything after), then a stream that failed on its own (the storage went silent
 * or away: the tool then only saw its input end early), then the tool's own error, then the stream's echo of it.
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
  if (fetched.status === 'rejected' && exited.status === 'rejected' && !isSinkEcho(fetched.reason)) {
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
    for (const file of databaseFiles(manifest)) {
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
