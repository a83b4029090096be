import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScratchCluster } from '../harness/postgres.ts';
import { backstop, pgbackrestByHand, reconfigure, sharedFolder, startArchivingCluster } from '../harness/pitr.ts';

const PASSPHRASE = 'pitr-test-passphrase-0123456789';
const PGBACKREST = existsSync('/usr/bin/pgbackrest');

let cluster: ScratchCluster;
let storage: string;
let configFile: string;
const env = { BACKSTOP_ENCRYPTION_PASSPHRASE: PASSPHRASE };

describe.runIf(PGBACKREST)('archive-config with the real pgBackRest', () => {
  beforeAll(async () => {
    [cluster, storage] = await Promise.all([startArchivingCluster(), sharedFolder('backstop-pitr-')]);
    configFile = path.join(storage, 'etc', 'backstop-prod.conf');
  });
  afterAll(async () => {
    await cluster?.stop();
    await fs.rm(storage, { recursive: true, force: true });
  });

  const args = (): string[] => [
    '--name=prod',
    `--storage-url=file://${storage}`,
    `--pg-data=${cluster.dataDir}`,
    `--database-url=${cluster.url}`,
    `--config=${configFile}`,
  ];

  it('writes the configuration, creates the stanza and prints the postgresql.conf lines; WAL then archives', async () => {
    const first = await backstop('archive-config', args(), env);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({ changed: 'true', archiving: 'false', stanza: 'prod' });
    const text = readFileSync(configFile, 'utf8');
    expect(text).toContain(`repo1-path=${storage}/prod/pgbackrest`);
    expect(text).toContain('repo1-cipher-type=aes-256-cbc');
    expect(text).toContain('compress-type=zst');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    // The passphrase is in the file the archive_command reads, and nowhere in what was printed.
    expect(first.out).not.toContain(PASSPHRASE);
    const lines = first.out.split('\n').filter((line) => /^archive_|^wal_level/.test(line));
    expect(lines).toEqual([
      'archive_mode = on',
      `archive_command = 'pgbackrest --config=${configFile} --stanza=prod archive-push %p'`,
      'archive_timeout = 60',
      'wal_level = replica',
    ]);
    await reconfigure(cluster, lines);
    const check = pgbackrestByHand([`--config=${configFile}`, '--stanza=prod', 'check'], PASSPHRASE);
    expect(check.out).toBe('');
    expect(check.status).toBe(0);
    expect(await fs.readdir(path.join(storage, 'prod/pgbackrest/archive/prod'))).toContain('15-1');
  });

  it('changes nothing when run again, and then says that WAL archives', async () => {
    const before = statSync(configFile).mtimeMs;
    const again = await backstop('archive-config', args(), env);
    expect(again.err).toBe('');
    expect(again.outputs).toMatchObject({ changed: 'false', archiving: 'true' });
    expect(statSync(configFile).mtimeMs).toBe(before);
  });

  it('refuses a wrong passphrase for the existing repository in one line', async () => {
    const wrong = await backstop('archive-config', [...args().slice(0, -1), `--config=${configFile}.other`], {
      BACKSTOP_ENCRYPTION_PASSPHRASE: 'another-passphrase-0123456789',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.err.trim().split('\n')).toHaveLength(1);
    expect(wrong.err).toMatch(/passphrase does not open the pgBackRest repository/);
  });

  it('never overwrites a pgBackRest configuration it did not write', async () => {
    const foreign = path.join(storage, 'etc', 'pgbackrest.conf');
    await fs.writeFile(foreign, '[global]\nrepo1-path=/var/lib/pgbackrest\n');
    const run = await backstop('archive-config', [...args().slice(0, -1), `--config=${foreign}`], env);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^error: Input "config" is .*pgbackrest\.conf, a pgBackRest configuration Backstop did/);
    expect(readFileSync(foreign, 'utf8')).toBe('[global]\nrepo1-path=/var/lib/pgbackrest\n');
  });
});
