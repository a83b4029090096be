import { ConfigurationError, VerificationError } from '../../lib/action/errors.ts';
import { findBackup, findBackupAsOf, type FoundBackup } from '../../lib/manifest/catalog.ts';
import type { DrillRecordBase } from '../../lib/manifest/drills.ts';
import { consistentAt, type Manifest } from '../../lib/manifest/schema.ts';
import { drillFiles } from '../../lib/files/restore.ts';
import { drillPitr } from '../../lib/pgbackrest/drill.ts';
import { parseDatabaseUrl } from '../../lib/pg/connection.ts';
import { drillPostgres } from '../../lib/postgres/drill.ts';
import { drillVerdict } from '../../lib/postgres/restore-plan.ts';
import { parseQdrantUrl, type QdrantNode } from '../../lib/qdrant/client.ts';
import { drillQdrant, parseRestoreAs } from '../../lib/qdrant/recover.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { openStore, StorageUrlError, type Store } from '../../lib/storage/index.ts';
import { readInputs, type DrillInputs } from './inputs.ts';
import { filesDrillSummary } from './files-summary.ts';
import { pitrDrillSummary, planSummary, postgresDrillSummary, qdrantDrillSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type RestoreDrillOutput =
  | 'backup-id'
  | 'restore-seconds'
  | 'engine'
  | 'server-version'
  | 'server-major'
  | 'extensions'
  | 'timescaledb-version'
  | 'provider'
  | 'pg-dump-version'
  | 'verified'
  | 'recovered-to';

/** restore-drill: find the backup → restore and verify with its engine → outputs, summary, failure unless verified. */
export async function run(runtime: Runtime<RestoreDrillOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  const found = await chooseBackup(runtime, inputs);
  const { manifest } = found;
  describeBackup(runtime, manifest);
  if (inputs.planOnly) {
    runtime.info(
      `Planned ${manifest.name}/${manifest.id} (${manifest.engine} ${manifest.source.serverVersion}) from ` +
        `${found.store.displayUrl}; nothing downloaded`,
    );
    await runtime.writeSummary(planSummary(manifest, found.store.displayUrl));
    return;
  }
  runtime.info(`Drilling ${manifest.name}/${manifest.id} (${manifest.engine}) from ${found.store.displayUrl}`);
  const { record, summary } = await mirroredDrill(inputs, found, () =>
    manifest.engine === 'qdrant'
      ? drillQdrantBackup(runtime, inputs, found)
      : manifest.engine === 'pgbackrest'
        ? drillPhysicalBackup(runtime, inputs, found)
        : manifest.engine === 'files'
          ? drillFilesBackup(runtime, inputs, found)
          : drillPostgresBackup(runtime, inputs, found),
  );
  runtime.setOutput('restore-seconds', record.restoreSeconds.toFixed(1));
  runtime.setOutput('verified', record.verified);
  await runtime.writeSummary(summary);
  if (!record.verified)
    throw new VerificationError(`Drill of ${record.backupId} failed: ${record.problems.join(' | ')}`);
  runtime.info(`Drill of ${record.backupId} ${drillVerdict(record)} in ${record.restoreSeconds.toFixed(1)} s`);
}

/**
 * The backup to drill: the one pinned by backup-id, else with to-time the newest that holds the database as of that
 * time (a pgBackRest one when the name has any: it recovers to the very second), else the newest complete one.
 */
async function chooseBackup(runtime: Runtime, inputs: DrillInputs): Promise<FoundBackup> {
  const { toTime } = inputs;
  if (inputs.backupId || !toTime) return findBackup(inputs.stores, inputs.name, inputs.backupId);
  const found = await findBackupAsOf(inputs.stores, inputs.name, toTime, inputs.toTimeOrigin, 'pgbackrest').catch(
    (error: unknown) => {
      if (error instanceof ConfigurationError) throw error;
      return findBackupAsOf(inputs.stores, inputs.name, toTime, inputs.toTimeOrigin);
    },
  );
  if (found.manifest.engine !== 'pgbackrest') {
    // A dump holds its snapshot's moment, nothing after: what lies between it and to-time is what it cannot give.
    const hours = (toTime.getTime() - Date.parse(consistentAt(found.manifest))) / 3_600_000;
    runtime.notice(
      `to-time ${toTime.toISOString()}: the newest complete backup at or before it is ${found.manifest.id}, ` +
        `${hours.toFixed(1)} h before (a logical backup restores its own moment: that is the achievable RPO).`,
    );
  }
  return found;
}

/**
 * The drill with its verdict mirrored into the catalog: the record's, or the error of a drill that ended without one.
 * A dry run restores nothing, so it says nothing of recovery: not mirrored.
 */
async function mirroredDrill(inputs: DrillInputs, found: FoundBackup, drill: () => Promise<Drilled>): Promise<Drilled> {
  const startedAt = new Date();
  const { catalog } = inputs;
  try {
    const drilled = await drill();
    if (!inputs.dryRun) catalog.drillRecorded(found.manifest, inputs.stores, drilled.record);
    return drilled;
  } catch (error) {
    if (!inputs.dryRun) catalog.drillFailed(found.manifest, inputs.stores, startedAt, error);
    throw error;
  } finally {
    await catalog.close();
  }
}

/**
 * What a workflow needs to know before restoring (e.g. which service container image matches the backup), set as soon
 * as the backup is chosen, so a dry run can plan the real drill.
 */
function describeBackup(runtime: Runtime, manifest: Manifest): void {
  runtime.setOutput('backup-id', manifest.id);
  runtime.setOutput('engine', manifest.engine);
  runtime.setOutput('server-version', manifest.source.serverVersion);
  const versionNum = manifest.source.serverVersionNum;
  runtime.setOutput('server-major', versionNum ? String(Math.floor(versionNum / 10000)) : '');
  const extensions = manifest.source.extensions ?? [];
  runtime.setOutput('extensions', extensions.map((extension) => extension.name).join(','));
  // A TimescaleDB dump restores only into the same extension version: the drill's image is chosen by it.
  const timescale = extensions.find((extension) => extension.name === 'timescaledb');
  runtime.setOutput('timescaledb-version', timescale?.version ?? '');
  runtime.setOutput('provider', providerOf(manifest));
  runtime.setOutput('pg-dump-version', manifest.tool.pgDump ?? '');
}

/** The managed provider the source ran on (e.g. supabase), recorded by newer dumps; empty when unknown or none. */
function providerOf(manifest: Manifest): string {
  const provider: unknown = (manifest.source as { provider?: unknown }).provider;
  return typeof provider === 'string' ? provider : '';
}

interface Drilled {
  record: DrillRecordBase;
  summary: string;
}

async function drillPostgresBackup(runtime: Runtime, inputs: DrillInputs, found: FoundBackup): Promise<Drilled> {
  if (inputs.restoreAs.length > 0)
    throw new ConfigurationError('Input "restore-as" applies to Qdrant backups only; this backup is PostgreSQL.');
  if (inputs.verifySql) {
    throw new ConfigurationError(
      'Input "verify-sql" applies to pgBackRest backups; this backup is a dump, checked by its row counts.',
    );
  }
  const record = await drillPostgres({
    ...inputs,
    found,
    target: inputs.targetUrl ? parseDatabaseUrl(inputs.targetUrl, inputs.targetOrigin) : undefined,
    targetOrigin: inputs.targetOrigin,
    tempDir: runtime.context.tempDir,
    log: (line) => runtime.info(line),
  });
  return { record, summary: postgresDrillSummary(record, found.manifest, found.store.displayUrl) };
}

async function drillQdrantBackup(runtime: Runtime, inputs: DrillInputs, found: FoundBackup): Promise<Drilled> {
  const collections = (found.manifest.collections ?? []).map((collection) => collection.name);
  const record = await drillQdrant({
    ...inputs,
    found,
    target: inputs.targetUrl ? qdrantTarget(inputs, inputs.targetUrl) : undefined,
    targetOrigin: inputs.targetOrigin,
    restoreAsOrigin: inputs.restoreAsOrigin,
    restoreAs:
      inputs.restoreAs.length > 0 ? parseRestoreAs(inputs.restoreAs, collections, inputs.restoreAsOrigin) : undefined,
    log: (line) => runtime.info(line),
    warn: (line) => runtime.warning(line),
  });
  return { record, summary: qdrantDrillSummary(record, found.manifest, found.store.displayUrl) };
}

async function drillPhysicalBackup(runtime: Runtime, inputs: DrillInputs, found: FoundBackup): Promise<Drilled> {
  if (inputs.targetUrl) {
    throw new ConfigurationError(
      `${inputs.targetOrigin.title} is set, but a pgBackRest backup is drilled into a throwaway cluster of its own ` +
        '(a physical restore replaces a whole data directory): leave it empty.',
    );
  }
  const record = await drillPitr({
    ...inputs,
    found,
    s3: runtime.context.s3,
    s3Credentials: runtime.context.awsCredentials,
    log: (line) => runtime.info(line),
  });
  runtime.setOutput('recovered-to', record.recoveredTo ?? '');
  return { record, summary: pitrDrillSummary(record, found.manifest, found.store.displayUrl) };
}

/** Objects streamed at once by a files restore, as backup-files' default concurrency. */
const FILES_CONCURRENCY = 8;

async function drillFilesBackup(runtime: Runtime, inputs: DrillInputs, found: FoundBackup): Promise<Drilled> {
  const record = await drillFiles({
    ...inputs,
    found,
    target: inputs.targetUrl ? filesTarget(runtime, inputs, inputs.targetUrl) : undefined,
    concurrency: FILES_CONCURRENCY,
    log: (line) => runtime.info(line),
  });
  return { record, summary: filesDrillSummary(record, found.manifest, found.store.displayUrl) };
}

/** A files backup restores into an s3:// bucket/prefix or a folder, opened as any destination is. */
function filesTarget(runtime: Runtime, inputs: DrillInputs, url: string): Store {
  try {
    return openStore(url, { ...runtime.context.s3, timeouts: inputs.timeouts });
  } catch (error) {
    if (!(error instanceof StorageUrlError)) throw error;
    throw new ConfigurationError(
      `${inputs.targetOrigin.title} has ${error.message} A files backup restores into s3://bucket/prefix or a folder.`,
    );
  }
}

function qdrantTarget(inputs: DrillInputs, url: string): QdrantNode {
  return {
    url: parseQdrantUrl(url, inputs.targetOrigin, inputs.qdrantKeyOrigin),
    apiKey: inputs.qdrantApiKey,
    keyOrigin: inputs.qdrantKeyOrigin,
    timeouts: inputs.timeouts,
  };
}
