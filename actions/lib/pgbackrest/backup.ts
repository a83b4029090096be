import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { VerificationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { backupFolder, writeManifest } from '../manifest/catalog.ts';
import { newBackupId } from '../manifest/ids.ts';
import { MANIFEST_VERSION, type BackupKind, type Manifest, type ManifestFile } from '../manifest/schema.ts';
import type { DatabaseUrl } from '../pg/connection.ts';
import { chownTo, dataDirOwner } from '../pg/os-user.ts';
import type { S3Settings, Store } from '../storage/index.ts';
import { BACKSTOP_VERSION } from '../version.ts';
import { findPgbackrest } from './binary.ts';
import { pgbackrest, type Pgbackrest } from './command.ts';
import { type Options, pgOptions, renderConfig, repoDisplay, repoOptions } from './config.ts';
import { isoOf, stanzaInfo, type BackupSet, type StanzaInfo } from './info.ts';
import { checkSameCluster, readServerFacts, type ServerFacts } from './server.ts';
import { archivedSegments, describeGaps, walGaps } from './wal.ts';

export type PhysicalType = 'auto' | 'full' | 'diff' | 'incr';

export interface PhysicalBackupOptions {
  name: string;
  /** Every destination gets the manifest; the first holds the repository. */
  stores: Store[];
  s3: S3Settings;
  s3Credentials: Pgbackrest['s3Credentials'];
  pgData: string;
  pgDataOrigin: Origin;
  database: DatabaseUrl;
  passphrase?: string;
  type: PhysicalType;
  kind: BackupKind;
  log: (line: string) => void;
  now?: () => Date;
  /** Called once the backup has its id, before pgBackRest starts (the catalog's `running` row). */
  onStart?: (id: string, createdAt: Date) => void;
}

export interface PhysicalBackupResult {
  manifest: Manifest;
  manifestUrl: string;
  set: BackupSet;
  /** `auto`: why this type was chosen. */
  typeReason: string;
  verifySeconds: number;
}

/** auto: a full backup when none finished in the last 7 days (restores stay a short chain), else incremental. */
const FULL_EVERY_DAYS = 7;

export function chooseType(requested: PhysicalType, sets: BackupSet[], now: Date): { type: string; reason: string } {
  if (requested !== 'auto') return { type: requested, reason: `type ${requested}` };
  const fulls = sets.filter((set) => set.type === 'full' && !set.error);
  const newest = fulls.at(-1);
  if (!newest) return { type: 'full', reason: 'auto: no full backup yet' };
  const ageDays = (now.getTime() / 1000 - newest.timestamp.stop) / 86_400;
  if (ageDays >= FULL_EVERY_DAYS) {
    return { type: 'full', reason: `auto: the newest full backup is ${ageDays.toFixed(1)} days old` };
  }
  return { type: 'incr', reason: `auto: incremental on full ${newest.label} (${ageDays.toFixed(1)} days old)` };
}

/**
 * backup-physical: `pgbackrest backup`, then `pgbackrest verify`, then a Backstop manifest, written last, so the
 * catalog, retention, freshness and the report see the physical backup like any other. A run killed halfway leaves
 * no manifest (pgBackRest resumes or discards its partial set on the next run).
 */
export async function backupPhysical(options: PhysicalBackupOptions): Promise<PhysicalBackupResult> {
  const now = options.now ?? (() => new Date());
  const binary = await findPgbackrest();
  const user = dataDirOwner(options.pgData, options.pgDataOrigin);
  const facts = await readServerFacts(options.database);
  checkSameCluster(options.pgData, facts, options.pgDataOrigin, options.database);
  const repo = repoOptions({
    store: options.stores[0]!,
    name: options.name,
    s3: options.s3,
    encrypted: !!options.passphrase,
  });
  const staging = await stagingFolder();
  try {
    const tool: Pgbackrest = {
      binary: binary.path,
      configFile: await writeRunConfig(
        staging,
        options.name,
        [...repo, ...connectionOptions(options.pgData, facts)],
        user,
      ),
      stanza: options.name,
      user,
      passphrase: options.passphrase,
      s3Credentials: options.s3Credentials,
      repoDisplay: repoDisplay(repo),
      libpqPassword: options.database.password,
    };
    const before = await stanzaInfo(tool);
    const createdAt = now();
    const { type, reason } = chooseType(options.type, before.backup, createdAt);
    const id = newBackupId(options.kind, createdAt);
    options.onStart?.(id, createdAt);
    options.log(
      `Backup ${id}: pgbackrest backup --type=${type} of ${options.pgData} into ${tool.repoDisplay} (${reason})`,
    );
    await pgbackrest(tool, 'backup', [`--type=${type}`]);
    const after = await stanzaInfo(tool);
    const set = newSet(before, after);
    options.log(`Backup set ${set.label} done; pgbackrest verify of the repository`);
    const verifyStart = Date.now();
    await pgbackrest(tool, 'verify');
    await checkWalContinuity(tool, after, facts.walSegmentBytes);
    const verifySeconds = (Date.now() - verifyStart) / 1000;
    const info = infoFile(after, set);
    await Promise.all(
      options.stores.map((store) =>
        store.put(`${backupFolder(options.name, id)}/${info.path}`, Readable.from([info.body])),
      ),
    );
    const finishedAt = now();
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      id,
      name: options.name,
      engine: 'pgbackrest',
      kind: options.kind,
      createdAt: createdAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationSeconds: (finishedAt.getTime() - createdAt.getTime()) / 1000,
      source: {
        serverVersion: facts.version,
        serverVersionNum: facts.versionNum,
        host: options.database.host,
        database: options.database.database,
      },
      tool: { name: 'backstop', version: BACKSTOP_VERSION },
      encryption: null,
      files: [info.file],
      pgbackrest: {
        stanza: options.name,
        label: set.label,
        type: set.type,
        prior: set.prior,
        startedAt: isoOf(set.timestamp.start),
        stoppedAt: isoOf(set.timestamp.stop),
        lsn: set.lsn,
        wal: set.archive,
        sizeBytes: set.info.size,
        deltaBytes: set.info.delta,
        repoSizeBytes: set.info.repository.size,
        repoDeltaBytes: set.info.repository.delta,
        pgbackrestVersion: binary.version,
        repo: tool.repoDisplay,
        cipher: options.passphrase ? 'aes-256-cbc' : 'none',
        role: facts.user,
      },
    };
    await writeManifest(options.stores, manifest);
    return {
      manifest,
      manifestUrl: options.stores[0]!.urlOf(`${backupFolder(options.name, id)}/manifest.json`),
      set,
      typeReason: reason,
      verifySeconds,
    };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

/** verify's blind spot: a segment missing between the oldest backup and now (wal.ts). */
async function checkWalContinuity(tool: Pgbackrest, info: StanzaInfo, segmentBytes: number): Promise<void> {
  const oldest = info.backup.find((set) => !set.error)?.archive.start ?? null;
  const gaps = walGaps(await archivedSegments(tool, info), oldest, segmentBytes);
  if (gaps.length > 0)
    throw new VerificationError(`Verify of the repository ${tool.repoDisplay} failed: ${describeGaps(gaps)}.`);
}

/** The set this run made: the one the repository has now and did not have before. */
function newSet(before: StanzaInfo, after: StanzaInfo): BackupSet {
  const known = new Set(before.backup.map((set) => set.label));
  const made = after.backup.filter((set) => !known.has(set.label)).at(-1);
  if (!made) throw new Error('pgbackrest backup ended without a new backup set in the repository.');
  return made;
}

/** pgBackRest connects through the server's socket, as the database-url role (libpq's PGPASSWORD when it has one). */
export function connectionOptions(pgData: string, facts: ServerFacts): Options {
  return [
    ...pgOptions({ dataDir: pgData, port: facts.port, socketDir: facts.socketDir }),
    ['pg1-user', facts.user],
    ['start-fast', 'y'],
  ];
}

/** A folder the server's user can read a configuration from: the runner's temp folder may be private to us. */
export async function stagingFolder(): Promise<string> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-pgbackrest-'));
  await fs.chmod(folder, 0o755);
  return folder;
}

/** The configuration of one Backstop run: no secret in it (those go through the environment). */
export async function writeRunConfig(folder: string, stanza: string, options: Options, user: string): Promise<string> {
  const file = path.join(folder, 'pgbackrest.conf');
  await fs.writeFile(file, renderConfig(stanza, options, ['For one Backstop run; removed when it ends.']), {
    mode: 0o644,
  });
  chownTo(user, file);
  return file;
}

/** pgbackrest-info.json: the set as pgBackRest described it, and the stanza's WAL range then. */
function infoFile(info: StanzaInfo, set: BackupSet): { path: string; body: Buffer; file: ManifestFile } {
  const body = Buffer.from(
    `${JSON.stringify({ stanza: info.name, cipher: info.cipher, db: info.db, archive: info.archive, set }, null, 2)}\n`,
  );
  const sha256 = createHash('sha256').update(body).digest('hex');
  const file: ManifestFile = {
    path: 'pgbackrest-info.json',
    bytes: body.length,
    sha256,
    rawBytes: body.length,
    compression: 'none',
    encryption: 'none',
    contents: 'pgbackrest-info',
  };
  return { path: file.path, body, file };
}
