/**
 * Benchmark: dump-postgres and restore-drill against the stock tools, same machine, same run.
 *
 *   node bench/dump-restore.ts [--rows 10000000] [--pairs 5] [--directory]
 *
 * Builds the seeds' tick_data (story 1.6: time, symbol, bid/ask/last numeric(20,8), volume bigint, source,
 * trade_id, account_id; an index on symbol, time) of --rows rows in a throwaway cluster, then runs alternating pairs
 * (stock first in odd pairs, Backstop first in even ones) of:
 *   dump:   the dump-postgres bundle (zstd + age + sha256 → a local folder, row counts, manifest) vs
 *           pg_dump -Fc -Z0 > /dev/null, and vs the stock tools doing the same work
 *           (pg_dump -Fc -Z0 | zstd -1 | age | tee >(openssl sha256) > file && sync)
 *   drill:  the restore-drill bundle into an empty database vs pg_restore of a pg_dump -Fc -Z0 file
 *   --directory: format directory with 2 jobs vs pg_dump -Fd -j 2 --compress=1, then age and sha256 each file
 * and prints, per comparison, the median of the pair ratios (with min and max) and the median wall time, CPU
 * seconds (user + system, the command and everything it waited for) and the server's CPU seconds of each side.
 * Numbers, not assertions: run it on an idle machine.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateIdentity, recipientOf } from '../actions/lib/crypto/age.ts';
import { startScratchCluster, type ScratchCluster } from '../actions/lib/pg/cluster.ts';
import { findToolVersions } from '../actions/lib/pg/tools.ts';
import { alternatingPairs, describePairs, measure, runnerEnv, type Measured } from './measure.ts';
import { query } from './sql.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).join(' ');
const ROWS = Number(/--rows[= ](\d+)/.exec(args)?.[1] ?? 10_000_000);
const PAIRS = Number(/--pairs[= ](\d+)/.exec(args)?.[1] ?? 5);
const DIRECTORY = args.includes('--directory');

async function freshDatabase(cluster: ScratchCluster, name: string): Promise<string> {
  await query(cluster.url, `DROP DATABASE IF EXISTS ${name}`);
  await query(cluster.url, `CREATE DATABASE ${name}`);
  return cluster.urlFor(name);
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** The seeds' tick shape, with values shaped like market data (a wave, symbols, sources, some NULLs). */
function ticksSql(rows: number): string {
  return `
    CREATE TABLE tick_data (time timestamptz NOT NULL, symbol text NOT NULL, bid_price numeric(20,8),
      ask_price numeric(20,8), last_price numeric(20,8), volume bigint, source text, trade_id uuid, account_id uuid);
    INSERT INTO tick_data
    SELECT timestamptz '2026-01-05' + i * interval '10 milliseconds' + (i % 1000) * interval '1 microsecond',
           (ARRAY['ES','NQ','BTCUSD','EURUSD'])[1 + i % 4],
           round((99.99 + 10 * sin(i / 5000.0))::numeric, 8), round((100.01 + 10 * sin(i / 5000.0))::numeric, 8),
           round((100 + 10 * sin(i / 5000.0) + (i % 97) / 100.0)::numeric, 8), 1 + i % 13,
           (ARRAY['polygon','binance','ib'])[1 + i % 3],
           CASE WHEN i % 10 = 0 THEN md5(i::text)::uuid END, md5((i % 11)::text)::uuid
    FROM generate_series(0, ${rows} - 1) AS i;
    CREATE INDEX ON tick_data (symbol, time DESC);`;
}

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
    await query(source, ticksSql(ROWS));
    await query(source, 'VACUUM ANALYZE tick_data');
    const size = (await query(source, "SELECT pg_size_pretty(pg_database_size('ticks')) AS s")).rows[0].s;
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s, database ${size}`);

    const identity = generateIdentity();
    const recipient = recipientOf(identity);
    const archive = path.join(work, 'stock.dump');
    await measure(pgDump.path, ['-Fc', '-Z0', '-f', archive, '-d', source]);
    const dataDir = cluster.dataDir;
    const dumpAction = path.join(ROOT, 'actions/dump-postgres/dist/index.js');
    const drillAction = path.join(ROOT, 'actions/restore-drill/dist/index.js');
    const ourDump = async (round: string, extra: Record<string, string> = {}): Promise<Measured> => {
      const storage = path.join(work, `backups-${round}`);
      const inputs = {
        'database-url': source,
        name: 'bench',
        'storage-url': storage,
        'encryption-recipients': recipient,
      };
      const measured = await measure(process.execPath, [dumpAction], {
        env: runnerEnv({ ...inputs, ...extra }, work),
        dataDir,
      });
      await fs.rm(storage, { recursive: true, force: true });
      return measured;
    };
    const bash = (script: string): Promise<Measured> => measure('bash', ['-o', 'pipefail', '-c', script], { dataDir });
    const log = (label: string) => (pair: { stock: Measured; ours: Measured }, round: number) =>
      console.log(
        `  ${label} pair ${round}: stock ${pair.stock.seconds.toFixed(2)} s, Backstop ${pair.ours.seconds.toFixed(2)} s`,
      );

    const dumpPairs = await alternatingPairs(
      PAIRS,
      () => bash(`"${pgDump.path}" -Fc -Z0 -d "${source}" > /dev/null`),
      () => ourDump('dump'),
      log('dump vs pg_dump'),
    );
    const stockFile = path.join(work, 'stock.dump.zst.age');
    const pipePairs = await alternatingPairs(
      PAIRS,
      () =>
        bash(
          `"${pgDump.path}" -Fc -Z0 -d "${source}" | zstd -1 -q | age -r ${recipient} ` +
            `| tee >(openssl dgst -sha256 > "${stockFile}.sha256") > "${stockFile}" && sync "${stockFile}"`,
        ),
      () => ourDump('pipe'),
      log('dump vs stock pipeline'),
    );
    const storage = path.join(work, 'drill-source');
    await measure(process.execPath, [dumpAction], {
      env: runnerEnv(
        { 'database-url': source, name: 'bench', 'storage-url': storage, 'encryption-recipients': recipient },
        work,
      ),
    });
    const drillPairs = await alternatingPairs(
      PAIRS,
      async () => {
        const target = await freshDatabase(cluster, 'stock_restore');
        const measured = await measure(
          pgRestore.path,
          ['--no-owner', '--no-acl', '--exit-on-error', '-d', target, archive],
          { dataDir },
        );
        await query(cluster.url, 'DROP DATABASE stock_restore');
        return measured;
      },
      async () => {
        const target = await freshDatabase(cluster, 'drill_restore');
        const inputs = { 'storage-url': storage, name: 'bench', 'encryption-identity': identity, 'target-url': target };
        const measured = await measure(process.execPath, [drillAction], { env: runnerEnv(inputs, work), dataDir });
        await query(cluster.url, 'DROP DATABASE drill_restore');
        return measured;
      },
      log('drill vs pg_restore'),
    );
    let directoryPairs: { stock: Measured; ours: Measured }[] = [];
    if (DIRECTORY) {
      const dir = path.join(work, 'stock-dir');
      const out = path.join(work, 'stock-dir-out');
      directoryPairs = await alternatingPairs(
        PAIRS,
        () =>
          bash(
            `rm -rf "${dir}" "${out}" && mkdir "${out}" && "${pgDump.path}" -Fd -j 2 --compress=1 -f "${dir}" -d "${source}" ` +
              `&& for f in "${dir}"/*; do age -r ${recipient} < "$f" | tee >(openssl dgst -sha256 > "${out}/$(basename "$f").sha256") ` +
              `> "${out}/$(basename "$f").age"; done && sync "${out}"/*`,
          ),
        () => ourDump('directory', { format: 'directory', jobs: '2' }),
        log('directory'),
      );
    }
    const peak = (pairs: { ours: Measured }[]): string => mib(Math.max(...pairs.map((pair) => pair.ours.peakRssBytes)));
    console.log(`
${ROWS.toLocaleString('en-US')} ticks (the seeds' shape), PostgreSQL ${cluster.major}, ${os.cpus().length} CPUs
${describePairs('dump ÷ pg_dump -Fc -Z0 > /dev/null', dumpPairs, '≤ 1.10×')}
${describePairs('dump ÷ the stock pipeline doing the same work', pipePairs, '≤ 0.9×')}
${describePairs('drill ÷ pg_restore', drillPairs, '≤ 1.1×')}${DIRECTORY ? `\n${describePairs('directory format, 2 jobs ÷ pg_dump -Fd -j 2 + age', directoryPairs, 'none')}` : ''}
  peak RSS of the action processes: dump ${peak(dumpPairs)}, drill ${peak(drillPairs)} (target < 200 MiB)`);
  } finally {
    await cluster.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
