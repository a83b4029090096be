import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyWitness } from '../../actions/lib/pg/copy-witness.ts';
import { startTestCluster, type ScratchCluster } from '../harness/postgres.ts';

/**
 * The witness between the two COPYs of migrate-ticks, fed what a real PostgreSQL writes in binary COPY: tuples with
 * NULLs, empty strings, long values and many columns, cut into chunks of every awkward size.
 */
let cluster: ScratchCluster;
let stream: Buffer;
const ROWS = 5_000;

beforeAll(async () => {
  cluster = await startTestCluster();
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    const chunks: Buffer[] = [];
    const out = client.query(
      copyStreams.to(
        `COPY (SELECT now() + i * interval '1 ms' AS time, (ARRAY['ES', '', NULL])[1 + i % 3] AS symbol,
                      CASE WHEN i % 7 = 0 THEN NULL ELSE i * 1.12345678 END::numeric(20,8) AS price,
                      repeat('x', i % 300) AS note, gen_random_uuid() AS id
               FROM generate_series(1, ${ROWS}) AS i) TO STDOUT (FORMAT binary)`,
      ),
    );
    await pipeline(out, collect(chunks));
    stream = Buffer.concat(chunks);
  } finally {
    await client.end();
  }
}, 120_000);

afterAll(() => cluster?.stop());

function collect(into: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      into.push(chunk);
      done();
    },
  });
}

/** Runs the stream through a witness in chunks of `size` bytes; returns it and the bytes it let through. */
async function witness(bytes: Buffer, size: number): Promise<{ witness: CopyWitness; passed: Buffer }> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  const seen = new CopyWitness();
  const passed: Buffer[] = [];
  await pipeline(Readable.from(pieces), seen, collect(passed));
  return { witness: seen, passed: Buffer.concat(passed) };
}

describe('CopyWitness', () => {
  it.each([1, 2, 3, 7, 19, 4096, 65_536, 10_000_000])(
    'counts every tuple and hashes every byte, in chunks of %i bytes',
    async (size) => {
      const { witness: seen, passed } = await witness(stream, size);
      expect(seen.tuples).toBe(ROWS);
      expect(seen.bytes).toBe(stream.length);
      expect(passed.equals(stream)).toBe(true);
      expect(seen.digest()).toBe(createHash('sha256').update(stream).digest('hex'));
    },
  );

  it('a stream cut off before its trailer fails, naming what happened', async () => {
    await expect(witness(stream.subarray(0, stream.length - 100), 4096)).rejects.toThrow(
      /ended after \d+ bytes, before its trailer: it was cut off/,
    );
  });

  it('a stream that is not binary COPY fails at once', async () => {
    await expect(witness(Buffer.from('time,symbol\n2026-01-05,ES\n'), 4096)).rejects.toThrow(
      /not in PostgreSQL's format at byte 0: no signature/,
    );
  });

  it('a damaged field length fails with its offset', async () => {
    const damaged = Buffer.from(stream);
    // The first tuple's first field length, just after the 19-byte header and the 2-byte field count.
    damaged.writeInt32BE(-7, 21);
    await expect(witness(damaged, 4096)).rejects.toThrow(/at byte 21: field length -7/);
  });
});
