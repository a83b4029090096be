/**
 * Benchmark: a point-in-time drill (restore-drill `to-time` of a backup-physical backup) against pgBackRest's own
 * restore plus PostgreSQL's recovery run by hand, same machine, same repository, same target.
 *
 *   node bench/pitr.ts [--rows 8000000] [--wal-rows 4000000] [--pairs 3]
 *
 * Builds the seeds' tick_data (--rows: 8 M is about 1 GB) in a throwaway cluster that archives its WAL through
 * pgBackRest (set up by `backstop archive-config` into a file:// repository, aes-256-cbc), takes a full base
 * backup with the backup-physical bundle, then writes --wal-rows more ticks (4 M is about 1 GB of WAL), records the
 * target time T, writes a canary row after it and archives. Then alternating pairs (stock first in odd pairs) of:
 *   stock:    pgbackrest restore --type=time --target=T --target-action=promote into a fresh folder, pg_ctl start,
 *             wait until pg_is_in_recovery() is false, stop, remove the folder
 *   Backstop: the restore-drill bundle with to-time T and a verify-sql (the canary after T is absent), which does
 *             the same plus the checks of the recovery log, the last replayed transaction and the drill record
 * and prints the median of the pair ratios with the wall and CPU seconds of each side (the target is ≤ 1.1×).
 * Numbers, not assertions: run it on an idle machine, as root (pgBackRest and the server run as postgres).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ticksInsertSql, TICK_TABLE_SQL } from '../actions/cli/src/sample-data.ts';
import { startScratchCluster, freePort } from '../actions/lib/pg/cluster.ts';
import { alternatingPairs, describePairs, measure, runnerEnv, type Measured } from './measure.ts';
import { query } from './sql.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2).join(' ');
const ROWS = Number(/--rows[= ](\d+)/.exec(args)?.[1] ?? 8_000_000);
const WAL_ROWS = Number(/--wal-rows[= ](\d+)/.exec(args)?.[1] ?? 4_000_000);
const PAIRS = Number(/--pairs[= ](\d+)/.exec(args)?.[1] ?? 3);
const PASSPHRASE = 'bench-pitr-passphrase-0123456789abcdef';
const CLI = path.join(ROOT, 'actions/cli/dist/index.js');
const TICK_STEP = "interval '10 milliseconds'";

/** Runs a command to its end (setup steps, not measured); throws with its output on failure. */
function run(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, argv, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${argv.join(' ')}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

const asPostgres = (command: string, argv: string[]): [string, string[]] =>
  process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...argv]] : [command, argv];

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'backstop-bench-pitr-'));
  await fs.chmod(work, 0o777);
  for (const file of ['out', 'summary']) await fs.writeFile(path.join(work, file), '');
  const storage = path.join(work, 'storage');
  await fs.mkdir(storage, { mode: 0o777 });
  await fs.chmod(storage, 0o777);
  const cluster = await startScratchCluster({ baseDir: work });
  const env = { ...process.env, BACKSTOP_ENCRYPTION_PASSPHRASE: PASSPHRASE };
  try {
    const configFile = path.join(storage, 'etc', 'backstop-bench.conf');
    const configured = run(
      process.execPath,
      [
        CLI,
        'archive-config',
        '--name=bench',
        `--storage-url=file://${storage}`,
        `--pg-data=${cluster.dataDir}`,
        `--database-url=${cluster.url}`,
        `--config=${configFile}`,
      ],
      env,
    );
    for (const line of configured.split('\n').filter((l) => /^archive_|^wal_level/.test(l))) {
      const [name, value] = line.split(/ = /) as [string, string];
      await query(cluster.url, `ALTER SYSTEM SET ${name} = ${value.startsWith("'") ? value : `'${value}'`}`);
    }
    // pg_ctl restart keeps the command-line settings the cluster started with (port, socket folder); a log file, so
    // the server does not hold our pipe open (spawnSync would wait for it forever).
    const serverLog = path.join(path.dirname(cluster.dataDir), 'server.log');
    run(...asPostgres(path.join(cluster.binDir, 'pg_ctl'), ['-D', cluster.dataDir, '-l', serverLog, '-w', 'restart']));

    process.stdout.write(`Generating ${ROWS.toLocaleString('en-US')} ticks… `);
    let t0 = Date.now();
    await query(
      cluster.url,
      `${TICK_TABLE_SQL}
       CREATE TABLE canary (id int PRIMARY KEY);
       ${ticksInsertSql({ rows: ROWS, from: '2026-01-05', step: TICK_STEP })}
       CREATE INDEX ON tick_data (symbol, time DESC);
       CHECKPOINT`,
    );
    const size = (await query(cluster.url, 'SELECT pg_size_pretty(pg_database_size(current_database())) AS s')).rows[0]
      .s;
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s, database ${size}`);

    process.stdout.write('Full base backup (backup-physical)… ');
    t0 = Date.now();
    const backupInputs = {
      name: 'bench',
      'storage-url': `file://${storage}`,
      'pg-data': cluster.dataDir,
      'database-url': cluster.url,
      'encryption-passphrase': PASSPHRASE,
      type: 'full',
    };
    const backupEnv = runnerEnv(backupInputs, work);
    run(process.execPath, [path.join(ROOT, 'actions/backup-physical/dist/index.js')], backupEnv);
    const label = /^label<<(.+)\n(.*)\n/m.exec(await fs.readFile(path.join(work, 'out'), 'utf8'))?.[2];
    if (!label) throw new Error('backup-physical set no label output');
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s, ${label}`);

    process.stdout.write(`Writing ${WAL_ROWS.toLocaleString('en-US')} more ticks (the WAL to replay)… `);
    t0 = Date.now();
    const lsnBefore = (await query(cluster.url, 'SELECT pg_current_wal_lsn() AS l')).rows[0].l;
    // Later ticks than the base backup's: the WAL a recovery replays.
    await query(cluster.url, ticksInsertSql({ rows: WAL_ROWS, from: '2026-02-05', step: TICK_STEP }));
    await query(cluster.url, 'INSERT INTO canary VALUES (1)');
    const walBytes = (await query(cluster.url, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${lsnBefore}') AS b`))
      .rows[0].b;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const target = (await query(cluster.url, 'SELECT clock_timestamp() AS t')).rows[0].t.toISOString();
    await new Promise((resolve) => setTimeout(resolve, 500));
    await query(cluster.url, 'INSERT INTO canary VALUES (2)');
    run(...asPostgres('pgbackrest', [`--config=${configFile}`, '--stanza=bench', 'check']), env);
    console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s, ${(Number(walBytes) / 1024 ** 3).toFixed(2)} GiB of WAL`);

    const stock = async (): Promise<Measured> => {
      const dataDir = path.join(work, 'stock-data');
      const port = await freePort();
      const script = [
        'set -e',
        `pgbackrest --config=${configFile} --stanza=bench --pg1-path=${dataDir} --set=${label} --type=time ` +
          `"--target=${target.replace('T', ' ').replace('Z', '+00')}" --target-action=promote ` +
          '--log-level-console=warn restore',
        `"${cluster.binDir}/pg_ctl" -D ${dataDir} -l ${work}/stock.log -w -t 3600 ` +
          `-o "-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${work} -c archive_mode=off" start`,
        `until [ "$("${cluster.binDir}/psql" -h 127.0.0.1 -p ${port} -U postgres -At -c ` +
          `'SELECT pg_is_in_recovery()')" = f ]; do sleep 0.2; done`,
        `"${cluster.binDir}/pg_ctl" -D ${dataDir} -m fast -w stop`,
        `rm -rf ${dataDir}`,
      ].join('\n');
      const [command, argv] = asPostgres('bash', ['-c', script]);
      return measure(command, argv, { env: { ...env, PGBACKREST_REPO1_CIPHER_PASS: PASSPHRASE } });
    };
    const ours = (): Promise<Measured> =>
      measure(process.execPath, [path.join(ROOT, 'actions/restore-drill/dist/index.js')], {
        env: runnerEnv(
          {
            name: 'bench',
            'storage-url': `file://${storage}`,
            'to-time': target,
            'verify-sql': 'SELECT array_agg(id) = ARRAY[1] FROM canary',
            'encryption-passphrase': PASSPHRASE,
          },
          work,
        ),
      });
    const pairs = await alternatingPairs(PAIRS, stock, ours, (pair, round) =>
      console.log(
        `  pair ${round}: stock ${pair.stock.seconds.toFixed(2)} s, Backstop ${pair.ours.seconds.toFixed(2)} s`,
      ),
    );
    console.log(`
${ROWS.toLocaleString('en-US')} ticks (${size}) + ${(Number(walBytes) / 1024 ** 3).toFixed(2)} GiB of WAL, PostgreSQL ${cluster.major}, ${os.cpus().length} CPUs
${describePairs('PITR drill ÷ pgbackrest restore + recovery by hand', pairs, '≤ 1.1×')}`);
  } finally {
    await cluster.stop();
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
