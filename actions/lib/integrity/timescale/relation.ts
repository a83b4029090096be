import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../../action/errors.ts';
import { RELATION_NAME_SQL } from './sql.ts';

/** A table or view as the database resolved it. */
export interface Relation {
  schema: string;
  name: string;
}

export const key = (relation: Relation) => `${relation.schema}.${relation.name}`;

export async function queryRows<T extends pg.QueryResultRow>(
  db: pg.Client,
  text: string,
  values?: unknown[],
): Promise<T[]> {
  return (await db.query<T>(text, values)).rows;
}

/** The relation a name means (search_path included); undefined when there is none, an error when it is malformed. */
export async function resolveRelation(db: pg.Client, name: string, what: string): Promise<Relation | undefined> {
  let rows: { nspname: string; relname: string }[];
  try {
    rows = await queryRows(db, RELATION_NAME_SQL, [name]);
  } catch (error) {
    throw new ConfigurationError(
      `TimescaleDB check: ${what} "${name}" is not a relation name: ${errorMessage(error)}.`,
    );
  }
  return rows[0] && { schema: rows[0].nspname, name: rows[0].relname };
}
