import { StringDecoder } from 'node:string_decoder';
import type pg from 'pg';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { ManifestFile } from '../manifest/schema.ts';
import { storeStream, toolAndStore } from '../pipeline/backup.ts';
import { libpqEnvironment, quoteIdent, type DatabaseUrl } from '../pg/connection.ts';
import type { PgTool } from '../pg/tools.ts';
import { startTool } from '../process.ts';
import type { Store } from '../storage/index.ts';
import { pgDumpallRolesArgv } from './argv.ts';

/** A role as the roles file (pg_dumpall --roles-only) defines it. */
export interface RoleDefinition {
  name: string;
  /** The words of its `ALTER ROLE … WITH` line, e.g. NOSUPERUSER NOINHERIT LOGIN BYPASSRLS. */
  attributes: string[];
  /** The roles it is a member of, with the membership's INHERIT and SET options (PostgreSQL 16+) if written. */
  memberOf: { role: string; options: string[] }[];
  /** `ALTER ROLE … SET` lines: the setting as written (`statement_timeout TO '8s'`), per database or everywhere. */
  settings: { database: string | null; setting: string }[];
}

export interface RolesDumpOptions {
  database: DatabaseUrl;
  pgDumpall: PgTool;
  stores: Store[];
  folder: string;
  recipients: string[] | null;
  log: (line: string) => void;
}

/**
 * The roles file of a backup: pg_dumpall --roles-only --no-role-passwords → zstd → age → every destination, like
 * the dump. Its text is read as it passes (it is small) to list the roles for the manifest and to prove that no
 * password went into it.
 */
export async function dumpRoles(options: RolesDumpOptions): Promise<{ file: ManifestFile; roles: RoleDefinition[] }> {
  const argv = pgDumpallRolesArgv({ database: options.database, databaseName: options.database.database });
  const tool = startTool(options.pgDumpall.path, argv, {
    env: libpqEnvironment(options.database),
    label: 'pg_dumpall',
  });
  const decoder = new StringDecoder('utf8');
  let text = '';
  const storing = storeStream(tool.child.stdout!, options.stores, {
    path: 'roles.sql',
    folder: options.folder,
    compress: true,
    recipients: options.recipients,
    observe: (chunk) => (text += decoder.write(chunk)),
    log: options.log,
  });
  const [stored, exited] = await Promise.allSettled([storing, tool.exited]);
  const file = toolAndStore(stored, exited);
  text += decoder.end();
  assertNoPassword(text);
  const roles = parseRolesFile(text);
  options.log(`Roles: ${roles.length} (${roles.map((role) => role.name).join(', ')}), without passwords`);
  return { file: { ...file, contents: 'roles' }, roles };
}

/** Never stored, whatever pg_dumpall does: a PASSWORD clause fails the backup (which is then removed). */
function assertNoPassword(text: string): void {
  for (const statement of splitStatements(text)) {
    if (/^(CREATE|ALTER) ROLE\b/i.test(statement) && /\bPASSWORD\s+'/i.test(statement)) {
      throw new Error('pg_dumpall wrote a role password into the roles file; the backup is not kept.');
    }
  }
}

