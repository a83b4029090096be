import type { Manifest } from '../../actions/lib/manifest/schema.ts';

/** A small, valid PostgreSQL manifest for tests of the catalog, retention and drills (one unencrypted file). */
export function postgresManifest(id: string, finishedAt: string, serverVersion = '17.2'): Manifest {
  const [major, minor] = serverVersion.split('.').map(Number);
  return {
    version: 1,
    id,
    name: 'prod',
    engine: 'postgres',
    kind: 'daily',
    createdAt: finishedAt,
    finishedAt,
    durationSeconds: 1,
    source: { serverVersion, serverVersionNum: major! * 10000 + minor!, database: 'prod', host: 'h', extensions: [] },
    tool: { name: 'backstop', version: '0.1.0', pgDump: serverVersion },
    format: 'custom',
    encryption: null,
    files: [
      {
        path: 'postgres.dump.zst',
        bytes: 1,
        sha256: 'a'.repeat(64),
        rawBytes: 1,
        compression: 'zstd',
        encryption: 'none',
      },
    ],
    tables: [],
  };
}
