/**
 * Benchmark: migrate-ticks against a bare binary COPY pipe into the same target shape, same machine, same run.
 *
 *   node bench/migrate-ticks.ts [--rows 10000000] [--pairs 5] [--into hypertable|partitions] [--verify stream|reread]
 *                               [--workers N]
 *
 * A source cluster holds --rows ticks of the seeds' shape over 30 days; a target cluster gets, for every run, a fresh
 * database with the chosen shape, made ahead (migrate-ticks runs with setup: none):
 *   hypertable (the default when TimescaleDB is installed here): sql/timescaledb/tick_data.sql's hypertable with
 *              1-day chunks, on a server that preloads timescaledb;
 *   partitions: sql/postgres/tick_data.sql, daily partitions made ahead.
 * Then, in alternating order (pipe first, then migrate-ticks first), median of the pair ratios:
 *   stock: psql -c "COPY (SELECT …) TO STDOUT (FORMAT binary)" | psql -c "COPY tick_data FROM STDIN (FORMAT binary)"
 *   ours:  the migrate-ticks bundle (its default workers unless --workers, every range verified as --verify says, ledger written), run as
 *          the runner runs it.
 * Prints wall and CPU seconds of both (the processes' and the two servers'), the ratio and the action's peak RSS.
 */
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScratchCluster, type ScratchCluster } from '../actions/lib/pg/cluster.ts';
import { findToolVersions } from '../actions/lib/pg/tools.ts';
import { ticksInsertSql, TICK_TABLE_SQL } from '../actions/cli/src/sample-data.ts';
import { SEED_TICK_TABLE } from '../actions/lib/ticks/ddl.ts';
import { alternatingPairs, describePairs, measure, median, type Measured } from './measure.ts';
import { query } from './sql.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).join(' ');
const ROWS = Number(/--rows[= ](\d+)/.exec(args)?.[1] ?? 10_000_000);
const PAIRS = Number(/--pairs[= ](\d+)/.exec(args)?.[1] ?? 5);
const VERIFY = /--verify[= ](stream|reread)/.exec(args)?.[1] ?? 'stream';
const WORKERS = /--workers[= ](\d+)/.exec(args)?.[1];
const TIMESCALE_INSTALLED = timescaleInstalled();
const INTO = /--into[= ](hypertable|partitions)/.exec(args)?.[1] ?? (TIMESCALE_INSTALLED ? 'hypertable' : 'partitions');
const DAYS = 30;
const FROM = '2026-01-05 00:00:00+00';
const SEED_COLUMNS = SEED_TICK_TABLE.columns.map((column) => column.name).join(', ');

/** TimescaleDB's library and control file for the newest local PostgreSQL (where the clusters run). */
function timescaleInstalled(): boolean {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return false;
  const major = readdirSync(root)
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .sort((a, b) => b - a)[0];
  return (
    major !== undefined &&
    existsSync(path.join(root, String(major), 'lib', 'timescaledb.so')) &&
    existsSync(`/usr/share/postgresql/${major}/extension/timescaledb.control`)
  );
}

let targets = 0;

