import type pg from 'pg';
import type { EmbeddingSource } from './config.ts';

/**
 * The seeds' tables (story 1.10: trades, playbooks, journal entries), used when no config is given. Each text is
 * built from the columns the table has of a known list, so the same defaults fit the sample database and a real
 * one; a table that does not exist is skipped with a notice.
 */
interface DefaultSpec {
  table: string;
  text: string[];
  payload: string[];
  /** Journal bodies joined to each trade, when journal_entries has trade_id and body. */
  joinJournal?: boolean;
}

const SPECS: DefaultSpec[] = [
  {
    table: 'trades',
    text: ['symbol', 'side', 'quantity', 'entry_price', 'exit_price', 'pnl', 'setup', 'notes'],
    payload: ['symbol', 'side', 'user_id', 'account_id', 'opened_at'],
    joinJournal: true,
  },
  {
    table: 'playbooks',
    text: ['name', 'title', 'description', 'rules', 'body', 'notes'],
    payload: ['user_id', 'name'],
  },
  { table: 'journal_entries', text: ['title', 'body', 'mood'], payload: ['trade_id', 'user_id', 'mood', 'created_at'] },
];

const JOURNAL = "(SELECT string_agg(j.body, ' ' ORDER BY j.id) FROM journal_entries j WHERE j.trade_id = t.id)";

export async function defaultSources(db: pg.Client): Promise<EmbeddingSource[]> {
  const sources: EmbeddingSource[] = [];
  for (const spec of SPECS) {
    const columns = await columnsOf(db, spec.table);
    const text = spec.text.filter((column) => columns.has(column));
    const journal = spec.joinJournal && (await hasColumns(db, 'journal_entries', ['id', 'trade_id', 'body']));
    const parts = [...text.map((column) => `${column}: {${column}}`), ...(journal ? ['journal: {journal}'] : [])];
    sources.push({
      table: spec.table,
      id: 'id',
      // A table that exists without any known text column still gets a point per row (its id as the text).
      text: parts.length > 0 ? parts.join('; ') : `${spec.table} {id}`,
      columns: journal ? { journal: JOURNAL } : {},
      payload: spec.payload.filter((column) => columns.has(column)),
      collection: spec.table,
      distance: 'Cosine',
      optional: true,
    });
  }
  return sources;
}

async function columnsOf(db: pg.Client, table: string): Promise<Set<string>> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute
     WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  return new Set(rows.map((row) => row.name));
}

async function hasColumns(db: pg.Client, table: string, names: string[]): Promise<boolean> {
  const columns = await columnsOf(db, table);
  return names.every((name) => columns.has(name));
}
