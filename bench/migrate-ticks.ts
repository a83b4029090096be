/**
 * Benchmark: migrate-ticks against a bare binary COPY pipe into the same target shape, same machine, same run.
 *
 *   node bench/migrate-ticks.ts [--rows 10000000] [--rounds 2]
 *
 * A source cluster holds --rows ticks of the seeds' shape over 30 days; a target cluster gets, each round, a fresh
 * database with the partitioned shape (sql/postgres/tick_data.sql, daily partitions made ahead) and:
 *   stock: psql -c "COPY (SELECT …) TO STDOUT (FORMAT binary)" | psql -c "COPY tick_data FROM STDIN (FORMAT binary)"
 *   ours:  the migrate-ticks bundle (setup none, default workers, every range verified by count and checksum on
 *          both sides, ledger written), run as the runner runs it.
 * Prints rows/s of both, the ratio and the action's peak RSS.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScratchCluster, type ScratchCluster } from '../actions/lib/pg/cluster.ts';
import { findToolVersions } from '../actions/lib/pg/tools.ts';
import { ticksInsertSql, TICK_TABLE_SQL } from '../actions/cli/src/sample-data.ts';
import { SEED_TICK_TABLE } from '../actions/lib/ticks/ddl.ts';
import { measure, type Measured } from './measure.ts';
import { query } from './sql.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).join(' ');
const ROWS = Number(/--rows[= ](\d+)/.exec(args)?.[1] ?? 10_000_000);
const ROUNDS = Number(/--rounds[= ](\d+)/.exec(args)?.[1] ?? 2);
const DAYS = 30;
const FROM = '2026-01-05 00:00:00+00';
const SEED_COLUMNS = SEED_TICK_TABLE.columns.map((column) => column.name).join(', ');

/** The same target shape for both: the seeds' table in daily partitions, made ahead (migrate-ticks: setup none). */
async function freshTarget(cluster: ScratchCluster): Promise<string> {
  await query(cluster.url, 'DROP DATABASE IF EXISTS bench_target');
  await query(cluster.url, 'CREATE DATABASE bench_target');
  const url = cluster.urlFor('bench_target');
  await query(url, await fs.readFile(path.join(ROOT, 'sql/postgres/tick_data.sql'), 'utf8'));
  await query(url, `SELECT backstop_create_tick_partitions('2026-01-01', '2026-02-05')`);
  return url;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-bench-ticks-'));
  await fs.chmod(work, 0o755);
  await fs.writeFile(path.join(work, 'out'), '');
  const [source, target] = await Promise.all([
    startScratchCluster({ baseDir: work }),
    startScratchCluster({ baseDir: work }),
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

    const stock: Measured[] = [];
    const ours: Measured[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const stockTarget = await freshTarget(target);
      stock.push(
        await measure(
          'bash',
          [
            '-o',
            'pipefail',
            '-c',
            `"${psql.path}" -X -q -d "$SOURCE" -c "COPY (SELECT ${SEED_COLUMNS} FROM tick_data) TO STDOUT ` +
              `(FORMAT binary)" | "${psql.path}" -X -q -d "$TARGET" -c "COPY tick_data (${SEED_COLUMNS}) FROM ` +
              `STDIN (FORMAT binary)"`,
          ],
          { env: { ...process.env, SOURCE: sourceUrl, TARGET: stockTarget } },
        ),
      );

      const ourTarget = await freshTarget(target);
      ours.push(
        await measure(process.execPath, [path.join(ROOT, 'actions/migrate-ticks/dist/index.js')], {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            RUNNER_TEMP: work,
            GITHUB_OUTPUT: path.join(work, 'out'),
            'INPUT_SOURCE-URL': sourceUrl,
            'INPUT_TARGET-URL': ourTarget,
            INPUT_SETUP: 'none',
          },
        }),
      );
      console.log(
        `round ${round}: COPY pipe ${stock.at(-1)!.seconds.toFixed(2)} s, migrate-ticks ` +
          `${ours.at(-1)!.seconds.toFixed(2)} s`,
      );
    }
    const best = (runs: Measured[]): number => Math.min(...runs.map((run) => run.seconds));
    console.log(`
${ROWS.toLocaleString('en-US')} ticks over ${DAYS} days into daily partitions, PostgreSQL ${target.major}, ${os.cpus().length} CPUs, best of ${ROUNDS}
  migrate-ticks ${best(ours).toFixed(2)} s (${Math.round(ROWS / best(ours)).toLocaleString('en-US')} rows/s, every range verified)
  ÷ binary COPY pipe ${best(stock).toFixed(2)} s (${Math.round(ROWS / best(stock)).toLocaleString('en-US')} rows/s) = ${(best(ours) / best(stock)).toFixed(2)}×  (target ≤ 1.1×)
  peak RSS of the action: ${(Math.max(...ours.map((run) => run.peakRssBytes)) / 1024 ** 2).toFixed(0)} MiB`);
  } finally {
    await Promise.all([source.stop(), target.stop()]);
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
