import path from 'node:path';
import { ConfigurationError } from '../../lib/action/errors.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import { emptyConfig, loadConfig, type IntegrityConfig } from '../../lib/integrity/config.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../lib/pg/connection.ts';
import { parseQdrantUrl, type QdrantNode } from '../../lib/qdrant/client.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { readSourceOpener, SOURCE_INPUTS } from '../../lib/inputs/source.ts';
import { readStores } from '../../lib/inputs/storage.ts';
import { Origin } from '../../lib/action/origin.ts';
import type { FileSource } from '../../lib/files/source.ts';
import type { Store, Timeouts } from '../../lib/storage/index.ts';
import type { CapacitySettings } from '../../lib/integrity/capacity.ts';

export const INPUTS = {
  'database-url': {
    description: 'postgresql:// URL of the database to check (a secret).',
    required: true,
    secret: 'url',
  },
  'compare-url': {
    description:
      'postgresql:// URL of a database that must hold the same data and schema (row counts, content, schema, grants ' +
      'and RLS parity).',
    secret: 'url',
  },
  config: {
    description: 'YAML file of tables, relations, embeddings, TimescaleDB expectations, backups and custom checks.',
  },
  'qdrant-url': { description: 'Qdrant REST URL, for embeddings checks.' },
  'qdrant-api-key': { description: 'Qdrant API key (a secret).', secret: true },
  'storage-url': { description: 'Where the backups are, for backup freshness and files checks.' },
  'max-disk-percent': {
    description: 'Capacity: a local destination disk, a storage quota or a database quota this full (percent) fails.',
    default: '80',
  },
  'storage-quota-bytes': { description: 'Capacity: the bytes the backups may take under each S3 destination.' },
  'database-quota-bytes': { description: "Capacity: the database's quota in bytes (its plan's disk size)." },
  ...SOURCE_INPUTS,
  'fail-on': {
    description: 'error: fail when a check fails; warning: also on warnings; never: report only.',
    default: 'error',
  },
  'report-path': { description: 'Where to write the JSON report; default: in the runner’s temp folder.' },
  ...TIMEOUT_INPUTS,
} as const satisfies InputSpecs;

export interface IntegrityInputs {
  database: DatabaseUrl;
  compare?: DatabaseUrl;
  config: IntegrityConfig;
  qdrant?: QdrantNode;
  stores: Store[];
  capacity: CapacitySettings;
  fileSources: Map<string, FileSource>;
  failOn: 'error' | 'warning' | 'never';
  reportPath: string;
}

export function readInputs(runtime: Runtime): IntegrityInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const configPath = inputs.optional('config');
  // Read for every connection: fields() names a bad timeout once.
  const timeouts = (): Timeouts => readTimeouts(inputs);
  const { openSource, ...read } = inputs.fields({
    database: () => parseDatabaseUrl(inputs.string('database-url'), inputs.origin('database-url')),
    compare: () => readCompare(inputs),
    config: () => (configPath ? loadConfig(configPath, inputs.origin('config')) : emptyConfig()),
    qdrant: () => readQdrant(inputs, timeouts),
    stores: () =>
      readStores(inputs, 'storage-url', { ...runtime.context.s3, timeouts: timeouts() }, { optional: true }),
    capacity: () =>
      inputs.fields<CapacitySettings>({
        maxPercent: () => inputs.optionalNumber('max-disk-percent', { min: 1, max: 100 }) ?? 80,
        storageQuotaBytes: () => inputs.optionalNumber('storage-quota-bytes', { min: 1 }),
        databaseQuotaBytes: () => inputs.optionalNumber('database-quota-bytes', { min: 1 }),
      }),
    openSource: () => readSourceOpener(runtime, inputs, timeouts()),
    failOn: () => inputs.choice('fail-on', ['error', 'warning', 'never'] as const),
    reportPath: () =>
      inputs.optional('report-path') ?? path.join(runtime.context.tempDir, 'backstop-integrity-report.json'),
  });
  // The config is checked against the other inputs once both are known to be good.
  return { ...read, fileSources: readConfigNeeds(inputs, read, openSource, configPath) };
}

/** What the config needs of the other inputs, a line each when missing; then the sources its files checks read. */
function readConfigNeeds(
  inputs: InputReader,
  read: Pick<IntegrityInputs, 'config' | 'qdrant' | 'stores'>,
  openSource: (url: string, origin: Origin) => FileSource,
  configPath: string | undefined,
): Map<string, FileSource> {
  const { config } = read;
  return inputs.fields({
    qdrantUrl: () => {
      if (config.embeddings.length > 0 && !read.qdrant) {
        throw new ConfigurationError(
          'The config has embeddings checks: set input "qdrant-url" (and "qdrant-api-key").',
        );
      }
    },
    storageUrl: () => {
      if ((config.backups.length > 0 || config.files.length > 0) && read.stores.length === 0) {
        throw new ConfigurationError(
          'The config has backups or files checks: set input "storage-url" to where the backups are.',
        );
      }
    },
    fileSources: () =>
      new Map(
        config.files.map((files, index) => [
          files.name,
          openSource(files.sourceUrl, Origin.internal(`config ${configPath}: files[${index}].source-url`)),
        ]),
      ),
  }).fileSources;
}

function readCompare(inputs: InputReader): DatabaseUrl | undefined {
  const compare = inputs.optional('compare-url');
  return compare ? parseDatabaseUrl(compare, inputs.origin('compare-url')) : undefined;
}

/** Qdrant only when qdrant-url is given; its URL is checked before the timeouts it shares. */
function readQdrant(inputs: InputReader, timeouts: () => Timeouts): QdrantNode | undefined {
  const url = inputs.optional('qdrant-url');
  if (!url) return undefined;
  const keyOrigin = inputs.origin('qdrant-api-key');
  return {
    url: parseQdrantUrl(url, inputs.origin('qdrant-url'), keyOrigin),
    apiKey: inputs.optional('qdrant-api-key'),
    keyOrigin,
    timeouts: timeouts(),
  };
}
