import type pg from 'pg';
import type { SchemaObject } from './objects.ts';
import { notExtensionMember, RELATION_NAME, userSchema } from './scope.ts';

const COMMANDS: Record<string, string> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' };

/** Every row level security policy: its command, whether it is permissive, its roles, USING and WITH CHECK. */
export async function readPolicies(client: pg.Client): Promise<SchemaObject[]> {
  const { rows } = await client.query<{
    relation: string;
    name: string;
    command: string;
    permissive: boolean;
    roles: string;
    using: string | null;
    check: string | null;
  }>(`
    SELECT ${RELATION_NAME} AS relation, p.polname AS name, p.polcmd AS command, p.polpermissive AS permissive,
      array_to_string(array(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END
        FROM unnest(p.polroles) AS r ORDER BY 1), ', ') AS roles,
      pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS check
    FROM pg_policy p
    JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY 1, 2`);
  return rows.map((row) => ({
    area: 'rls',
    kind: 'policy',
    key: `policy "${row.name}" on ${row.relation}`,
    relation: row.relation,
    attributes: {
      command: COMMANDS[row.command] ?? row.command,
      type: row.permissive ? 'PERMISSIVE' : 'RESTRICTIVE',
      roles: row.roles,
      USING: row.using,
      'WITH CHECK': row.check,
    },
  }));
}
