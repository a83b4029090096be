import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveRowCounter, UnreadableArchiveError } from '../../actions/lib/postgres/archive-rows.ts';
import { findToolVersions } from '../../actions/lib/pg/tools.ts';
import { emptyDatabase, sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';

/** Row counts read from real pg_dump archives, against count(*) on the dumped database. */
let cluster: ScratchCluster;
let pgDump: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  const found = (await findToolVersions('pg_dump')).find((tool) => tool.major >= cluster.major);
  pgDump = found!.path;
});
afterAll(async () => cluster?.stop());

function dump(url: string, extra: string[] = []): Buffer {
  const run = spawnSync(pgDump, ['--format=custom', '--compress=0', ...extra, url], { maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(run.stderr.toString());
  return run.stdout;
}

/** Feeds the archive in pieces of random sizes (1 byte to 64 KiB), so every field is split somewhere. */
function countInPieces(archive: Buffer, seed: number): Map<string, number> {
  return new Map([...readInPieces(archive, seed)].map(([key, entry]) => [key, entry.rows]));
}

function readInPieces(archive: Buffer, seed: number): Map<string, { rows: number; bytes: number }> {
  const counter = new ArchiveRowCounter();
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state;
  };
  for (let at = 0; at < archive.length; ) {
    const size = 1 + (next() % (next() % 4 === 0 ? 16 : 65536));
    counter.push(archive.subarray(at, at + size));
    at += size;
  }
  return counter.finish();
}

/** The bytes of a table's rows as COPY writes them in text, which is what pg_dump puts in the archive. */
function copyTextBytes(url: string, qualified: string): number {
  const psql = path.join(path.dirname(pgDump), 'psql');
  const env = { ...process.env, PGCLIENTENCODING: 'UTF8' };
  const run = spawnSync(psql, ['-X', '-q', url, '-c', `COPY ${qualified} TO STDOUT`], { env, maxBuffer: 1 << 30 });
  if (run.status !== 0) throw new Error(run.stderr.toString());
  return run.stdout.length;
}

async function exactCounts(url: string): Promise<Map<string, number>> {
  const tables = await sql<{ schema: string; name: string; qualified: string }>(
    url,
    `SELECT n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS qualified
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  const counts = new Map<string, number>();
  for (const { schema, name, qualified } of tables) {
    const [row] = await sql<{ n: string }>(url, `SELECT count(*) AS n FROM ONLY ${qualified}`);
    counts.set(`${schema}.${name}`, Number(row!.n));
  }
  return counts;
}

describe('row counts from the dump stream', () => {
  it('equal count(*) for text with newlines, tabs, backslashes, NULLs, bytea, empty and column-less tables', async () => {
    const url = await emptyDatabase(cluster);
    await sql(
      url,
      `CREATE TABLE notes (id int, body text, raw bytea, tags text[]);
       INSERT INTO notes VALUES
         (1, E'line one\\nline two\\r\\n', '\\x0a0d5c', '{"a\\nb","c"}'),
         (2, E'tab\\there and a backslash \\\\ and \\\\.', NULL, NULL),
         (3, E'\\\\.', '\\x5c2e0a', '{}'),
         (4, '', '\\x', '{""}'),
         (5, NULL, NULL, NULL);
       CREATE TABLE nothing (x int);
       CREATE TABLE no_columns (); INSERT INTO no_columns SELECT FROM generate_series(1, 4);
       CREATE SCHEMA "Odd Schema"; CREATE TABLE "Odd Schema"."a ""quoted"" name" (v text);
       INSERT INTO "Odd Schema"."a ""quoted"" name" SELECT repeat(E'x\\n', 10000) FROM generate_series(1, 3);
       CREATE TABLE parted (d int) PARTITION BY RANGE (d);
       CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (100);
       CREATE TABLE parted_high PARTITION OF parted FOR VALUES FROM (100) TO (200);
       INSERT INTO parted SELECT generate_series(0, 150);
       SELECT lo_from_bytea(0, E'\\\\x0a0a0a'::bytea);`,
    );
    const archive = dump(url);
    const expected = await exactCounts(url);
    expect(expected.get('public.no_columns')).toBe(4);
    for (const seed of [1, 2, 3]) expect(countInPieces(archive, seed)).toEqual(expected);
    const read = readInPieces(archive, 4);
    for (const [table, qualified] of [
      ['public.notes', 'public.notes'],
      ['public.no_columns', 'public.no_columns'],
      ['public.nothing', 'public.nothing'],
      ['public.parted_low', 'public.parted_low'],
      ['Odd Schema.a "quoted" name', '"Odd Schema"."a ""quoted"" name"'],
    ] as const) {
      expect(read.get(table)?.bytes, table).toBe(copyTextBytes(url, qualified));
    }
    expect(read.get('public.nothing')?.bytes).toBe(0);
    expect(read.get('Odd Schema.a "quoted" name')?.bytes).toBeGreaterThan(3 * 10000 * 3);
  });

  it('equal count(*) for a fuzz of random rows (control characters, unicode, empty strings, NULLs)', async () => {
    const url = await emptyDatabase(cluster);
    await sql(url, 'CREATE TABLE fuzz (id serial, a text, b bytea, c jsonb)');
    const alphabet = ['\n', '\r', '\t', '\\', '.', 'a', 'é', '漢', '😀', ' ', '"', "'", ',', '\u000b', '\u0001'];
    for (let batch = 0; batch < 20; batch++) {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let row = 0; row < 50; row++) {
        const length = randomBytes(1)[0]! % 40;
        const text = Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
        values.push(row % 7 === 0 ? null : text, randomBytes(length), JSON.stringify({ text }));
        rows.push(`($${values.length - 2}, $${values.length - 1}, $${values.length})`);
      }
      await sql(url, `INSERT INTO fuzz (a, b, c) VALUES ${rows.join(', ')}`, values);
    }
    const archive = dump(url);
    expect(countInPieces(archive, 42)).toEqual(await exactCounts(url));
  });

  it('leaves tables whose data was excluded out, as pg_dump does', async () => {
    const url = await emptyDatabase(cluster);
    await sql(url, 'CREATE TABLE kept (x int); CREATE TABLE skipped (x int); INSERT INTO kept VALUES (1), (2);');
    await sql(url, 'INSERT INTO skipped SELECT generate_series(1, 10)');
    const counts = countInPieces(dump(url, ['--exclude-table-data=skipped']), 7);
    expect(counts).toEqual(new Map([['public.kept', 2]]));
  });

  it('refuses a compressed archive, a truncated one and one that is not an archive', async () => {
    const url = await emptyDatabase(cluster);
    await sql(url, 'CREATE TABLE t (x int); INSERT INTO t VALUES (1);');
    const compressed = spawnSync(pgDump, ['--format=custom', '--compress=6', url]).stdout;
    expect(() => new ArchiveRowCounter().push(compressed)).toThrow(/compressed/);
    const whole = dump(url);
    const truncated = new ArchiveRowCounter();
    truncated.push(whole.subarray(0, whole.length - 20));
    expect(() => truncated.finish()).toThrow(UnreadableArchiveError);
    expect(() => new ArchiveRowCounter().push(Buffer.from('-- PostgreSQL database dump\n'))).toThrow(/PGDMP/);
  });
});
