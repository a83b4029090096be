/**
 * Benchmark: validate-integrity's content parity against one full hashing scan of each side, same run.
 *
 *   node bench/validate-integrity.ts [--rows 10000000] [--rounds 3]
 *
 * One cluster holds a tick_data database of --rows ticks and an exact copy (CREATE DATABASE … TEMPLATE). Each round:
 *   stock: `SELECT sum(hashtext(t::text)) FROM tick_data t` on both databases at once (two psql processes);
 *   ours:  the validate-integrity bundle with a config naming tick_data (row counts + content parity by day,
 *          bisecting nothing since the copies are equal), run as the runner runs it.
 * Prints both times, the ratio and the action's peak RSS.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScratchCluster } from '../actions/lib/pg/cluster.ts';
import { findToolVersions } from '../actions/lib/pg/tools.ts';
import { ticksInsertSql, TICK_TABLE_SQL } from '../actions/cli/src/sample-data.ts';
import { measure, type Measured } from './measure.ts';
import { query } from './sql.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).join(' ');
const ROWS = Number(/--rows[= ](\d+)/.exec(args)?.[1] ?? 10_000_000);
const ROUNDS = Number(/--rounds[= ](\d+)/.exec(args)?.[1] ?? 3);

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-bench-integrity-'));
  await fs.chmod(work, 0o755);
  await fs.writeFile(path.join(work, 'out'), '');
  const config = path.join(work, 'integrity.yml');
  await fs.writeFile(config, 'tables:\n  - table: public.tick_data\n    time-column: time\n');
  const cluster = await startScratchCluster({ baseDir: work });
  try {
    const [psql] = await findToolVersions('psql');
    if (!psql) throw new Error('psql not found');
    await query(cluster.url, 'CREATE DATABASE ticks_a');
    const a = cluster.urlFor('ticks_a');
    process.stdout.write(`Generating ${ROWS.toLocaleString('en-US')} ticks and a copy… `);
    const t0 = Date.now();
    await query(
      a,
      `
      ${TICK_TABLE_SQL}
      ${ticksInsertSql({ rows: ROWS, from: '2026-01-05 00:00:00+00', step: `(interval '1 day' * 30 / ${ROWS})` })}
      `,
    );
    await query(a, 'VACUUM ANALYZE tick_data');
    await query(cluster.url, 'CREATE DATABASE ticks_b TEMPLATE ticks_a');
    const b = cluster.urlFor('ticks_b');
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const stock: Measured[] = [];
    const ours: Measured[] = [];
    const scan = 'SELECT sum(hashtext(t::text)) FROM tick_data t';
    for (let round = 1; round <= ROUNDS; round++) {
      stock.push(
        await measure(
          'bash',
          [
            '-c',
            `"${psql.path}" -X -q -d "$A" -c "${scan}" > /dev/null & "${psql.path}" -X -q -d "$B" -c "${scan}" > ` +
              `/dev/null & wait`,
          ],
          { env: { ...process.env, A: a, B: b } },
        ),
      );
      ours.push(
        await measure(process.execPath, [path.join(ROOT, 'actions/validate-integrity/dist/index.js')], {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            RUNNER_TEMP: work,
            GITHUB_OUTPUT: path.join(work, 'out'),
            'INPUT_DATABASE-URL': a,
            'INPUT_COMPARE-URL': b,
            INPUT_CONFIG: config,
          },
        }),
      );
      console.log(
        `round ${round}: two parallel hashing scans ${stock.at(-1)!.seconds.toFixed(2)} s, validate-integrity ` +
          `${ours.at(-1)!.seconds.toFixed(2)} s`,
      );
    }
    const best = (runs: Measured[]): number => Math.min(...runs.map((run) => run.seconds));
    console.log(`
${ROWS.toLocaleString('en-US')} ticks, two copies, PostgreSQL ${cluster.major}, ${os.cpus().length} CPUs, best of ${ROUNDS}
  validate-integrity (row counts + content parity of tick_data) ${best(ours).toFixed(2)} s
  ÷ sum(hashtext(t::text)) on both sides in parallel ${best(stock).toFixed(2)} s = ${(best(ours) / best(stock)).toFixed(2)}×  (target ≤ 1.3×)
  peak RSS of the action: ${(Math.max(...ours.map((run) => run.peakRssBytes)) / 1024 ** 2).toFixed(0)} MiB`);
  } finally {
    await cluster.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
