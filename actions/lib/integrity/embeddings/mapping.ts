/** What the embedding coverage check compares: a table's key column against a Qdrant collection. */
export interface EmbeddingMapping {
  /** Schema-qualified or bare (resolved through the search_path), e.g. "public.trades". */
  table: string;
  /** The row key column, e.g. "id". */
  key: string;
  /** Qdrant collection. */
  collection: string;
  /**
   * Point id equals the key, or payload field <name> (a path such as "meta.trade_id" reaches into objects) equals
   * the key.
   */
  match: 'id' | { payload: string };
}

export interface EmbeddingOptions {
  /** How many missing and orphan keys to keep in the details (default 10; the finding shows up to 5). */
  sample?: number;
}

/** Rows fetched per cursor FETCH and points per scroll page. */
export const PAGE_SIZE = 10_000;