const IDENT = `("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CREATE_ROLE = new RegExp(`^CREATE ROLE ${IDENT}$`);
const ALTER_ROLE_WITH = new RegExp(`^ALTER ROLE ${IDENT} WITH (.*)$`, 's');
const ALTER_ROLE_SET = new RegExp(`^ALTER ROLE ${IDENT}(?: IN DATABASE ${IDENT})? SET (.*)$`, 's');
const GRANT_ROLE = new RegExp(`^GRANT ${IDENT} TO ${IDENT}(?: WITH (.*?))?(?: GRANTED BY ${IDENT})?$`, 's');

/**
 * Reads the statements pg_dumpall writes for roles (PostgreSQL 12–18): CREATE ROLE, ALTER ROLE … WITH, ALTER ROLE
 * … SET and GRANT role TO role. Comments, psql meta-commands (\restrict), SET lines and anything else are skipped.
 */
export function parseRolesFile(text: string): RoleDefinition[] {
  const roles = new Map<string, RoleDefinition>();
  const roleNamed = (name: string): RoleDefinition => {
    let role = roles.get(name);
    if (!role) {
      role = { name, attributes: [], memberOf: [], settings: [] };
      roles.set(name, role);
    }
    return role;
  };
  const readers: [RegExp, (match: RegExpExecArray) => void][] = [
    [CREATE_ROLE, (match) => roleNamed(unquote(match[1]!))],
    [ALTER_ROLE_WITH, (match) => (roleNamed(unquote(match[1]!)).attributes = attributeWords(match[2]!))],
    [
      ALTER_ROLE_SET,
      (match) =>
        roleNamed(unquote(match[1]!)).settings.push({
          database: match[2] ? unquote(match[2]) : null,
          setting: match[3]!,
        }),
    ],
    [
      GRANT_ROLE,
      (match) =>
        roleNamed(unquote(match[2]!)).memberOf.push({
          role: unquote(match[1]!),
          // ADMIN OPTION is never restored: a restore hands out no right to grant.
          options: (match[3] ?? '')
            .split(',')
            .map((option) => option.trim())
            .filter((option) => /^(INHERIT|SET) (TRUE|FALSE)$/.test(option)),
        }),
    ],
  ];
  for (const statement of splitStatements(text)) {
    for (const [pattern, read] of readers) {
      const match = pattern.exec(statement);
      if (match) {
        read(match);
        break;
      }
    }
  }
  return [...roles.values()];
}

/** NOSUPERUSER INHERIT … CONNECTION LIMIT 5 VALID UNTIL '…' → the attributes alone (limits and dates are not kept). */
function attributeWords(text: string): string[] {
  return text
    .replace(/'(?:[^']|'')*'/g, '')
    .split(/\s+/)
    .filter((word) => /^(NO)?(SUPERUSER|INHERIT|CREATEROLE|CREATEDB|LOGIN|REPLICATION|BYPASSRLS)$/.test(word));
}

function unquote(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident;
}

/**
 * The file's SQL statements, without their `;`: split at semicolons outside quoted strings and identifiers (a
 * role comment may hold one); lines outside a statement that are comments or psql meta-commands are dropped.
 */
export function splitStatements(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let quote: "'" | '"' | null = null;
  for (const line of text.split('\n')) {
    if (quote === null && current.trim() === '' && (line.startsWith('--') || line.startsWith('\\'))) continue;
    for (const char of `${line}\n`) {
      if (quote) {
        if (char === quote) quote = null;
      } else if (char === "'" || char === '"') {
        quote = char;
      } else if (char === ';') {
        if (current.trim()) statements.push(current.trim());
        current = '';
        continue;
      }
      current += char;
    }
  }
  return statements;
}

/** What a restore did with the roles of the backup. */
export interface RolesRestored {
  /** Roles in the roles file. */
  inBackup: number;
  /** Created on the target, as NOLOGIN roles without a password. */
  created: string[];
  /** The target had them already: left exactly as they were. */
  existing: string[];
  /** Memberships and settings of created roles that the target refused, each with its reason. */
  notApplied: string[];
}

export interface CreateRolesOptions {
  /** The backed-up database: its `ALTER ROLE … IN DATABASE` settings apply to the target database. */
  sourceDatabase: string | undefined;
  log: (line: string) => void;
}

/**
 * Creates the roles of the backup that the target lacks, so pg_restore can give objects their owners and grants
 * (and CREATE POLICY … TO a role works at all). A created role gets NOLOGIN and no password: a restore never opens
 * a way in. It keeps NOINHERIT, its memberships (their INHERIT and SET options too, on PostgreSQL 16+; never ADMIN
 * OPTION) and its settings; a role that was a
 * superuser stays one only where the restoring user is a superuser itself (event triggers and foreign data
 * wrappers must be owned by one). Roles the target already has, a provider's reserved ones above all, are never
 * altered, and neither are memberships between them.
 */
export async function createMissingRoles(
  client: pg.Client,
  roles: RoleDefinition[],
  options: CreateRolesOptions,
): Promise<RolesRestored> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT rolname AS name FROM pg_roles WHERE rolname = ANY($1)',
    [roles.map((role) => role.name)],
  );
  const existing = new Set(rows.map((row) => row.name));
  const restoringAsSuperuser = await isSuperuser(client);
  const missing = roles.filter((role) => !existing.has(role.name));
  for (const role of missing) await createRole(client, role, restoringAsSuperuser, options.log);

  const created = new Set(missing.map((role) => role.name));
  const known = new Set([...existing, ...created]);
  const notApplied: string[] = [];
  const attempt = async (statement: string): Promise<void> => {
    try {
      await client.query(statement);
    } catch (error) {
      notApplied.push(`${statement}: ${errorMessage(error)}`);
      options.log(`Not applied: ${statement} (${errorMessage(error)})`);
    }
  };
  const { rows: target } = await client.query<{ db: string; num: string }>(
    "SELECT current_database() AS db, current_setting('server_version_num') AS num",
  );
  const database = target[0]!.db;
  // INHERIT and SET options of a membership exist from PostgreSQL 16; older servers take the plain GRANT.
  const membershipOptions = Number(target[0]!.num) >= 160000;
  for (const role of roles) {
    for (const { role: group, options } of role.memberOf) {
      if ((created.has(role.name) || created.has(group)) && known.has(group)) {
        const withOptions = membershipOptions && options.length > 0 ? ` WITH ${options.join(', ')}` : '';
        await attempt(`GRANT ${quoteIdent(group)} TO ${quoteIdent(role.name)}${withOptions}`);
      }
    }
    if (!created.has(role.name)) continue;
    for (const { database: settingDatabase, setting } of role.settings) {
      if (settingDatabase === null) await attempt(`ALTER ROLE ${quoteIdent(role.name)} SET ${setting}`);
      else if (settingDatabase === options.sourceDatabase) {
        await attempt(`ALTER ROLE ${quoteIdent(role.name)} IN DATABASE ${quoteIdent(database)} SET ${setting}`);
      }
    }
  }
  return {
    inBackup: roles.length,
    created: [...created],
    existing: roles.filter((role) => existing.has(role.name)).map((role) => role.name),
    notApplied,
  };
}

async function isSuperuser(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ super: boolean }>(
    'SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user',
  );
  return rows[0]?.super === true;
}

async function createRole(
  client: pg.Client,
  role: RoleDefinition,
  restoringAsSuperuser: boolean,
  log: (line: string) => void,
): Promise<void> {
  const superuser = restoringAsSuperuser && role.attributes.includes('SUPERUSER');
  const attributes = ['NOLOGIN', ...(role.attributes.includes('NOINHERIT') ? ['NOINHERIT'] : [])];
  if (superuser) attributes.push('SUPERUSER');
  try {
    await client.query(`CREATE ROLE ${quoteIdent(role.name)} ${attributes.join(' ')}`);
  } catch (error) {
    throw new ConfigurationError(
      `Could not create role "${role.name}" on the target (${errorMessage(error)}): the objects of this backup ` +
        'belong to it or name it in policies. Restore as a user with CREATEROLE (or a superuser), or create the ' +
        "backup's roles first.",
    );
  }
  const leftOff = role.attributes.filter((word) =>
    ['LOGIN', 'CREATEDB', 'CREATEROLE', 'REPLICATION', 'BYPASSRLS', ...(superuser ? [] : ['SUPERUSER'])].includes(word),
  );
  log(
    `Created role ${role.name} (${attributes.join(' ')}, no password${
      leftOff.length > 0 ? `; not given: ${leftOff.join(' ')}` : ''
    })`,
  );
}
