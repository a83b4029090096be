import type pg from 'pg';
import { fail, pass, type CheckResult } from '../check.ts';
import { differences } from './diff.ts';
import { readDefaultPrivileges, readGrants } from './grants.ts';
import { readFunctions } from './functions.ts';
import type { SchemaObject } from './objects.ts';
import { readPolicies } from './policies.ts';
import { readConstraints, readExtensions, readIndexes, readSequences, readTriggers, readViews } from './relations.ts';
import { readColumns, readTables } from './tables.ts';

export interface SchemaSide {
  client: pg.Client;
  label: string;
}

/** How many differences a finding names; the report's details hold them all. */
const NAMED = 5;

const RESULTS: { area: SchemaObject['area']; name: string; what: string }[] = [
  {
    area: 'schema',
    name: 'schema',
    what: 'tables, columns, indexes, constraints, views, functions, triggers, sequences, extensions',
  },
  { area: 'grants', name: 'schema: grants', what: 'grants and default privileges' },
  // The seeds' "RLS validation: verify RLS policies after migrations", as its own named check.
  { area: 'rls', name: 'RLS validation', what: 'row level security and policies' },
];

/**
 * Schema parity: the two databases compared object by object (tables and columns, indexes, constraints, views,
 * functions by signature and body hash, triggers, sequences and their values, extensions; grants and default
 * privileges; row level security and every policy), each difference named. Tables the config excludes are left
 * out with everything on them.
 */
export async function checkSchema(sides: [SchemaSide, SchemaSide], exclude: string[]): Promise<CheckResult[]> {
  const excluded = new Set(exclude.map((name) => (name.includes('.') ? name : `public.${name}`)));
  const [first, second] = await Promise.all([readSchema(sides[0].client), readSchema(sides[1].client)]);
  const kept = (objects: SchemaObject[]): SchemaObject[] =>
    objects.filter((object) => object.relation === undefined || !excluded.has(object.relation));
  const labels: [string, string] = [sides[0].label, sides[1].label];
  return RESULTS.map(({ area, name, what }) => {
    const inArea = (objects: SchemaObject[]): SchemaObject[] => kept(objects).filter((o) => o.area === area);
    const found = differences([inArea(first), inArea(second)], labels);
    if (found.length === 0) return pass(name, `identical: ${counted(inArea(first)) || `no ${what}`}`);
    const more = found.length > NAMED ? ` (and ${found.length - NAMED} more)` : '';
    return fail(name, `${found.slice(0, NAMED).join('; ')}${more}`, { differences: found });
  });
}

async function readSchema(client: pg.Client): Promise<SchemaObject[]> {
  const readers = [
    readTables,
    readColumns,
    readIndexes,
    readConstraints,
    readViews,
    readFunctions,
    readTriggers,
    readSequences,
    readExtensions,
    readGrants,
    readDefaultPrivileges,
    readPolicies,
  ];
  const objects: SchemaObject[] = [];
  // One after another: a client runs one query at a time anyway.
  for (const read of readers) objects.push(...(await read(client)));
  return objects;
}

/** "3 tables, 21 columns, 4 indexes" */
function counted(objects: SchemaObject[]): string {
  const counts = new Map<string, number>();
  for (const object of objects) counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
  return [...counts].map(([kind, count]) => `${count} ${count === 1 ? kind : plural(kind)}`).join(', ');
}

function plural(kind: string): string {
  if (kind.startsWith('table with ')) return kind.replace(/^table/, 'tables');
  if (kind.endsWith('y')) return `${kind.slice(0, -1)}ies`;
  if (kind.endsWith('x')) return `${kind}es`;
  return `${kind}s`;
}
