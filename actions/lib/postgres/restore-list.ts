import type { Extension } from '../manifest/schema.ts';

/**
 * pg_restore's table of contents (`pg_restore --list --verbose`) and the part of it a target can take when it
 * lacks an extension of the source (a provider's pg_graphql, pg_cron, pgsodium …): everything but the extension,
 * what lives in the schemas it created, the objects that use it, and whatever depends on those. The list, with the
 * rest commented out, goes to pg_restore --use-list.
 */
export interface TocEntry {
  id: number;
  /** `<catalog oid> <object oid>`, as the manifest's extension dependents name objects. */
  catalog: string;
  /** e.g. TABLE, TABLE DATA, ACL, EXTENSION. */
  desc: string;
  /** The schema, or `-` for objects outside any schema. */
  namespace: string;
  /** What pg_restore prints after the schema: the name (and for ACLs and comments, the kind) and the owner. */
  rest: string;
  dependsOn: number[];
  /** The line as pg_restore printed it. */
  line: string;
}

/** pg_dump's entry kinds, longest first, so "TABLE DATA" is not read as "TABLE". */
const DESCS = [
  'PUBLICATION TABLES IN SCHEMA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'MATERIALIZED VIEW DATA',
  'FOREIGN DATA WRAPPER',
  'TEXT SEARCH TEMPLATE',
  'DATABASE PROPERTIES',
  'PROCEDURAL LANGUAGE',
  'TEXT SEARCH PARSER',
  'SUBSCRIPTION TABLE',
  'PUBLICATION TABLE',
  'MATERIALIZED VIEW',
  'SEQUENCE OWNED BY',
  'CHECK CONSTRAINT',
  'OPERATOR FAMILY',
  'OPERATOR CLASS',
  'SECURITY LABEL',
  'FOREIGN SERVER',
  'BLOB METADATA',
  'ACCESS METHOD',
  'EVENT TRIGGER',
  'FK CONSTRAINT',
  'FOREIGN TABLE',
  'LARGE OBJECT',
  'SEQUENCE SET',
  'ROW SECURITY',
  'TABLE ATTACH',
  'INDEX ATTACH',
  'USER MAPPING',
  'SUBSCRIPTION',
  'DEFAULT ACL',
  'PUBLICATION',
  'STDSTRINGS',
  'SEARCHPATH',
  'SHELL TYPE',
  'CONVERSION',
  'STATISTICS',
  'CONSTRAINT',
  'TABLESPACE',
  'TABLE DATA',
  'COLLATION',
  'PROCEDURE',
  'AGGREGATE',
  'EXTENSION',
  'TRANSFORM',
  'FUNCTION',
  'OPERATOR',
  'SEQUENCE',
  'ENCODING',
  'DATABASE',
  'DEFAULT',
  'COMMENT',
  'TRIGGER',
  'SCHEMA',
  'POLICY',
  'DOMAIN',
  'SERVER',
  'BLOBS',
  'INDEX',
  'TABLE',
  'BLOB',
  'CAST',
  'RULE',
  'TYPE',
  'VIEW',
  'ACL',
];

const ENTRY = /^(\d+); (\d+) (\d+) (.*)$/;
const DEPENDS = /^;\s+depends on:((?: \d+)*)\s*$/;

export function parseTocListing(text: string): TocEntry[] {
  const entries: TocEntry[] = [];
  for (const line of text.split('\n')) {
    const depends = DEPENDS.exec(line);
    if (depends && entries.length > 0) {
      entries.at(-1)!.dependsOn.push(...depends[1]!.trim().split(/\s+/).filter(Boolean).map(Number));
      continue;
    }
    const match = ENTRY.exec(line);
    if (!match) continue;
    const body = match[4]!;
    const desc = DESCS.find((candidate) => body.startsWith(`${candidate} `)) ?? body.split(' ')[0]!;
    const afterDesc = body.slice(desc.length + 1);
    const space = afterDesc.indexOf(' ');
    entries.push({
      id: Number(match[1]),
      catalog: `${match[2]} ${match[3]}`,
      desc,
      namespace: space < 0 ? afterDesc : afterDesc.slice(0, space),
      rest: space < 0 ? '' : afterDesc.slice(space + 1),
      dependsOn: [],
      line,
    });
  }
  return entries;
}

