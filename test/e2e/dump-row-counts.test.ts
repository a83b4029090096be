import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findToolVersions } from '../../actions/lib/pg/tools.ts';
import { newKeyPair, type KeyPair } from '../harness/age.ts';
import { rowCounts, sampleDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';
import { runAction } from '../harness/runner.ts';

/** The manifest's row counts read from the dump stream, by count(*), and when the stream cannot be read. */
let cluster: ScratchCluster;
let keys: KeyPair;
let sourceUrl: string;
let work: string;

beforeAll(async () => {
  [cluster, keys] = await Promise.all([startTestCluster(), newKeyPair()]);
  sourceUrl = await sampleDatabase(cluster, 30_000);
  // Text that trips naive line counting, and a table without rows.
  await sql(
    sourceUrl,
    `CREATE TABLE notes (body text); INSERT INTO notes VALUES (E'a\\nb'), (E'\\\\.'), (NULL), ('');
     CREATE TABLE nothing (x int);`,
  );
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-rows-'));
});

afterAll(async () => {
  await Promise.all([cluster?.stop(), work && fs.rm(work, { recursive: true, force: true })]);
});

async function dumpAndReadCounts(name: string, extra: Record<string, string> = {}) {
  const storage = path.join(work, name);
  const inputs = { 'database-url': sourceUrl, name, 'storage-url': storage, 'encryption-recipients': keys.recipient };
  const run = await runAction('dump-postgres', { ...inputs, ...extra });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const folder = path.join(storage, name, run.outputs['backup-id']!);
  const manifest = JSON.parse(await fs.readFile(path.join(folder, 'manifest.json'), 'utf8'));
  const counts = Object.fromEntries(
    manifest.tables.map((t: { schema: string; name: string; rows: number }) => [`${t.schema}.${t.name}`, t.rows]),
  );
  return { run, counts };
}

describe('dump-postgres row counts', () => {
  it('reads exact counts from the dump stream by default, equal to count(*)', async () => {
    const { run, counts } = await dumpAndReadCounts('streamed');
    expect(counts).toEqual(await rowCounts(sourceUrl));
    expect(counts['public.notes']).toBe(4);
    expect(counts['public.nothing']).toBe(0);
    expect(run.stdout).not.toMatch(/could not be read/);
  });

  it('counts with count(*) when asked (row-counts: scan), with the same result', async () => {
    const { counts } = await dumpAndReadCounts('scanned', { 'row-counts': 'scan' });
    expect(counts).toEqual(await rowCounts(sourceUrl));
  });

  it('falls back to count(*) in the same snapshot when the archive cannot be read, and says so', async () => {
    // A pg_dump that compresses its output whatever it is asked: the stream reader cannot count compressed data.
    const real = (await findToolVersions('pg_dump')).find((tool) => tool.major >= cluster.major)!;
    const bin = path.join(work, 'compressing-bin');
    await fs.mkdir(bin);
    await fs.writeFile(path.join(bin, 'pg_dump'), `#!/bin/sh\nexec "${real.path}" "$@" --compress=1\n`, {
      mode: 0o755,
    });
    // The roles file comes from the pg_dumpall of the same folder.
    await fs.symlink(path.join(path.dirname(real.path), 'pg_dumpall'), path.join(bin, 'pg_dumpall'));
    const { run, counts } = await dumpAndReadCounts('fallback', { 'pg-bin-dir': bin });
    expect(run.stdout).toMatch(/Row counts: the dump stream could not be read \(.*compressed.*\); counting with count/);
    expect(counts).toEqual(await rowCounts(sourceUrl));
  });

  it('rejects an unknown row-counts value with one line naming the input', async () => {
    const run = await runAction('dump-postgres', {
      'database-url': sourceUrl,
      name: 'bad',
      'storage-url': path.join(work, 'bad'),
      'encryption-recipients': keys.recipient,
      'row-counts': 'guess',
    });
    expect(run.code).not.toBe(0);
    expect(run.errors).toEqual(['::error::Input "row-counts" is "guess": use one of stream, scan.']);
  });
});
