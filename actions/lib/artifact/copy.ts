import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ENV, type RunContext } from '../action/env.ts';
import { errorMessage } from '../action/errors.ts';
import { MANIFEST_FILE, type Manifest } from '../manifest/schema.ts';
import { formatBytes } from '../format.ts';
import type { Runtime } from '../action/runtime.ts';
import type { LocalStore } from '../storage/local.ts';

/**
 * A third copy of a small backup (3-2-1): the backup's files, exactly as they sit in a local destination, uploaded
 * as one GitHub Actions artifact once the backup is complete. It is a convenience copy: whatever happens here, the
 * backup already stands in every storage-url destination, so nothing here fails the action.
 */
export interface ArtifactCopyOptions {
  retentionDays: number;
  /** Backups bigger than this (the sum of their files) are not copied: artifacts are for small backups. */
  maxBytes: number;
  /** The artifact-max-mb input as given, for messages. */
  maxMb: number;
  /** The local destination whose folder is zipped. */
  store: LocalStore;
}

export type ArtifactCopyResult =
  | { status: 'uploaded'; artifactName: string; id: number; bytes: number; retentionDays: number }
  /** `notice`: by design (too big for an artifact); `warning`: it was asked for and could not be attempted. */
  | { status: 'skipped'; artifactName: string; reason: string; level: 'notice' | 'warning' }
  | { status: 'failed'; artifactName: string; reason: string };

/** What we use of @actions/artifact's DefaultArtifactClient. */
export interface ArtifactUploader {
  uploadArtifact(
    name: string,
    files: string[],
    rootDirectory: string,
    options: { retentionDays: number; compressionLevel: number },
  ): Promise<{ id?: number; size?: number }>;
}

function artifactNameOf(manifest: Pick<Manifest, 'name' | 'id'>): string {
  return `backstop-${manifest.name}-${manifest.id}`;
}

/** Uploads the backup's data files and manifest.json as one artifact. Never throws: the result says what happened. */
async function copyToArtifact(
  options: ArtifactCopyOptions,
  manifest: Manifest,
  context: RunContext,
): Promise<ArtifactCopyResult> {
  const artifactName = artifactNameOf(manifest);
  const notOnRunner = whyNotOnRunner(context);
  if (notOnRunner) return { status: 'skipped', artifactName, reason: notOnRunner, level: 'warning' };

  const folder = fileURLToPath(options.store.urlOf(`${manifest.name}/${manifest.id}`));
  const files = backupFiles(manifest).map((file) =>
    fileURLToPath(options.store.urlOf(`${manifest.name}/${manifest.id}/${file}`)),
  );
  let bytes: number;
  try {
    bytes = await totalBytes(files);
  } catch (error) {
    return {
      status: 'failed',
      artifactName,
      reason: `the backup's files are not readable in ${options.store.displayUrl} (${errorMessage(error)})`,
    };
  }
  if (bytes > options.maxBytes) {
    return {
      status: 'skipped',
      artifactName,
      reason: `the backup is ${formatBytes(bytes)}, over artifact-max-mb (${options.maxMb} MiB)`,
      level: 'notice',
    };
  }

  try {
    // Level 0 stores the files: they are zstd + age already, deflating them again only burns CPU.
    const client = await loadArtifactClient();
    const uploaded = await client.uploadArtifact(artifactName, files, folder, {
      retentionDays: options.retentionDays,
      compressionLevel: 0,
    });
    if (uploaded.id === undefined)
      return { status: 'failed', artifactName, reason: 'the artifact service returned no artifact id' };
    return {
      status: 'uploaded',
      artifactName,
      id: uploaded.id,
      bytes: uploaded.size ?? bytes,
      retentionDays: options.retentionDays,
    };
  } catch (error) {
    return { status: 'failed', artifactName, reason: oneLineWithoutSignatures(errorMessage(error)) };
  }
}

/**
 * @actions/artifact (with the Azure SDK under it) is several MB of code: loaded only when a copy is made, so the
 * actions' memory stays what streaming needs (ncc puts it in a chunk of its own).
 */
async function loadArtifactClient(): Promise<ArtifactUploader> {
  const { DefaultArtifactClient } = await import('@actions/artifact');
  return new DefaultArtifactClient();
}

