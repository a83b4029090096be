import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putJson, writeManifest } from '../../actions/lib/manifest/catalog.ts';
import type { DrillRecordBase } from '../../actions/lib/manifest/drills.ts';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { S3Store } from '../../actions/lib/storage/s3.ts';
import { envS3Settings, startTestS3, useS3Environment } from '../harness/s3.ts';
import { CHROMIUM, launchChromium, sayWhenChromiumIsMissing } from '../harness/chromium.ts';
import { postgresManifest } from '../harness/manifests.ts';
import { ROOT, runAction } from '../harness/runner.ts';

// Without Chromium the browser tests are skipped (counted as skipped, not passed), and this line says why.
sayWhenChromiumIsMissing();

const HOUR = 3_600_000;
let work: string;
let storage: string;

function idAt(at: Date, n: number): string {
  return `${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}-daily-${n.toString(16).padStart(4, '0')}`;
}

/** A complete backup of `name` that finished `hoursAgo`, of `bytes` stored bytes, with the drills given. */
async function seedBackup(
  store: LocalStore | S3Store,
  name: string,
  engine: Manifest['engine'],
  hoursAgo: number,
  bytes: number,
  drills: Partial<DrillRecordBase>[] = [],
): Promise<string> {
  const at = new Date(Date.now() - hoursAgo * HOUR);
  const id = idAt(at, Math.round(hoursAgo));
  await store.put(`${name}/${id}/data.zst`, Readable.from([Buffer.alloc(16)]));
  const manifest = postgresManifest(id, at.toISOString());
  manifest.name = name;
  manifest.engine = engine;
  manifest.durationSeconds = 30 + hoursAgo / 24;
  manifest.files[0]!.bytes = bytes;
  await writeManifest([store], manifest);
  for (const [index, drill] of drills.entries()) {
    const startedAt = new Date(at.getTime() + (index + 1) * HOUR).toISOString();
    const record: DrillRecordBase = {
      version: 1,
      backupId: id,
      name,
      engine,
      startedAt,
      finishedAt: startedAt,
      dryRun: false,
      target: 'a throwaway local PostgreSQL',
      restoreSeconds: 12,
      backupAgeHours: 1,
      verified: true,
      checksumsVerified: true,
      problems: [],
      ...drill,
    };
    await putJson([store], `${name}/${id}/drills/${startedAt.replace(/[-:]/g, '')}.json`, record);
  }
  return id;
}

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-status-'));
  storage = path.join(work, 'backups');
  const store = new LocalStore(storage);
  // prod: a nightly for 20 days, drilled every few days, the newest drill failed its RTO.
  for (let day = 20; day >= 0; day--) {
    const drills =
      day === 0
        ? [
            {
              verified: false,
              restoreSeconds: 95,
              problems: ['The restore took 95.0 s, over max-restore-seconds 60 (RTO).'],
            },
          ]
        : day % 4 === 0
          ? [{ restoreSeconds: 20 + day }]
          : [];
    await seedBackup(store, 'prod', 'postgres', day * 24 + 2, 1_000_000 + day * 10_000, drills);
  }
  // vectors: fresh, never drilled; old: last backup 3 days ago (stale at 26 h).
  await seedBackup(store, 'vectors', 'qdrant', 5, 4_000_000);
  await seedBackup(store, 'old-db', 'postgres', 72, 2_000_000, [{ restoreSeconds: 40 }]);
  // An incomplete folder (a killed backup) is not a name.
  await store.put('half/20260101T000000Z-daily-0001/data.zst', Readable.from([Buffer.alloc(8)]));
});
afterAll(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

describe('backup-status', () => {
  const htmlPath = (): string => path.join(work, 'page', 'index.html');

  it('writes one summary row per name, the page, and lists the stale names', async () => {
    const run = await runAction('backup-status', { 'storage-url': storage, 'html-path': htmlPath() });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.names).toBe('old-db,prod,vectors');
    expect(run.outputs.stale).toBe('old-db');
    expect(run.outputs['html-path']).toBe(htmlPath());
    expect(run.summary).toContain('3 name(s), 1 stale');
    const row = (name: string): string => run.summary.split('\n').find((line) => line.startsWith(`| ${name} |`))!;
    expect(row('prod')).toMatch(
      /\| postgres \| \S+-daily-\w+ \| 2\.0 h \| 976\.6 KiB \| FAILED, \S+ \| 1 min 35 s, 24\.0 s/,
    );
    expect(row('prod')).toContain('✅ fresh');
    expect(row('vectors')).toMatch(/\| qdrant \| .* \| never drilled \| – \| ✅ fresh \|$/);
    expect(row('old-db')).toMatch(/\| 72\.0 h \| .* \| 40\.0 s \| ⚠️ stale \|$/);
    const html = await fs.readFile(htmlPath(), 'utf8');
    expect(html.match(/<section id="name-/g)).toHaveLength(3);
    expect(html.match(/<svg /g)).toHaveLength(9);
    // Nothing to fetch: no script, no stylesheet or image link, no url() but a clip path of its own, no URL but the
    // SVG namespaces.
    expect(html).not.toMatch(/<script|<link|<img|@import|url\((?!#)/i);
    expect(html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/[^"]+"/g, '')).not.toMatch(/https?:/);
  });

  it('names only the names asked for, shows an unknown one as stale, and fails on stale when asked', async () => {
    const run = await runAction('backup-status', {
      'storage-url': storage,
      names: 'prod, nosuch',
      'html-path': path.join(work, 'two.html'),
      'fail-on-stale': 'true',
    });
    expect(run.code).toBe(1);
    expect(run.outputs.stale).toBe('nosuch');
    expect(run.errors.join('\n')).toContain('1 stale name(s), no complete backup within max-age-hours 26: nosuch.');
    expect(run.summary).toMatch(/\| nosuch \| – \| none \| – \| – \| never drilled \| – \| ⚠️ stale \|/);
    expect(await fs.readFile(path.join(work, 'two.html'), 'utf8')).toContain('data-name="nosuch"');
  });

  it('reads the names of an S3 destination, each from the first destination that holds it', async () => {
    const s3 = await startTestS3();
    const restore = useS3Environment(s3);
    try {
      const remote = new S3Store(`s3://${s3.bucket}/status`, envS3Settings());
      await seedBackup(remote, 'remote-only', 'postgres', 3, 5_000_000, [{ restoreSeconds: 7 }]);
      await seedBackup(remote, 'prod', 'postgres', 1, 9_000_000);
      const run = await runAction(
        'backup-status',
        { 'storage-url': `s3://${s3.bucket}/status,${storage}`, 'html-path': path.join(work, 's3.html') },
        { env: s3.env },
      );
      expect(run.errors).toEqual([]);
      expect(run.outputs.names).toBe('old-db,prod,remote-only,vectors');
      // prod is read from S3, the first destination that has it: its newest backup there is an hour old.
      expect(run.summary).toMatch(/\| prod \| postgres \| \S+ \| 1\.0 h \| 8\.6 MiB \| never drilled \|/);
      expect(run.summary).toMatch(/\| remote-only \| postgres \| .* \| verified, \S+ \| 7\.0 s \| ✅ fresh \|$/m);
    } finally {
      restore();
      await s3.stop();
    }
  });

  it('refuses a storage-url that does not exist, and a bad name, in one line each', async () => {
    const missing = await runAction('backup-status', { 'storage-url': path.join(work, 'nope') });
    expect(missing.code).toBe(1);
    expect(missing.errors.join('\n')).toMatch(/Input "storage-url": file:\/\/\S+\/nope does not exist/);
    const bad = await runAction('backup-status', { 'storage-url': storage, names: '../etc' });
    expect(bad.code).toBe(1);
    expect(bad.errors.join('\n')).toContain('Input "names"');
  });

  describe.runIf(CHROMIUM)('the page in a real headless Chromium', () => {
    it('renders without console errors or network requests, every name with its charts', async () => {
      const page = htmlPath();
      await fs.access(page); // written by the first test
      const url = pathToFileURL(page).href;
      const browser = await launchChromium();
      try {
        const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        tab.on('console', (message) => {
          if (message.type() === 'error' || message.type() === 'warning') problems.push(`console: ${message.text()}`);
        });
        tab.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        const requests: string[] = [];
        await tab.route('**/*', async (route) => {
          const asked = route.request().url();
          if (asked === url) return route.continue();
          requests.push(asked);
          return route.abort();
        });
        tab.on('requestfailed', (request) => {
          if (request.url() !== url) requests.push(request.url());
        });
        const response = await tab.goto(url, { waitUntil: 'load' });
        expect(response?.ok() ?? true).toBe(true);
        for (const name of ['prod', 'vectors', 'old-db']) {
          const section = tab.locator(`section[data-name="${name}"]`);
          expect(await section.locator('h2').textContent()).toContain(name);
          expect(await section.locator('svg').count()).toBe(3);
          const box = await section.locator('svg').first().boundingBox();
          expect(box?.width).toBeGreaterThan(100);
        }
        // prod's size chart has a line through 21 points; its drill table lists the failed RTO first.
        expect(await tab.locator('section[data-name="prod"] svg path').count()).toBeGreaterThan(3);
        expect(await tab.locator('section[data-name="prod"] table.drills tbody tr').first().textContent()).toContain(
          'FAILED',
        );
        await fs.mkdir(path.join(ROOT, 'test-output'), { recursive: true });
        await tab.screenshot({ path: path.join(ROOT, 'test-output', 'backup-status.png'), fullPage: true });
        expect(problems).toEqual([]);
        expect(requests).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 60_000);
  });
});
