import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chooseHashMethod,
  fingerprint,
  pinSession,
  type HashMethod,
  type RangeTable,
} from '../../actions/lib/pg/fingerprint.ts';
import { sql, startTestCluster, type ScratchCluster } from '../harness/postgres.ts';

/** The range check on real PostgreSQL: both hash methods, sessions in different time zones, a json column. */
let cluster: ScratchCluster;
const clients: pg.Client[] = [];

async function client(database: string, timeZone: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: cluster.urlFor(database) });
  await c.connect();
  await c.query(`SET TimeZone = '${timeZone}'`);
  clients.push(c);
  return c;
}

const TABLE: RangeTable = {
  schema: 'public',
  name: 'ticks',
  timeColumn: 'time',
  columns: ['time', 'symbol', 'price', 'note'],
};
const RANGE = [new Date('2026-01-05T00:00:00Z'), new Date('2026-01-06T00:00:00Z')] as const;

beforeAll(async () => {
  cluster = await startTestCluster();
  for (const db of ['left_db', 'right_db']) {
    await sql(cluster.url, `CREATE DATABASE ${db}`);
    await sql(
      cluster.urlFor(db),
      `
      CREATE TABLE ticks (time timestamptz NOT NULL, symbol text, price numeric(20,8), note text, raw json);
      INSERT INTO ticks SELECT timestamptz '2026-01-05 00:00:00.123456+00' + i * interval '1 minute', 'ES',
        12345678.12345678 + i, CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN '' ELSE 'x' END, '{"a":1}'
      FROM generate_series(0, 2000) AS i;`,
    );
  }
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await cluster?.stop();
});

describe.each(['record', 'text'] as HashMethod[])('range fingerprint (%s)', (method) => {
  it('is equal for equal data read in different time zones, and differs after one changed value', async () => {
    const left = await client('left_db', 'UTC');
    const right = await client('right_db', 'Pacific/Chatham');
    await Promise.all([pinSession(left), pinSession(right)]);
    const a = await fingerprint(left, TABLE, ...RANGE, method);
    expect(a.rows).toBe(1440);
    expect(await fingerprint(right, TABLE, ...RANGE, method)).toEqual(a);
    // Each change inside a transaction that is rolled back, so the next case starts from equal data again.
    for (const change of [
      "UPDATE ticks SET price = price + 0.00000001 WHERE time = '2026-01-05 10:00:00.123456+00'",
      "UPDATE ticks SET note = NULL WHERE note = '' AND time < '2026-01-05 00:10+00'",
      "UPDATE ticks SET time = time + interval '1 microsecond' WHERE time = '2026-01-05 10:00:00.123456+00'",
    ]) {
      await right.query('BEGIN');
      await right.query(change);
      expect((await fingerprint(right, TABLE, ...RANGE, method)).checksum, change).not.toBe(a.checksum);
      await right.query('ROLLBACK');
    }
    expect(await fingerprint(right, TABLE, ...RANGE, method)).toEqual(a);
  });
});

describe('choosing the hash', () => {
  it('uses hash_record_extended where it can, and falls back to text for a json column', async () => {
    const left = await client('left_db', 'UTC');
    expect(await chooseHashMethod([{ client: left, table: TABLE }])).toBe('record');
    expect(await chooseHashMethod([{ client: left, table: { ...TABLE, columns: [...TABLE.columns, 'raw'] } }])).toBe(
      'text',
    );
  });
});
