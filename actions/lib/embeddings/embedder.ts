import { createHash } from 'node:crypto';

/** Which batch a request embeds, for progress and for errors that must say which rows failed. */
export interface BatchLabel {
  source: string;
  /** 1-based */
  number: number;
  /** First and last row id of the batch. */
  firstRow: string;
  lastRow: string;
}

export function describeBatch(batch: BatchLabel): string {
  return `batch ${batch.number} of ${batch.source} (rows ${batch.firstRow}–${batch.lastRow})`;
}

export interface Embeddings {
  vectors: number[][];
  tokens: number;
}

/** Turns texts into vectors: an OpenAI-compatible endpoint (openai.ts) or the local embedder below. */
export interface Embedder {
  /** For logs and the summary, e.g. "text-embedding-3-small at https://api.openai.com/v1/embeddings". */
  readonly label: string;
  /** Goes into each point's content hash: another model re-embeds every row. */
  readonly model: string;
  embed(texts: string[], batch: BatchLabel): Promise<Embeddings>;
}

export const LOCAL_DIMENSIONS = 384;
export const LOCAL_MODEL = `backstop-local-hash-${LOCAL_DIMENSIONS}`;

/**
 * Offline and deterministic: each word and word pair is hashed to a dimension and a sign (feature hashing), and
 * the vector is scaled to unit length. Texts sharing words land near each other, but there is no meaning in it:
 * it exists so the demo and the tests need no network and no model download, and it says so wherever it shows.
 */
export class LocalEmbedder implements Embedder {
  readonly label = `deterministic local embedder, not semantic (${LOCAL_DIMENSIONS} dimensions)`;
  readonly model = LOCAL_MODEL;

  async embed(texts: string[]): Promise<Embeddings> {
    let tokens = 0;
    const vectors = texts.map((text) => {
      const words = text.toLowerCase().match(/[\p{L}\p{N}_.-]+/gu) ?? [];
      tokens += words.length;
      return hashedVector(words);
    });
    return { vectors, tokens };
  }
}

function hashedVector(words: string[]): number[] {
  const vector = new Array<number>(LOCAL_DIMENSIONS).fill(0);
  const features = [...words, ...words.slice(1).map((word, index) => `${words[index]} ${word}`)];
  for (const feature of features) {
    const digest = createHash('sha256').update(feature).digest();
    vector[digest.readUInt32BE(0) % LOCAL_DIMENSIONS]! += digest[4]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...vector);
  // An empty text still needs a valid vector: a zero vector has no direction for cosine distance.
  if (norm === 0) return vector.map((_, index) => (index === 0 ? 1 : 0));
  return vector.map((value) => value / norm);
}
