import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertRoomForNextBackup, diskUsage, findShortages, neededBytes } from '../../actions/lib/manifest/capacity.ts';
import { writeManifest } from '../../actions/lib/manifest/catalog.ts';
import type { Manifest } from '../../actions/lib/manifest/schema.ts';
import { compareWithPrevious, dropsOf, dropText, trendsMarkdown } from '../../actions/lib/manifest/trends.ts';
import { LocalStore } from '../../actions/lib/storage/local.ts';
import { S3Store } from '../../actions/lib/storage/s3.ts';
import { postgresManifest } from '../harness/manifests.ts';

function withTables(id: string, tables: [string, number | null][], bytes = 1000): Manifest {
  const manifest = postgresManifest(id, '2026-11-01T00:00:00.000Z');
  manifest.tables = tables.map(([name, rows]) => ({ schema: 'public', name, rows }));
  manifest.files[0]!.bytes = bytes;
  manifest.files[0]!.rawBytes = bytes * 3;
  return manifest;
}

describe('trends against the previous backup', () => {
  it('flags a table that lost more than the allowed share, or is gone; not exactly at the limit', () => {
    const before = withTables('a', [
      ['kept', 100],
      ['limit', 100],
      ['halved', 1000],
      ['gone', 5],
      ['excluded', 7],
      ['empty', 0],
    ]);
    const now = withTables('b', [
      ['kept', 120],
      ['limit', 90],
      ['halved', 500],
      ['excluded', null],
      ['empty', 0],
      ['fresh', 3],
    ]);
    const trends = compareWithPrevious(now, before, 10)!;
    expect(dropsOf(trends).map((item) => item.label)).toEqual(['public.gone', 'public.halved']);
    expect(dropsOf(trends).map((item) => dropText(item, 'rows'))).toEqual([
      'public.gone is gone (had 5 rows)',
      'public.halved lost 500 of 1000 rows (50.0%)',
    ]);
    const markdown = trendsMarkdown(trends);
    expect(markdown).toContain('### Trends against a');
    expect(markdown).toContain('Stored 1000 B (+0 B), dumped 2.9 KiB (+0 B); 6 of 7 tables changed their rows.');
    expect(markdown).toContain('⚠️ Lost more than 10% of their rows: public.gone, public.halved.');
    expect(markdown).toContain('| public.fresh | — | 3 | new |');
    expect(markdown).toContain('| public.excluded | 7 | not dumped |  |');
    expect(markdown).toContain('| public.kept | 100 | 120 | +20 (20.0%) |');
    expect(markdown).not.toContain('public.empty');
    expect(compareWithPrevious(now, before, 5)!.items.find((item) => item.label === 'public.limit')?.dropped).toBe(
      true,
    );
  });

  it("compares each table's dumped bytes, listing a table whose rows stayed but whose bytes changed", () => {
    const before = withTables('a', [
      ['steady', 10],
      ['grown', 10],
      ['scanned', 5],
    ]);
    const now = withTables('b', [
      ['steady', 10],
      ['grown', 10],
      ['scanned', 6],
    ]);
    const bytes = { steady: [2048, 2048], grown: [1024, 1536] } as Record<string, [number, number]>;
    for (const [manifest, side] of [
      [before, 0],
      [now, 1],
    ] as const) {
      for (const table of manifest.tables!) if (bytes[table.name]) table.dataBytes = bytes[table.name]![side];
    }
    const trends = compareWithPrevious(now, before, 10)!;
    expect(trends.items.find((item) => item.label === 'public.grown')).toMatchObject({
      bytes: 1536,
      previousBytes: 1024,
    });
    const markdown = trendsMarkdown(trends);
    expect(markdown).toContain('| Table | Before | Now | Change | Bytes before | Bytes now | Bytes change |');
    expect(markdown).toContain('| public.grown | 10 | 10 | +0 (0.0%) | 1.0 KiB | 1.5 KiB | +512 B (50.0%) |');
    // Counted with count(*): no bytes to compare, and the table is listed for its rows.
    expect(markdown).toContain('| public.scanned | 5 | 6 | +1 (20.0%) | — | — |  |');
    expect(markdown).not.toContain('public.steady');
    expect(markdown).toContain('1 of 3 tables changed their rows.');
  });

  it("compares each collection's snapshot bytes for Qdrant", () => {
    const collection = (points: number, file: string) => ({
      name: 'docs',
      points,
      vectorsConfig: {},
      shardNumber: 1,
      payloadSchema: {},
      aliases: [],
      snapshots: [{ node: 0, file, empty: false, qdrantChecksum: null }],
    });
    const file = (path: string, rawBytes: number) => ({ ...withTables('x', []).files[0]!, path, rawBytes });
    const before = withTables('a', []);
    before.tables = undefined;
    before.collections = [collection(100, 'docs-0.snapshot')];
    before.files = [file('docs-0.snapshot', 4096)];
    const now = { ...before, id: 'b', collections: [collection(100, 'docs-0.snapshot')] };
    now.files = [file('docs-0.snapshot', 8192)];
    const markdown = trendsMarkdown(compareWithPrevious(now, before, 10));
    expect(markdown).toContain('| docs | 100 | 100 | +0 (0.0%) | 4.0 KiB | 8.0 KiB | +4.0 KiB (100.0%) |');
    expect(markdown).toContain('0 of 1 collections changed their points.');
  });

  it('has nothing to compare for the first backup', () => {
    expect(compareWithPrevious(withTables('b', []), undefined, 10)).toBeUndefined();
    expect(trendsMarkdown(undefined)).toContain('nothing to compare with yet');
  });
});

describe('room for the next backup', () => {
  const remote = new S3Store('s3://bucket/prefix', { region: 'us-east-1', forcePathStyle: true });
  const free = (bytes: number) => async () => ({ freeBytes: bytes, usedBytes: 0 });
  let root: string;
  let local: LocalStore;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-room-'));
    local = new LocalStore(root);
    const previous = withTables('20261101T000000Z-daily-0001', [], 1_000_000);
    await writeManifest([local], previous);
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('needs the newest backup there × 1.2, in local destinations only, and nothing without a previous backup', async () => {
    expect(neededBytes(withTables('a', [], 1_000_000))).toBe(1_200_000);
    // The S3 destination is never listed (it would answer "bucket not found" here): no network before a backup.
    expect(await findShortages([local, remote], 'prod', free(1_199_999))).toEqual([
      { destination: local.displayUrl, freeBytes: 1_199_999, neededBytes: 1_200_000 },
    ]);
    expect(await findShortages([local], 'prod', free(1_200_000))).toEqual([]);
    expect(await findShortages([local], 'other-name', free(0))).toEqual([]);
    await expect(assertRoomForNextBackup([local], 'prod', free(1000))).rejects.toThrow(
      `${local.displayUrl} has 1000 B (1000 bytes) free; the next backup needs about 1.1 MiB (1200000 bytes: the ` +
        "newest backup's stored size × 1.2): nothing was written.",
    );
  });

  it('reads the real free space of the filesystem a destination is on', async () => {
    const [shortage] = await findShortages([local], 'prod', undefined);
    expect(shortage).toBeUndefined();
    const { bavail, bsize } = await fs.statfs(root);
    const usage = await diskUsage(path.join(root, 'not-there-yet', 'deeper'));
    expect(Math.abs(usage.freeBytes - bavail * bsize)).toBeLessThan(64 * 1024 * 1024);
  });
});