/** An entry the target cannot take, and the missing extension it needs. */
export interface LeftOutEntry {
  entry: TocEntry;
  extension: string;
}

/** Extensions that provide security labels: without them, SECURITY LABEL FOR … cannot be restored. */
const LABEL_PROVIDERS = new Set(['pgsodium', 'anon', 'sepgsql']);

/** What must be left out for the target to take the rest, each entry with the missing extension it needs. */
export function entriesToLeaveOut(entries: TocEntry[], missing: Extension[]): LeftOutEntry[] {
  const reason = new Map<number, string>();
  for (const extension of missing) {
    const schemas = new Set(extension.memberSchemas ?? []);
    const dependents = new Set(extension.dependents ?? []);
    for (const entry of entries) {
      if (reason.has(entry.id)) continue;
      if (
        belongsToExtension(entry, extension.name) ||
        inSchemas(entry, schemas) ||
        dependents.has(entry.catalog) ||
        (entry.desc === 'SECURITY LABEL' && LABEL_PROVIDERS.has(extension.name))
      ) {
        reason.set(entry.id, extension.name);
      }
    }
  }
  // Whatever depends on a left-out entry goes too (a table's data, indexes and grants follow the table), in
  // archive order until nothing changes: dependencies may point forward.
  for (let changed = true; changed; ) {
    changed = false;
    for (const entry of entries) {
      if (reason.has(entry.id)) continue;
      const needed = entry.dependsOn.find((id) => reason.has(id));
      if (needed !== undefined) {
        reason.set(entry.id, reason.get(needed)!);
        changed = true;
      }
    }
  }
  return entries.filter((entry) => reason.has(entry.id)).map((entry) => ({ entry, extension: reason.get(entry.id)! }));
}

/** `EXTENSION - pg_cron`, and the comment on it (`COMMENT - EXTENSION pg_cron`). */
function belongsToExtension(entry: TocEntry, name: string): boolean {
  if (entry.namespace !== '-') return false;
  if (entry.desc === 'EXTENSION') return entry.rest === name || entry.rest.startsWith(`${name} `);
  return entry.rest === `EXTENSION ${name}` || entry.rest.startsWith(`EXTENSION ${name} `);
}

/** In a schema the extension created, or that schema itself (`SCHEMA - cron`), its grants and its comment. */
function inSchemas(entry: TocEntry, schemas: ReadonlySet<string>): boolean {
  if (schemas.has(entry.namespace)) return true;
  if (entry.namespace !== '-') return false;
  let named: string;
  if (entry.desc === 'SCHEMA') named = entry.rest;
  else if (entry.rest.startsWith('SCHEMA ')) named = entry.rest.slice('SCHEMA '.length);
  else return false;
  return [...schemas].some((schema) => named === schema || named.startsWith(`${schema} `));
}

/** The listing with the left-out entries commented out: pg_restore --use-list skips them and keeps the order. */
export function useListOf(text: string, leftOut: LeftOutEntry[]): string {
  const ids = new Set(leftOut.map((item) => item.entry.id));
  return text
    .split('\n')
    .map((line) => {
      const match = ENTRY.exec(line);
      return match && ids.has(Number(match[1])) ? `;${line}` : line;
    })
    .join('\n');
}

/** The entry's name: what follows the schema, without the owner (pg_restore prints an empty owner as a space). */
export function entryName(entry: TocEntry): string {
  return (entry.line.endsWith(' ') ? entry.rest : entry.rest.replace(/ \S+$/, '')).trim() || entry.rest.trim();
}

/** For people: `VIEW public.notes`, `TABLE DATA cron.job`, `ACL TABLE job in schema cron`. */
export function describeEntry(entry: TocEntry): string {
  const name = entryName(entry);
  if (entry.namespace === '-') return `${entry.desc} ${name}`;
  if (['ACL', 'COMMENT', 'SECURITY LABEL'].includes(entry.desc))
    return `${entry.desc} ${name} in schema ${entry.namespace}`;
  return `${entry.desc} ${entry.namespace}.${name}`;
}
