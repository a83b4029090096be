import type pg from 'pg';
import type { SchemaObject } from './objects.ts';
import { notExtensionMember, userSchema } from './scope.ts';

const KINDS: Record<string, string> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window function' };
const VOLATILITY: Record<string, string> = { i: 'IMMUTABLE', s: 'STABLE', v: 'VOLATILE' };

/**
 * Functions and procedures by signature (schema, name, argument types): what they return, their language, the
 * md5 of their body (a SQL-standard body, PostgreSQL 14+, is read from its parsed form), SECURITY DEFINER,
 * volatility, strictness and SET options.
 */
export async function readFunctions(client: pg.Client): Promise<SchemaObject[]> {
  const num = Number((await client.query<{ n: string }>('SHOW server_version_num')).rows[0]!.n);
  const body = num >= 140000 ? "p.prosrc || coalesce(pg_get_function_sqlbody(p.oid), '')" : 'p.prosrc';
  const { rows } = await client.query<{
    signature: string;
    kind: string;
    result: string | null;
    language: string;
    body: string;
    definer: boolean;
    volatility: string;
    strict: boolean;
    config: string | null;
  }>(`
    SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS signature,
      p.prokind AS kind, pg_get_function_result(p.oid) AS result, l.lanname AS language, md5(${body}) AS body,
      p.prosecdef AS definer, p.provolatile AS volatility, p.proisstrict AS strict,
      array_to_string(p.proconfig, ', ') AS config
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
    WHERE ${userSchema('n')} AND ${notExtensionMember('pg_proc', 'p.oid')}
    ORDER BY 1`);
  return rows.map((row) => {
    const kind = KINDS[row.kind] ?? 'function';
    return {
      area: 'schema',
      kind,
      key: `${kind} ${row.signature}`,
      attributes: {
        returns: row.result,
        language: row.language,
        body: row.body,
        'security definer': row.definer ? 'yes' : 'no',
        volatility: VOLATILITY[row.volatility] ?? row.volatility,
        strict: row.strict ? 'yes' : 'no',
        'SET options': row.config,
      },
      hashed: ['body'],
    };
  });
}
