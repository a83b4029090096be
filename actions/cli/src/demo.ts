import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pg from 'pg';
import { runCommand, type CliIo } from '../../lib/action/cli.ts';
import { generateIdentity, recipientOf } from '../../lib/crypto/age.ts';
import { errorMessage } from '../../lib/action/errors.ts';
import { startScratchCluster, type ScratchCluster } from '../../lib/pg/cluster.ts';
import { COMMANDS } from './commands.ts';
import { sampleDatabaseSql } from './sample-data.ts';

const DEMO_TICKS = 1_000_000;
const DEMO_DATABASE = 'trading_journal';

/**
 * `backstop demo` (npm run demo): the whole round trip on a fresh machine, nothing to configure. A throwaway
 * PostgreSQL with sample trading data → dump-postgres (zstd + age) to a local folder → restore-drill into an empty
 * database, checksums and row counts verified → validate-integrity of the restored database against the original
 * → the verdict; with --qdrant-url=…, backfill-embeddings of the sample trades into that Qdrant. Everything is
 * removed at the end unless --keep is given.
 */
export async function runDemo(args: string[], io: CliIo): Promise<number> {
  if (typeof zlib.createZstdCompress !== 'function') {
    io.err(
      `error: Node ${process.version} has no zstd; Backstop needs Node 24. Run it through npm (npm run demo), which ` +
        `uses the node package from package.json.`,
    );
    return 1;
  }
  const keep = args.includes('--keep');
  const ticks = Number(/--ticks=(\d+)/.exec(args.join(' '))?.[1] ?? DEMO_TICKS);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-demo-'));
  const storage = path.join(work, 'backups');
  let source: ScratchCluster | undefined;
  try {
    io.out(
      `1/5  Starting a throwaway PostgreSQL and loading sample trading data (${ticks.toLocaleString('en-US')} ticks)…`,
    );
    source = await startScratchCluster({ fast: true, baseDir: work });
    await loadSample(source, ticks);

    const identity = generateIdentity();
    const recipient = recipientOf(identity);
    io.out(`2/5  Generated an age key pair for this demo (public key ${recipient}).`);

    io.out(`3/5  dump-postgres → ${storage}`);
    const env = {
      ...process.env,
      BACKSTOP_DATABASE_URL: source.urlFor(DEMO_DATABASE),
      BACKSTOP_ENCRYPTION_IDENTITY: identity,
      RUNNER_TEMP: work,
    };
    const dumped = await runCommand(
      COMMANDS['dump-postgres']!,
      ['--name', 'demo', '--storage-url', storage, '--kind', 'manual', '--encryption-recipients', recipient],
      env,
      io,
    );
    if (dumped !== 0) return dumped;

    io.out('\n4/5  restore-drill → an empty database (RTO budget 15 min, RPO 1 h)');
    const restored = await emptyDatabase(source, 'trading_journal_restored');
    const drilled = await runCommand(
      COMMANDS['restore-drill']!,
      ['--name', 'demo', '--storage-url', storage, '--max-restore-seconds', '900', '--max-age-hours', '1'],
      { ...env, BACKSTOP_TARGET_URL: restored },
      io,
    );
    if (drilled !== 0) {
      io.out('\nDemo finished: the drill did NOT verify. ❌');
      return drilled;
    }

    io.out(
      '\n5/5  validate-integrity: the restored database against the original, row by row, and object by object ' +
        '(schema, grants, RLS policies)',
    );
    const checked = await runCommand(
      COMMANDS['validate-integrity']!,
      ['--report-path', path.join(work, 'integrity-report.json')],
      { ...env, BACKSTOP_DATABASE_URL: restored, BACKSTOP_COMPARE_URL: source.urlFor(DEMO_DATABASE) },
      io,
    );
    io.out(
      checked === 0
        ? '\nDemo finished: the backup restored, every row count matched, and the restored data, schema, grants and ' +
            'RLS policies are identical to the original. ✅'
        : '\nDemo finished: the restored data differs from the original. ❌',
    );
    const embedded = await embedIfQdrant(args, env, source.urlFor(DEMO_DATABASE), io);
    if (keep) io.out(`Kept: backups in ${storage}, age identity in BACKSTOP_ENCRYPTION_IDENTITY above (not printed).`);
    return checked || embedded;
  } catch (error) {
    io.err(`error: ${errorMessage(error)}`);
    return 1;
  } finally {
    await source?.stop();
    if (!keep) await fs.rm(work, { recursive: true, force: true });
  }
}

/**
 * The sample trades (with their journal entries) into a Qdrant, when one is given (--qdrant-url=… or
 * BACKSTOP_QDRANT_URL; the tests' stand-in serves too), with the local embedder: offline, nothing to download.
 */
async function embedIfQdrant(args: string[], env: NodeJS.ProcessEnv, database: string, io: CliIo): Promise<number> {
  const qdrantUrl = /--qdrant-url=(\S+)/.exec(args.join(' '))?.[1] ?? env.BACKSTOP_QDRANT_URL;
  if (!qdrantUrl) {
    io.out(
      '\n+    backfill-embeddings: skipped (no Qdrant; give --qdrant-url=http://localhost:6333 to embed the trades).',
    );
    return 0;
  }
  io.out(`\n+    backfill-embeddings → Qdrant at ${qdrantUrl} (deterministic local embedder, not semantic)`);
  return runCommand(
    COMMANDS['backfill-embeddings']!,
    ['--qdrant-url', qdrantUrl],
    { ...env, BACKSTOP_DATABASE_URL: database },
    io,
  );
}

async function emptyDatabase(cluster: ScratchCluster, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return cluster.urlFor(name);
}

/**
 * What an application's database also is: a role that reads through row level security, its grant and its policy
 * (one trader sees only their own trades). The drill restores them, and validate-integrity's schema and RLS
 * validation checks show them identical in the copy.
 */
const DEMO_ACCESS_SQL = `
CREATE ROLE journal_app NOLOGIN;
GRANT SELECT ON trades TO journal_app;
ALTER TABLE trades ENABLE ROW LEVEL SECURITY;
CREATE POLICY "own trades" ON trades FOR SELECT TO journal_app
  USING (user_id = nullif(current_setting('app.user_id', true), '')::bigint);`;

async function loadSample(cluster: ScratchCluster, ticks: number): Promise<void> {
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DEMO_DATABASE}`);
  await admin.end();
  const client = new pg.Client({ connectionString: cluster.urlFor(DEMO_DATABASE) });
  await client.connect();
  try {
    await client.query(sampleDatabaseSql(ticks));
    await client.query(DEMO_ACCESS_SQL);
  } finally {
    await client.end();
  }
}
