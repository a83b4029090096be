import { defineAction, documented } from '../../lib/action/descriptor.ts';
import { INPUTS } from './inputs.ts';
import { run, type BackfillEmbeddingsOutput } from './main.ts';

/**
 * backfill-embeddings: the one place its contract is written (action.yml and the README's tables are generated
 * from it).
 */
export default defineAction<BackfillEmbeddingsOutput>({
  name: 'backfill-embeddings',
  description:
    'Embed existing rows (trades, playbooks, journal entries) with any OpenAI-compatible endpoint into Qdrant: ' +
    'resumable, idempotent, prunes deleted rows.',
  branding: { icon: 'cpu', color: 'purple' },
  inputs: documented(INPUTS, {
    'database-url': { docs: 'The database whose rows are embedded; read only. Masked before the first log line.' },
    config: {
      defaultLabel: 'the seeds’ tables',
      docs:
        'YAML: `sources:`, each with `table`, `id` (default `id`), `text` (a template: `{column}` is the column’s ' +
        'value, NULL is empty), `columns` (computed columns for the template: name → SQL over the row `t`, e.g. ' +
        'the journal bodies of a trade), `payload` (columns copied into the payload, each indexed), `collection`, ' +
        '`distance` (default `Cosine`) and `where` (SQL on `t`). Without it: `trades` (symbol, side, prices, pnl, ' +
        'notes and its journal entries), `playbooks` and `journal_entries`, each when it exists. See ' +
        '[runbooks/backfill-embeddings.md](../../runbooks/backfill-embeddings.md).',
    },
    'qdrant-url': { docs: 'Qdrant REST URL. A missing collection is created, sized by the first embeddings answer.' },
    'qdrant-api-key': { docs: 'Sent as the `api-key` header. Masked before the first log line.' },
    'embeddings-url': {
      defaultLabel: 'the local embedder',
      docs:
        'POST …/embeddings as OpenAI defines it: OpenAI (`https://api.openai.com/v1`), Azure OpenAI (the ' +
        'deployment’s URL with `?api-version=`), Ollama (`http://localhost:11434/v1`), vLLM, LM Studio. Empty: the ' +
        'offline **deterministic local embedder, not semantic** (384 dimensions, feature hashing; for demos and ' +
        'tests: it needs no network and no model, and its vectors carry no meaning).',
    },
    'embeddings-model': {
      docs: 'Required with `embeddings-url`. Part of each point’s content hash: a new model re-embeds every row.',
    },
    'embeddings-api-key': {
      docs:
        'Sent as `Authorization: Bearer` (and `api-key` for Azure). Masked before the first log line; never in ' +
        'outputs or the summary. A wrong key fails with one line naming this input.',
    },
    'batch-size': { docs: 'Texts per request (OpenAI takes up to 2048).' },
    'max-batch-tokens': { docs: 'A batch closes early when its estimated tokens would pass this.' },
    concurrency: { docs: 'Batches embedded and written at once.' },
    'max-attempts': {
      docs:
        'HTTP 429 and 5xx are retried with jittered exponential backoff, or after the `Retry-After` the endpoint ' +
        'sends; then the run fails naming the batch (a rerun skips what was stored).',
    },
    'embeddings-timeout-seconds': { docs: 'A request that takes longer counts as a failed attempt.' },
    prune: {
      docs: 'Delete the points whose rows are gone (or outside `where`); off, they are counted in the summary.',
    },
  }),
  outputs: {
    embedded: { description: 'Rows embedded and written in this run.', docs: 'rows embedded and written' },
    skipped: {
      description: 'Rows whose stored point was current (same text and model).',
      docs: 'rows whose point was current',
    },
    deleted: { description: 'Points deleted because their rows are gone (prune).', docs: 'points pruned' },
    tokens: {
      description: 'Tokens the embeddings endpoint reported (words, for the local embedder).',
      docs: 'tokens the endpoint reported',
    },
  },
  run,
});
