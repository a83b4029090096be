import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigurationError, VerificationError } from '../../lib/action/errors.ts';
import type { Origin } from '../../lib/action/origin.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { listNamesEverywhere, nameStatus, readHistory } from '../../lib/manifest/status.ts';
import { renderStatusPage, type StatusPageName } from '../../lib/report/status-page.ts';
import { readInputs } from './inputs.ts';
import { statusSummary } from './summary.ts';

/** The outputs this action sets (described in action.ts). */
export type BackupStatusOutput = 'html-path' | 'stale' | 'names';

/** backup-status: inputs → every name's backups and drills → job summary, HTML page, outputs; fail-on-stale. */
export async function run(runtime: Runtime<BackupStatusOutput>): Promise<void> {
  const inputs = readInputs(runtime);
  for (const store of inputs.stores) {
    if (!(await store.exists())) {
      throw new ConfigurationError(
        `Input "storage-url": ${store.displayUrl} does not exist: check the URL (a mistyped location would show ` +
          'an empty status page).',
      );
    }
  }
  const names = inputs.names.length > 0 ? inputs.names : await listNamesEverywhere(inputs.stores);
  if (names.length === 0) {
    runtime.warning(
      `No complete backup of any name in ${inputs.stores.map((s) => s.displayUrl).join(', ')}: the status page ` +
        'is empty. Check storage-url (the prefix the backup workflows write under).',
    );
  }
  const now = new Date();
  const entries: StatusPageName[] = [];
  for (const name of names) {
    const history = await readHistory(inputs.stores, name);
    for (const problem of history.problems) runtime.warning(`${name}: ${problem}`);
    entries.push({ history, status: nameStatus(history, inputs.maxAgeHours, now) });
  }
  const page = renderStatusPage({
    names: entries,
    generatedAt: now,
    maxAgeHours: inputs.maxAgeHours,
    destinations: inputs.stores.map((store) => store.displayUrl),
  });
  await writePage(inputs.htmlPath, runtime.redact(page), inputs.htmlOrigin);
  const stale = entries.filter((entry) => entry.status.stale).map((entry) => entry.status.name);
  runtime.setOutput('html-path', inputs.htmlPath);
  runtime.setOutput('stale', stale.join(','));
  runtime.setOutput('names', names.join(','));
  for (const { status } of entries)
    runtime.info(
      `${status.stale ? 'STALE' : 'fresh'} ${status.name}: ${status.newest?.id ?? 'no complete backup'}` +
        (status.newestAgeHours === undefined ? '' : `, ${status.newestAgeHours.toFixed(1)} h old`),
    );
  runtime.info(`Status page: ${inputs.htmlPath}`);
  await runtime.writeSummary(
    statusSummary(
      entries.map((entry) => entry.status),
      inputs.maxAgeHours,
    ),
  );
  if (inputs.failOnStale && stale.length > 0) {
    throw new VerificationError(
      `${stale.length} stale name(s), no complete backup within max-age-hours ${inputs.maxAgeHours}: ` +
        `${stale.join(', ')}. Check that their backup workflows still run.`,
    );
  }
}

async function writePage(file: string, html: string, origin: Origin): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, html);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (!code) throw error;
    throw new ConfigurationError(
      `${origin.title}: cannot write the status page to ${file} (${code}): give a file in a folder this job may ` +
        "write to (the default is in the runner's temp folder).",
    );
  }
}
