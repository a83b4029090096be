/**
 * One object of a database as the schema check compares it: a key that names it the same way in every database
 * (never an oid), and the attributes that must match. Each reader (tables.ts, functions.ts, …) makes these.
 */
export interface SchemaObject {
  /** Which of the check's results it belongs to. */
  area: 'schema' | 'grants' | 'rls';
  /** For counts in a finding: table, column, index, policy, grant… */
  kind: string;
  /** e.g. `column public.trades.quantity`, `policy "own trades" on public.trades`. */
  key: string;
  /** The table it belongs to (schema.name), so the config's `exclude` leaves it out with its table. */
  relation?: string;
  attributes: Record<string, string | null>;
  /** Attributes too long to print (a view's definition): a difference says "differs". */
  long?: string[];
  /** Attributes that hold an md5 (a function's body): a difference says "differs" with both hashes' beginnings. */
  hashed?: string[];
  /**
   * What the object's existence means, for objects that exist only where something is switched on (row level
   * security): "enabled in compare-url, not in database-url" reads better than "missing".
   */
  presence?: string;
}
