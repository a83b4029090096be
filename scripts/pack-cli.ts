import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * npm run pack:cli [-- <destination>]: the npm package backstop-backup from the committed CLI bundle. Copies
 * actions/cli/dist (the bundle, its chunks and licenses.txt) and LICENSE into packages/cli, checks the version is the
 * repository's, and runs npm pack there; prints the tarball's path. The package holds the bundle only (`files`), no
 * dependencies: everything is compiled in.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const PACKAGE = path.join(ROOT, 'packages', 'cli');
const BUNDLE = path.join(ROOT, 'actions', 'cli', 'dist');

const version = (file: string): string => (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;

export function packCli(destination: string): string {
  const repository = version(path.join(ROOT, 'package.json'));
  const cli = version(path.join(PACKAGE, 'package.json'));
  if (repository !== cli) {
    throw new Error(
      `packages/cli/package.json has version ${cli}, package.json ${repository}: set both to one version.`,
    );
  }
  if (!fs.existsSync(path.join(BUNDLE, 'index.js')))
    throw new Error('actions/cli/dist is missing: npm run build first.');
  fs.rmSync(path.join(PACKAGE, 'dist'), { recursive: true, force: true });
  fs.cpSync(BUNDLE, path.join(PACKAGE, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(PACKAGE, 'LICENSE'));
  fs.mkdirSync(destination, { recursive: true });
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: PACKAGE,
    encoding: 'utf8',
  });
  const [packed] = JSON.parse(output) as { filename: string }[];
  return path.join(destination, packed!.filename);
}

if (import.meta.filename === process.argv[1]) {
  console.log(packCli(path.resolve(process.argv[2] ?? path.join(ROOT, 'build'))));
}
