/** Embedding coverage: a table's rows against a Qdrant collection's points (coverage.ts says how). */
export { checkEmbeddings } from './coverage.ts';
export { PAGE_SIZE, type EmbeddingMapping, type EmbeddingOptions } from './mapping.ts';
export { compareKeys } from './order.ts';
