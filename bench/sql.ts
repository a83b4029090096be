import pg from 'pg';

/** One statement (or several) on a fresh connection: the benches' setup, never what they measure. */
export async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}
