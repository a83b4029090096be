import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../action/errors.ts';
import { parseS3Url, type S3Settings } from '../storage/s3.ts';
import type { Store } from '../storage/index.ts';

/**
 * pgBackRest's configuration as Backstop writes it: one stanza per backup name, its repository on the same storage
 * as the logical backups, under `<prefix>/<name>/pgbackrest/` (a folder the catalog never takes for a backup), every
 * option in the stanza's own section so one file can hold several stanzas' worth of nothing else.
 */
export const REPO_FOLDER = 'pgbackrest';

/** pgBackRest's own option names and values, in the order they are written. */
export type Options = [name: string, value: string][];

export interface RepoTarget {
  /** The Backstop destination (its first one when there are several: pgBackRest gets one repository). */
  store: Store;
  name: string;
  s3: S3Settings;
  /** null: the repository is not encrypted (allow-unencrypted). */
  encrypted: boolean;
}

/** Where the repository lives and how to reach it: pgBackRest's repo1-* options, never a secret among them. */
export function repoOptions(target: RepoTarget): Options {
  const url = target.store.displayUrl;
  const common: Options = [
    ['repo1-cipher-type', target.encrypted ? 'aes-256-cbc' : 'none'],
    // Backstop expires by its own GFS policy (prune-backups drives `pgbackrest expire`): pgBackRest keeps all.
    ['repo1-retention-full', '9999999'],
    ['compress-type', 'zst'],
  ];
  if (url.startsWith('file://')) {
    return [
      ['repo1-type', 'posix'],
      ['repo1-path', path.join(fileURLToPath(url), target.name, REPO_FOLDER)],
      ...common,
    ];
  }
  if (url.startsWith('s3://')) return [...s3Options(url, target), ...common];
  throw new ConfigurationError(`${url} cannot hold a pgBackRest repository: use s3://bucket/prefix or file:///path.`);
}

/** pgBackRest speaks only HTTPS to S3; a custom endpoint (MinIO, R2) is named by host (and port). */
function s3Options(url: string, target: RepoTarget): Options {
  const { bucket, prefix } = parseS3Url(url);
  const endpoint = target.s3.endpoint ? new URL(target.s3.endpoint) : undefined;
  if (endpoint && endpoint.protocol !== 'https:') {
    throw new ConfigurationError(
      `The S3 endpoint ${endpoint.origin} is plain HTTP: pgBackRest speaks only HTTPS to S3. Serve it over TLS ` +
        '(a self-signed certificate works with repo1-s3-verify-tls=n in the pgBackRest configuration).',
    );
  }
  const options: Options = [
    ['repo1-type', 's3'],
    ['repo1-path', `/${[prefix, target.name, REPO_FOLDER].filter(Boolean).join('/')}`],
    ['repo1-s3-bucket', bucket],
    ['repo1-s3-region', target.s3.region],
    ['repo1-s3-endpoint', endpoint?.hostname ?? `s3.${target.s3.region}.amazonaws.com`],
  ];
  if (endpoint?.port) options.push(['repo1-s3-port', endpoint.port]);
  if (target.s3.forcePathStyle) options.push(['repo1-s3-uri-style', 'path']);
  if (target.s3.caBundle) options.push(['repo1-storage-ca-file', target.s3.caBundle]);
  return options;
}

/** The repository, for people: its folder, or s3://bucket/path. */
export function repoDisplay(repo: Options): string {
  const get = (name: string): string | undefined => repo.find(([option]) => option === name)?.[1];
  return get('repo1-type') === 's3' ? `s3://${get('repo1-s3-bucket')}${get('repo1-path')}` : `${get('repo1-path')}`;
}

/** Where PostgreSQL is: its data directory, and the socket folder and port pgBackRest connects through. */
export interface PgLocation {
  dataDir: string;
  port?: number;
  socketDir?: string;
}

export function pgOptions(pg: PgLocation): Options {
  const options: Options = [['pg1-path', pg.dataDir]];
  if (pg.port !== undefined) options.push(['pg1-port', String(pg.port)]);
  if (pg.socketDir) options.push(['pg1-socket-path', pg.socketDir]);
  return options;
}

export const CONFIG_HEADER = '# Written by `backstop archive-config`';

/** The file itself: a header saying who wrote it and how to change it, then the stanza's section. */
export function renderConfig(stanza: string, options: Options, note: string[] = []): string {
  return [
    `${CONFIG_HEADER}: run it again to change this file (it rewrites the whole file).`,
    ...note.map((line) => `# ${line}`),
    `[${stanza}]`,
    ...options.map(([name, value]) => `${name}=${value}`),
    '',
  ].join('\n');
}

/** The lines to add to postgresql.conf: archive every WAL segment, and at least one a minute on an idle server. */
export function postgresqlConfLines(configFile: string, stanza: string, archiveTimeoutSeconds: number): string[] {
  return [
    'archive_mode = on',
    `archive_command = 'pgbackrest --config=${configFile} --stanza=${stanza} archive-push %p'`,
    `archive_timeout = ${archiveTimeoutSeconds}`,
    'wal_level = replica',
  ];
}
