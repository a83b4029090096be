import type { Readable } from 'node:stream';

export interface StoredObject {
  /** Key relative to the destination's root, with forward slashes. */
  key: string;
  bytes: number;
}

/**
 * A backup destination: a local folder or an S3 prefix. Keys are relative to the destination's root.
 * `put` is atomic from a reader's point of view: an object is either absent or complete, never partial.
 */
export interface Store {
  /** How the destination is shown to people (no credentials ever appear in a storage URL). */
  readonly displayUrl: string;
  put(key: string, body: Readable): Promise<void>;
  get(key: string): Promise<Readable>;
  /** The object's size, or undefined when it does not exist. */
  head(key: string): Promise<number | undefined>;
  /** Every object under a key prefix (recursive), however many there are. */
  list(prefix: string): AsyncIterable<StoredObject>;
  delete(keys: string[]): Promise<void>;
  /** The absolute URL of a key, for outputs and summaries. */
  urlOf(key: string): string;
  /** Whether the destination itself (the folder, the bucket) is there: an empty one exists, a typo does not. */
  exists(): Promise<boolean>;
  /**
   * What writers killed outright left under a prefix: partial files of a local folder, unfinished multipart
   * uploads of S3. Never listed by `list`, never complete; removed with `removeLeftover` once old enough.
   */
  leftovers(prefix: string): AsyncIterable<Leftover>;
  removeLeftover(leftover: Leftover): Promise<void>;
}

export interface Leftover {
  /** The key it was being written to. */
  key: string;
  startedAt: Date;
  /** Which write it is (a partial file's name, a multipart upload id). */
  handle: string;
}

/**
 * How long a network peer may take: to accept the connection, and to send the next byte once connected. `setBy`
 * says where each is set (an Origin's text), for the advice in a timeout's error: the caller knows the inputs,
 * storage and the engines do not.
 */
export interface Timeouts {
  connectMs: number;
  idleMs: number;
  setBy?: { connect: string; idle: string };
}

/** What the shared inputs default to: a peer that has not connected in 10 s, or gone silent for 2 min, is stuck. */
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, idleMs: 120_000 };
