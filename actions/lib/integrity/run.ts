import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import { connect, type DatabaseUrl } from '../pg/connection.ts';
import type { QdrantNode } from '../qdrant/client.ts';
import type { Store } from '../storage/index.ts';
import { fail, type CheckResult } from './check.ts';
import type { IntegrityConfig } from './config.ts';
import { checkDatabaseCapacity, checkStoreCapacity, DEFAULT_CAPACITY, type CapacitySettings } from './capacity.ts';
import { checkCustom } from './custom.ts';
import type { FileSource } from '../files/source.ts';
import { checkFiles } from './files.ts';
import { checkEmbeddings } from './embeddings/index.ts';
import { pinSession } from '../pg/fingerprint.ts';
import { checkBackupFreshness } from './freshness.ts';
import { checkParity, checkWholeTable, type Side } from './parity.ts';
import { checkRelation, listRelations } from './relations.ts';
import { checkSchema } from './schema/index.ts';
import { checkRowCounts, discoverTables } from './tables.ts';
import { assertTimescaleLoaded } from '../pg/timescale.ts';
import { checkTimescale, compareTimescale } from './timescale/index.ts';
import { checkWalArchive, checkWalRepository } from './wal-archive.ts';
import type { RepositoryAccess } from '../pgbackrest/repository.ts';

/** Why a database on a server that does not preload TimescaleDB cannot be checked (a compressed chunk reads empty). */
const UNREADABLE = 'its hypertables cannot be read';

export interface IntegrityOptions {
  database: DatabaseUrl;
  compare?: DatabaseUrl;
  config: IntegrityConfig;
  qdrant?: QdrantNode;
  stores: Store[];
  /** How pgBackRest reaches the repositories of physical backups in those stores (their WAL age). */
  repository: RepositoryAccess;
  /** Default: fail at 80% (TD-102's alert), no quotas. */
  capacity?: CapacitySettings;
  /** The source bucket of each files check, opened with the source settings. */
  fileSources?: Map<string, FileSource>;
  log: (line: string) => void;
}

/**
 * Runs every check that applies: row counts, content parity, schema parity (grants and RLS included) and (when both
 * sides have TimescaleDB) the TimescaleDB comparison when there is a database to compare with, foreign keys always,
 * and embeddings, TimescaleDB shape, backup freshness and custom SQL when the config asks; capacity of every
 * destination given (and of the database against its quota). A check that cannot run
 * becomes a failed check saying why; only a configuration mistake (or a server that cannot serve TimescaleDB) stops
 * the whole run.
 */
export async function runIntegrity(options: IntegrityOptions): Promise<CheckResult[]> {
  const { config } = options;
  const db = await connect(options.database);
  let compare: pg.Client | undefined;
  try {
    compare = options.compare ? await connect(options.compare) : undefined;
    await Promise.all([pinSession(db), compare && pinSession(compare)]);
    await assertTimescaleLoaded(db, options.database, UNREADABLE);
    if (compare && options.compare) await assertTimescaleLoaded(compare, options.compare, UNREADABLE);
    const results: CheckResult[] = [];
    const run = async (name: string, check: () => Promise<CheckResult | CheckResult[]>): Promise<void> => {
      const started = Date.now();
      try {
        const outcome = await check();
        results.push(...(Array.isArray(outcome) ? outcome : [outcome]));
      } catch (error) {
        if (error instanceof ConfigurationError) throw error;
        results.push(fail(name, `could not run: ${errorMessage(error)}`));
      }
      options.log(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    };

    const tables = await discoverTables(db, config);
    if (compare) {
      const sides: [Side, Side] = [
        { client: db, label: 'database-url' },
        { client: compare, label: 'compare-url' },
      ];
      await run('row counts', () => checkRowCounts(sides, tables));
      for (const table of tables) {
        await run(`content parity: ${table.label}`, () =>
          table.axis.column ? checkParity(sides, table) : checkWholeTable(sides, table),
        );
      }
      await run('timescaledb parity', () => compareTimescale(sides, config.timescaleParity, options.log));
      await run('schema', () => checkSchema(sides, config.exclude));
    }
    for (const relation of await listRelations(db, config.relations)) {
      await run(`foreign keys: ${relation.from.table} → ${relation.to.table}`, () => checkRelation(db, relation));
    }
    for (const mapping of config.embeddings)
      await run(`embeddings: ${mapping.table} → ${mapping.collection}`, () =>
        checkEmbeddings(db, options.qdrant!, mapping),
      );
    for (const expectation of config.timescaledb)
      await run(`timescaledb: ${expectation.hypertable}`, () => checkTimescale(db, expectation));
    for (const backup of config.backups)
      await run(`backup freshness: ${backup.name}`, () => checkBackupFreshness(options.stores[0]!, backup));
    for (const backup of config.backups.filter((expectation) => expectation.maxWalAgeMinutes !== undefined)) {
      await run(`wal archive: ${backup.name}`, () => checkWalArchive(db, backup));
      await run(`wal repository: ${backup.name}`, () => checkWalRepository(options.stores, backup, options.repository));
    }
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    const names = config.backups.map((backup) => backup.name);
    for (const store of options.stores)
      await run(`capacity: ${store.displayUrl}`, () => checkStoreCapacity(store, names, capacity));
    if (capacity.databaseQuotaBytes !== undefined)
      await run('capacity: database', () => checkDatabaseCapacity(db, capacity));
    for (const files of config.files) {
      const source = options.fileSources?.get(files.name);
      if (source) await run(`files: ${files.name}`, () => checkFiles(source, options.stores[0]!, files.name));
    }
    for (const custom of config.custom) await run(`custom: ${custom.name}`, () => checkCustom(db, custom));
    return results;
  } finally {
    await Promise.all([db.end().catch(() => undefined), compare?.end().catch(() => undefined)]);
  }
}
