/**
 * Benchmark: dump-postgres and restore-drill against the stock tools, same machine, same run.
 *
 *   node bench/dump-restore.ts [--rows 10000000] [--rounds 3]
 *
 * Builds a tick_data database of --rows rows in a throwaway cluster, then alternates, --rounds times:
 *   stock dump:   pg_dump -Fc -Z0 > /dev/null
 *   our dump:     the dump-postgres bundle (zstd + age + sha256 → a local folder), run as the runner runs it
 *   stock restore: pg_restore -d <empty db> <a pg_dump -Fc -Z0 file of the same database>
 *   our drill:    the restore-drill bundle into an empty database (checksums, age, zstd, pg_restore, row counts)
 * and prints the best wall time of each, the ratios, and the peak RSS of the action processes (VmHWM from /proc).
 * Numbers, not assertions: run it on an idle machine.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateIdentity, recipientOf } from '../actions/lib/crypto/age.ts';
import { startScratchCluster, type ScratchCluster } from '../actions/lib/pg/cluster.ts';
import { findToolVersions } from '../actions/lib/pg/tools.ts';
import { ticksInsertSql, TICK_TABLE_SQL } from '../actions/cli/src/sample-data.ts';
import { measure, type Measured } from './measure.ts';
import { query } from './sql.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).join(' ');
const ROWS = Number(/--rows[= ](\d+)/.exec(args)?.[1] ?? 10_000_000);
const ROUNDS = Number(/--rounds[= ](\d+)/.exec(args)?.[1] ?? 3);

async function freshDatabase(cluster: ScratchCluster, name: string): Promise<string> {
  await query(cluster.url, `DROP DATABASE IF EXISTS ${name}`);
  await query(cluster.url, `CREATE DATABASE ${name}`);
  return cluster.urlFor(name);
}

function runnerEnv(inputs: Record<string, string>, work: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUNNER_TEMP: work,
    GITHUB_OUTPUT: path.join(work, 'out'),
    GITHUB_STEP_SUMMARY: path.join(work, 'summary'),
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return env;
}

const best = (runs: Measured[]): Measured => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-bench-'));
  await fs.chmod(work, 0o755);
  // The runner creates these files before a step runs.
  await fs.writeFile(path.join(work, 'out'), '');
  await fs.writeFile(path.join(work, 'summary'), '');
  const cluster = await startScratchCluster({ baseDir: work });
  try {
    const [pgDump] = await findToolVersions('pg_dump');
    const [pgRestore] = await findToolVersions('pg_restore');
    if (!pgDump || !pgRestore) throw new Error('pg_dump/pg_restore not found');
    const source = await freshDatabase(cluster, 'ticks');
    process.stdout.write(`Generating ${ROWS.toLocaleString('en-US')} ticks in PostgreSQL ${cluster.major}… `);
    const t0 = Date.now();
    await query(
      source,
      `
      ${TICK_TABLE_SQL}
      ${ticksInsertSql({ rows: ROWS, from: '2026-01-05 00:00:00+00', step: "interval '10 milliseconds'" })}
      CREATE INDEX ON tick_data (symbol, time DESC);`,
    );
    await query(source, 'VACUUM ANALYZE tick_data');
    const size = (await query(source, "SELECT pg_size_pretty(pg_database_size('ticks')) AS s")).rows[0].s;
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s, database ${size}`);

    const identity = generateIdentity();
    const recipient = recipientOf(identity);
    const archive = path.join(work, 'stock.dump');
    await measure(pgDump.path, ['-Fc', '-Z0', '-f', archive, '-d', source]);

    const stockDump: Measured[] = [];
    const ourDump: Measured[] = [];
    const stockRestore: Measured[] = [];
    const ourDrill: Measured[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      stockDump.push(await measure('sh', ['-c', `"${pgDump.path}" -Fc -Z0 -d "${source}" > /dev/null`]));
      const storage = path.join(work, `backups-${round}`);
      ourDump.push(
        await measure(
          process.execPath,
          [path.join(ROOT, 'actions/dump-postgres/dist/index.js')],
          runnerEnv(
            { 'database-url': source, name: 'bench', 'storage-url': storage, 'encryption-recipients': recipient },
            work,
          ),
        ),
      );

      const stockTarget = await freshDatabase(cluster, 'stock_restore');
      stockRestore.push(
        await measure(pgRestore.path, ['--no-owner', '--no-acl', '--exit-on-error', '-d', stockTarget, archive]),
      );
      await query(cluster.url, 'DROP DATABASE stock_restore');
      const drillTarget = await freshDatabase(cluster, 'drill_restore');
      ourDrill.push(
        await measure(
          process.execPath,
          [path.join(ROOT, 'actions/restore-drill/dist/index.js')],
          runnerEnv(
            { 'storage-url': storage, name: 'bench', 'encryption-identity': identity, 'target-url': drillTarget },
            work,
          ),
        ),
      );
      await query(cluster.url, 'DROP DATABASE drill_restore');
      await fs.rm(storage, { recursive: true, force: true });
      console.log(
        `round ${round}: pg_dump ${stockDump.at(-1)!.seconds.toFixed(2)} s, dump-postgres ` +
          `${ourDump.at(-1)!.seconds.toFixed(2)} s, ` +
          `pg_restore ${stockRestore.at(-1)!.seconds.toFixed(2)} s, restore-drill ` +
          `${ourDrill.at(-1)!.seconds.toFixed(2)} s`,
      );
    }
    const rss = Math.max(...ourDump.map((m) => m.peakRssBytes), ...ourDrill.map((m) => m.peakRssBytes));
    console.log(`
${ROWS.toLocaleString('en-US')} ticks, PostgreSQL ${cluster.major}, ${os.cpus().length} CPUs, best of ${ROUNDS}
  dump:  dump-postgres ${best(ourDump).seconds.toFixed(2)} s ÷ pg_dump -Fc -Z0 > /dev/null ${best(stockDump).seconds.toFixed(2)} s = ${(best(ourDump).seconds / best(stockDump).seconds).toFixed(2)}×  (target ≤ 1.15×)
  drill: restore-drill ${best(ourDrill).seconds.toFixed(2)} s ÷ pg_restore ${best(stockRestore).seconds.toFixed(2)} s = ${(best(ourDrill).seconds / best(stockRestore).seconds).toFixed(2)}×  (target ≤ 1.2×)
  peak RSS of the action processes: dump ${mib(Math.max(...ourDump.map((m) => m.peakRssBytes)))}, drill ${mib(Math.max(...ourDrill.map((m) => m.peakRssBytes)))}  (target < 200 MiB: ${rss < 200 * 1024 * 1024 ? 'met' : 'NOT met'})`);
  } finally {
    await cluster.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
