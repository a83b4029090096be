import type { InputSpecs } from '../action/descriptor.ts';
import type { InputReader } from '../action/input-reader.ts';
import type { Runtime } from '../action/runtime.ts';
import { CatalogMirror } from '../catalog/mirror.ts';
import { parseDatabaseUrl } from '../pg/connection.ts';

/** The catalog input of every action that mirrors what it did into backstop.backup_logs. */
export const CATALOG_INPUTS = {
  'catalog-url': {
    description:
      'postgresql:// URL of a database holding the backstop.backup_logs table (a secret; created on first use): ' +
      'this step mirrors its backups, drills or deletions there. A catalog that is down gives a warning, never a ' +
      'failed step.',
    secret: 'url',
    docs:
      "TD-102's backup metadata table, in a `backstop` schema ([docs/catalog-and-alerts.md]" +
      '(../../docs/catalog-and-alerts.md)). The schema, table, indexes and comments are created on first use ' +
      '(idempotent; [sql/catalog/backup_logs.sql](../../sql/catalog/backup_logs.sql)). The manifest stays the ' +
      'record: a catalog that is down, refuses or times out gives one warning and the step goes on; ' +
      '`backstop catalog-sync` fills the table in from storage later. Empty: no catalog.',
  },
} as const satisfies InputSpecs;

/** The mirror; a no-op one without a catalog-url. A URL that does not parse is a bad input like any other. */
export function readCatalog(inputs: InputReader, runtime: Runtime): CatalogMirror {
  const url = inputs.optional('catalog-url');
  return new CatalogMirror({
    database: url === undefined ? undefined : parseDatabaseUrl(url, inputs.origin('catalog-url')),
    warn: (line) => runtime.warning(line),
    redact: (text) => runtime.redact(text),
  });
}