/** The same target shape for both, made ahead (migrate-ticks: setup none), in a fresh database each run. */
async function freshTarget(cluster: ScratchCluster): Promise<string> {
  const name = `bench_target_${++targets}`;
  // The previous pair's databases go: the target disk holds two copies at most.
  if (targets > 2) await query(cluster.url, `DROP DATABASE IF EXISTS bench_target_${targets - 2}`);
  await query(cluster.url, `CREATE DATABASE ${name}`);
  const url = cluster.urlFor(name);
  if (INTO === 'hypertable') {
    await query(url, 'CREATE EXTENSION timescaledb');
    await query(url, await fs.readFile(path.join(ROOT, 'sql/timescaledb/tick_data.sql'), 'utf8'));
    // The policy jobs (columnstore after 30 days, retention after 90, candle refreshes every minute) would start in
    // the middle of either side's copy at random moments (the bench ticks are months old: every policy applies to
    // them). Paused, both sides copy into the same quiet hypertable.
    await query(
      url,
      'SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs WHERE job_id >= 1000',
    );
  } else {
    await query(url, await fs.readFile(path.join(ROOT, 'sql/postgres/tick_data.sql'), 'utf8'));
    await query(url, `SELECT backstop_create_tick_partitions('2026-01-01', '2026-02-05')`);
  }
  await query(url, 'CHECKPOINT');
  return url;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-bench-ticks-'));
  await fs.chmod(work, 0o755);
  await fs.writeFile(path.join(work, 'out'), '');
  const [source, target] = await Promise.all([
    startScratchCluster({ baseDir: work }),
    startScratchCluster({ baseDir: work, preload: INTO === 'hypertable' ? ['timescaledb'] : [] }),
  ]);
  try {
    const [psql] = await findToolVersions('psql');
    if (!psql) throw new Error('psql not found');
    await query(source.url, 'CREATE DATABASE ticks');
    const sourceUrl = source.urlFor('ticks');
    process.stdout.write(`Generating ${ROWS.toLocaleString('en-US')} ticks over ${DAYS} days… `);
    const t0 = Date.now();
    await query(
      sourceUrl,
      `
      ${TICK_TABLE_SQL}
      ${ticksInsertSql({ rows: ROWS, from: FROM, step: `(interval '1 day' * ${DAYS} / ${ROWS})` })}
      CREATE INDEX ON tick_data (time);`,
    );
    await query(sourceUrl, 'VACUUM ANALYZE tick_data');
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const stock = async (): Promise<Measured> => {
      const stockTarget = await freshTarget(target);
      return measure(
        'bash',
        [
          '-o',
          'pipefail',
          '-c',
          `"${psql.path}" -X -q -d "$SOURCE" -c "COPY (SELECT ${SEED_COLUMNS} FROM tick_data) TO STDOUT ` +
            `(FORMAT binary)" | "${psql.path}" -X -q -d "$TARGET" -c "COPY tick_data (${SEED_COLUMNS}) FROM ` +
            `STDIN (FORMAT binary)"`,
        ],
        { env: { ...process.env, SOURCE: sourceUrl, TARGET: stockTarget }, dataDir: [source.dataDir, target.dataDir] },
      );
    };
    const ours = async (): Promise<Measured> => {
      const ourTarget = await freshTarget(target);
      return measure(process.execPath, [path.join(ROOT, 'actions/migrate-ticks/dist/index.js')], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          RUNNER_TEMP: work,
          GITHUB_OUTPUT: path.join(work, 'out'),
          'INPUT_SOURCE-URL': sourceUrl,
          'INPUT_TARGET-URL': ourTarget,
          INPUT_SETUP: 'none',
          INPUT_VERIFY: VERIFY,
          ...(WORKERS ? { INPUT_WORKERS: WORKERS } : {}),
        },
        dataDir: [source.dataDir, target.dataDir],
      });
    };
    const pairs = await alternatingPairs(PAIRS, stock, ours, (pair, round) =>
      console.log(
        `pair ${round}: COPY pipe ${pair.stock.seconds.toFixed(2)} s, migrate-ticks ${pair.ours.seconds.toFixed(2)} s ` +
          `= ${(pair.ours.seconds / pair.stock.seconds).toFixed(2)}×`,
      ),
    );
    const shape = INTO === 'hypertable' ? 'a TimescaleDB hypertable (1-day chunks)' : 'daily partitions';
    console.log(`
${ROWS.toLocaleString('en-US')} ticks over ${DAYS} days into ${shape}, PostgreSQL ${target.major}, ${os.cpus().length} CPUs, verify: ${VERIFY}, workers: ${WORKERS ?? 'default'}
${describePairs('migrate-ticks ÷ binary COPY pipe', pairs, '≤ 1.1×')}
  rows/s: migrate-ticks ${Math.round(ROWS / median(pairs.map((p) => p.ours.seconds))).toLocaleString('en-US')}, pipe ${Math.round(ROWS / median(pairs.map((p) => p.stock.seconds))).toLocaleString('en-US')}
  peak RSS of the action: ${(Math.max(...pairs.map((pair) => pair.ours.peakRssBytes)) / 1024 ** 2).toFixed(0)} MiB`);
  } finally {
    await Promise.all([source.stop(), target.stop()]);
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
