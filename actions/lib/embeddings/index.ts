/** Embeddings for existing rows: sources (config.ts, defaults.ts), embedders, and the backfill into a PointStore. */
export { backfillEmbeddings, type BackfillResult, type SourceResult } from './backfill.ts';
export { DISTANCES, loadSources, parseSources, type Distance, type EmbeddingSource } from './config.ts';
export { defaultSources } from './defaults.ts';
export { LocalEmbedder, type Embedder } from './embedder.ts';
export { OpenAiEmbedder } from './openai.ts';
export { PAYLOAD, type PointStore } from './points.ts';
