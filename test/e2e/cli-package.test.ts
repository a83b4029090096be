import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKSTOP_VERSION } from '../../actions/lib/version.ts';
import { ROOT } from '../harness/runner.ts';
import { packCli } from '../../scripts/pack-cli.ts';

/**
 * The npm package backstop-backup as a user gets it: packed from the committed bundle, installed from the tarball
 * into an empty folder with no registry (offline: it has no dependencies to fetch), run with npx.
 */
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-package-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/cli/package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies?: unknown;
};
/** npm and npx of the node that runs the tests (Node 24, from node_modules), never a system one. */
const env = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  npm_config_yes: 'true',
};

describe('the npm package', () => {
  it('is the bundle only: the backstop bin, its chunks and licenses, README and LICENSE, no dependencies', () => {
    expect(PACKAGE.name).toBe('backstop-backup');
    expect(PACKAGE.version).toBe(BACKSTOP_VERSION);
    expect(PACKAGE.bin).toEqual({ backstop: 'dist/index.js' });
    expect(PACKAGE.dependencies).toBeUndefined();
    const tarball = packCli(path.join(work, 'packed'));
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
    const bundle = fs.readdirSync(path.join(ROOT, 'actions/cli/dist')).map((file) => `package/dist/${file}`);
    expect(files).toEqual(['package/LICENSE', 'package/README.md', 'package/package.json', ...bundle].sort());
    expect(bundle).toContain('package/dist/licenses.txt');
  });

  it('installs from the tarball into an empty folder offline, and npx backstop-backup --version answers', () => {
    const tarball = packCli(path.join(work, 'packed'));
    const project = path.join(work, 'empty');
    fs.mkdirSync(project);
    const cache = path.join(work, 'npm-cache');
    const offline = ['--offline', '--no-audit', '--no-fund', `--cache=${cache}`];
    execFileSync('npm', ['install', ...offline, tarball], { cwd: project, env, stdio: 'pipe' });
    const version = spawnSync('npx', [...offline, PACKAGE.name, '--version'], { cwd: project, env, encoding: 'utf8' });
    expect(version.stderr).toBe('');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(BACKSTOP_VERSION);
    const help = spawnSync(path.join(project, 'node_modules/.bin/backstop'), ['--help'], { env, encoding: 'utf8' });
    expect(help.stdout).toContain('keygen');
  }, 120_000);
});