/** The files of a complete backup, relative to its folder: what the manifest lists, and the manifest itself. */
function backupFiles(manifest: Pick<Manifest, 'files'>): string[] {
  return [...manifest.files.map((file) => file.path), MANIFEST_FILE];
}

/**
 * Why no artifact can be uploaded from here, or null. The artifact service is reachable only from a job on a runner
 * (it gives the job ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL), and artifacts v4 do not exist on GitHub
 * Enterprise Server (the library refuses, as its own isGhes() decides).
 */
function whyNotOnRunner(context: RunContext): string | null {
  const missing = [
    context.artifacts.runtimeToken ? undefined : ENV.actionsRuntimeToken,
    context.artifacts.resultsUrl ? undefined : ENV.actionsResultsUrl,
  ].filter((name) => name !== undefined);
  if (missing.length > 0) {
    return (
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: artifacts can only be uploaded ` +
      `from a GitHub Actions job`
    );
  }
  const host = hostOf(context.github.serverUrl);
  if (host !== 'github.com' && !host.endsWith('.ghe.com') && !host.endsWith('.localhost')) {
    return `${host} is a GitHub Enterprise Server, which does not support artifacts v4`;
  }
  return null;
}

/**
 * A backup action's artifact step, once its manifest is written (so the artifact holds a complete backup or
 * nothing): copies when the inputs asked for it and logs what happened. null when no copy was asked for.
 */
export async function copyToArtifactIfAsked(
  runtime: Pick<Runtime, 'info' | 'notice' | 'warning' | 'context'>,
  options: ArtifactCopyOptions | null,
  manifest: Manifest,
): Promise<ArtifactCopyResult | null> {
  if (!options) return null;
  const result = await copyToArtifact(options, manifest, runtime.context);
  logArtifactCopy(runtime, result);
  return result;
}

/** The artifact-id output: the artifact's id, or empty when none was uploaded. */
export function artifactIdOf(result: ArtifactCopyResult | null): number | '' {
  return result?.status === 'uploaded' ? result.id : '';
}

/** Says what happened, at the level it deserves: a skipped-by-design copy is a notice, a missed one a warning. */
function logArtifactCopy(runtime: Pick<Runtime, 'info' | 'notice' | 'warning'>, result: ArtifactCopyResult): void {
  const { level, line } = artifactLogLine(result);
  runtime[level](line);
}

function artifactLogLine(result: ArtifactCopyResult): { level: 'info' | 'notice' | 'warning'; line: string } {
  switch (result.status) {
    case 'uploaded':
      return {
        level: 'info',
        line:
          `Artifact ${result.artifactName} uploaded (id ${result.id}, ${formatBytes(result.bytes)}, kept ` +
          `${days(result.retentionDays)}).`,
      };
    case 'skipped':
      return {
        level: result.level,
        line: `No artifact copy: ${result.reason}. The backup is complete in every storage-url destination.`,
      };
    case 'failed':
      return {
        level: 'warning',
        line:
          `Artifact copy ${result.artifactName} failed: ${result.reason}. The backup itself is complete in ` +
          `every storage-url destination.`,
      };
  }
}

/** One Markdown line for the job summary. */
export function artifactSummaryLine(result: ArtifactCopyResult): string {
  switch (result.status) {
    case 'uploaded':
      return (
        `📦 Artifact \`${result.artifactName}\` (id ${result.id}, ${formatBytes(result.bytes)}), kept ` +
        `${days(result.retentionDays)}`
      );
    case 'skipped':
      return `${result.level === 'notice' ? 'ℹ️' : '⚠️'} No artifact copy: ${result.reason}`;
    case 'failed':
      return `⚠️ Artifact copy failed: ${result.reason} (the backup is complete in its destinations)`;
  }
}

function days(count: number): string {
  return `${count} day${count === 1 ? '' : 's'}`;
}

async function totalBytes(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) total += (await fs.stat(file)).size;
  return total;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return url;
  }
}

/**
 * One line (the library's messages span several, which breaks a summary line), and without the upload URL's
 * signature (`sig=`): the library masks it on the runner, but an error message can carry it elsewhere.
 */
function oneLineWithoutSignatures(text: string): string {
  return text
    .replace(/([?&]sig=)[^&\s"']+/gi, '$1***')
    .replace(/\s+/g, ' ')
    .trim();
}
