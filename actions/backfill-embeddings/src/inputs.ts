import { ConfigurationError } from '../../lib/action/errors.ts';
import type { InputSpecs } from '../../lib/action/descriptor.ts';
import { InputReader } from '../../lib/action/input-reader.ts';
import type { Runtime } from '../../lib/action/runtime.ts';
import { LocalEmbedder, loadSources, OpenAiEmbedder, type Embedder } from '../../lib/embeddings/index.ts';
import type { EmbeddingSource } from '../../lib/embeddings/index.ts';
import { readTimeouts, TIMEOUT_INPUTS } from '../../lib/inputs/network.ts';
import { parseDatabaseUrl, type DatabaseUrl } from '../../lib/pg/connection.ts';
import { parseQdrantUrl, type QdrantNode } from '../../lib/qdrant/client.ts';

export const INPUTS = {
  'database-url': {
    description: 'postgresql:// URL of the database whose rows are embedded (a secret).',
    required: true,
    secret: 'url',
  },
  config: { description: 'YAML file of sources (table, id, text, payload, collection…); default: the seeds’ tables.' },
  'qdrant-url': { description: 'Qdrant REST URL, e.g. http://localhost:6333.', required: true },
  'qdrant-api-key': { description: 'Qdrant API key (a secret).', secret: true },
  'embeddings-url': {
    description:
      'OpenAI-compatible embeddings endpoint or its base URL (…/v1); empty: the offline deterministic local embedder.',
  },
  'embeddings-model': { description: 'Model name sent to the endpoint, e.g. text-embedding-3-small.' },
  'embeddings-api-key': { description: 'API key of the embeddings endpoint (a secret).', secret: true },
  'batch-size': { description: 'Texts per embeddings request.', default: '96' },
  'max-batch-tokens': {
    description: 'Estimated tokens per request (3 characters a token); keep it under the provider’s limit.',
    default: '100000',
  },
  concurrency: { description: 'Requests in flight at once.', default: '4' },
  'max-attempts': { description: 'Tries per batch on HTTP 429, 5xx or a dropped connection.', default: '3' },
  'embeddings-timeout-seconds': { description: 'How long one embeddings request may take.', default: '120' },
  prune: {
    description: 'Delete the points of rows that are gone from their table.',
    default: 'false',
    type: 'boolean',
  },
  ...TIMEOUT_INPUTS,
} as const satisfies InputSpecs;

export interface BackfillInputs {
  database: DatabaseUrl;
  /** undefined: the default sources. */
  sources: EmbeddingSource[] | undefined;
  sourcesFrom: string;
  qdrant: QdrantNode;
  embedder: Embedder;
  batchSize: number;
  maxBatchTokens: number;
  concurrency: number;
  prune: boolean;
}

export function readInputs(runtime: Runtime): BackfillInputs {
  const inputs = new InputReader(runtime, INPUTS);
  inputs.maskSecrets();
  inputs.checkRequired();
  const timeouts = readTimeouts(inputs);
  const keyOrigin = inputs.origin('qdrant-api-key');
  const configPath = inputs.optional('config');
  return inputs.fields<BackfillInputs>({
    database: () => parseDatabaseUrl(inputs.string('database-url'), inputs.origin('database-url')),
    sources: () => (configPath ? loadSources(configPath, inputs.origin('config')) : undefined),
    sourcesFrom: () => `${inputs.origin('config')} (${configPath ?? 'unset'})`,
    qdrant: () => ({
      url: parseQdrantUrl(inputs.string('qdrant-url'), inputs.origin('qdrant-url'), keyOrigin),
      apiKey: inputs.optional('qdrant-api-key'),
      keyOrigin,
      timeouts,
    }),
    embedder: () => readEmbedder(inputs, runtime),
    batchSize: () => inputs.integer('batch-size', { min: 1, max: 2048 }),
    maxBatchTokens: () => inputs.integer('max-batch-tokens', { min: 100 }),
    concurrency: () => inputs.integer('concurrency', { min: 1, max: 64 }),
    prune: () => inputs.boolean('prune'),
  });
}

function readEmbedder(inputs: InputReader, runtime: Runtime): Embedder {
  const url = inputs.optional('embeddings-url');
  const model = inputs.optional('embeddings-model');
  if (!url) {
    if (model || inputs.optional('embeddings-api-key')) {
      throw new ConfigurationError(
        `${inputs.origin('embeddings-model')} or ${inputs.origin('embeddings-api-key')} is set without ` +
          `${inputs.origin('embeddings-url')}: set the endpoint too, or neither for the local embedder.`,
      );
    }
    return new LocalEmbedder();
  }
  if (!model) {
    throw new ConfigurationError(
      `${inputs.origin('embeddings-url').title} is set: set ${inputs.origin('embeddings-model')} too ` +
        '(e.g. text-embedding-3-small, or the model name your server serves).',
    );
  }
  return new OpenAiEmbedder({
    url,
    urlOrigin: inputs.origin('embeddings-url'),
    model,
    apiKey: inputs.optional('embeddings-api-key'),
    keyOrigin: inputs.origin('embeddings-api-key'),
    attempts: inputs.integer('max-attempts', { min: 1, max: 20 }),
    timeoutMs: inputs.integer('embeddings-timeout-seconds', { min: 1, max: 3600 }) * 1000,
    log: (line) => runtime.warning(line),
  });
}
