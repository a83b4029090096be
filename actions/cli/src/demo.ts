import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pg from 'pg';
import { runCommand, type CliIo } from '../../lib/cli.ts';
import { generateIdentity, recipientOf } from '../../lib/crypto/age.ts';
import { errorMessage } from '../../lib/errors.ts';
import { startScratchCluster, type ScratchCluster } from '../../lib/postgres/cluster.ts';
import { COMMANDS } from './commands.ts';
import { sampleDatabaseSql } from './sample-data.ts';

const DEMO_TICKS = 1_000_000;
const DEMO_DATABASE = 'trading_journal';

/**
 * `backstop demo` (npm run demo): the whole round trip on a fresh machine, nothing to configure. A throwaway
 * PostgreSQL with sample trading data → dump-postgres (zstd + age) to a local folder → restore-drill into a second
 * throwaway PostgreSQL, checksums and row counts verified → the verdict. Everything is removed at the end unless
 * --keep is given.
 */
export async function runDemo(args: string[], io: CliIo): Promise<number> {
  if (typeof zlib.createZstdCompress !== 'function') {
    io.err(`error: Node ${process.version} has no zstd; Backstop needs Node 24. Run it through npm (npm run demo), which uses the node package from package.json.`);
    return 1;
  }
  const keep = args.includes('--keep');
  const ticks = Number(/--ticks=(\d+)/.exec(args.join(' '))?.[1] ?? DEMO_TICKS);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-demo-'));
  const storage = path.join(work, 'backups');
  let source: ScratchCluster | undefined;
  try {
    io.out(`1/4  Starting a throwaway PostgreSQL and loading sample trading data (${ticks.toLocaleString('en-US')} ticks)…`);
    source = await startScratchCluster({ fast: true, baseDir: work });
    await loadSample(source, ticks);

    const identity = generateIdentity();
    const recipient = recipientOf(identity);
    io.out(`2/4  Generated an age key pair for this demo (public key ${recipient}).`);

    io.out(`3/4  dump-postgres → ${storage}`);
    const env = { ...process.env, BACKSTOP_DATABASE_URL: source.urlFor(DEMO_DATABASE), BACKSTOP_ENCRYPTION_IDENTITY: identity, RUNNER_TEMP: work };
    const dumped = await runCommand(
      COMMANDS['dump-postgres']!,
      ['--name', 'demo', '--storage-url', storage, '--kind', 'manual', '--encryption-recipients', recipient],
      env,
      io,
    );
    if (dumped !== 0) return dumped;

    io.out('\n4/4  restore-drill → a second throwaway PostgreSQL (RTO budget 15 min, RPO 1 h)');
    const drilled = await runCommand(
      COMMANDS['restore-drill']!,
      ['--name', 'demo', '--storage-url', storage, '--max-restore-seconds', '900', '--max-age-hours', '1'],
      env,
      io,
    );
    io.out(drilled === 0 ? '\nDemo finished: the backup restored and every row count matched. ✅' : '\nDemo finished: the drill did NOT verify. ❌');
    if (keep) io.out(`Kept: backups in ${storage}, age identity in BACKSTOP_ENCRYPTION_IDENTITY above (not printed).`);
    return drilled;
  } catch (error) {
    io.err(`error: ${errorMessage(error)}`);
    return 1;
  } finally {
    await source?.stop();
    if (!keep) await fs.rm(work, { recursive: true, force: true });
  }
}

async function loadSample(cluster: ScratchCluster, ticks: number): Promise<void> {
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DEMO_DATABASE}`);
  await admin.end();
  const client = new pg.Client({ connectionString: cluster.urlFor(DEMO_DATABASE) });
  await client.connect();
  try {
    await client.query(sampleDatabaseSql(ticks));
  } finally {
    await client.end();
  }
}
