import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * npm run action-runtimes: refreshes .github/action-runtimes.json, the runtime (`runs.using`) of every third-party
 * action pinned in .github/workflows and examples/, read from the action's own action.yml at the pinned commit.
 * The workflow contract test reads that table and refuses a pin on node20 or older, or one missing from it (so a
 * Dependabot bump fails until this is run on its branch).
 *
 * Each repository is fetched (bare, no blobs but the ones read) from GitHub into a cache under the temp folder;
 * `--mirrors <dir>` reads already fetched bare repositories from <dir>/<owner>+<name>/repo instead.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const TABLE = path.join(ROOT, '.github', 'action-runtimes.json');
const PIN = /uses:\s*['"]?([\w.-]+)\/([\w.-]+)((?:\/[\w.-]+)*)@([0-9a-f]{40})['"]?\s*#\s*(v[\w.-]+)/g;

export interface RuntimeEntry {
  version: string;
  using: string;
}

function workflowTexts(): string[] {
  const folders = [path.join(ROOT, '.github', 'workflows'), path.join(ROOT, 'examples')];
  return folders
    .filter((folder) => fs.existsSync(folder))
    .flatMap((folder) =>
      fs
        .readdirSync(folder)
        .filter((file) => /\.ya?ml$/.test(file))
        .map((file) => fs.readFileSync(path.join(folder, file), 'utf8')),
    );
}

function gitDir(owner: string, name: string, mirrors: string | undefined): string {
  if (mirrors) return path.join(mirrors, `${owner}+${name}`, 'repo');
  const dir = path.join(os.tmpdir(), 'backstop-action-runtimes', `${owner}+${name}.git`);
  if (!fs.existsSync(dir)) {
    execFileSync('git', [
      'clone',
      '--quiet',
      '--bare',
      '--filter=blob:none',
      `https://github.com/${owner}/${name}`,
      dir,
    ]);
  } else {
    execFileSync('git', ['-C', dir, 'fetch', '--quiet', '--tags', 'origin']);
  }
  return dir;
}

function runsUsing(dir: string, sha: string, subPath: string): string {
  for (const file of ['action.yml', 'action.yaml']) {
    const spec = `${sha}:${path.posix.join(subPath.replace(/^\//, ''), file)}`;
    try {
      const text = execFileSync('git', ['-C', dir, 'show', spec], { encoding: 'utf8', stdio: 'pipe' });
      const using = (parse(text) as { runs?: { using?: unknown } }).runs?.using;
      if (typeof using === 'string') return using;
    } catch {
      // Not this file name: try the other.
    }
  }
  throw new Error(`${dir}: no action.yml with runs.using at ${sha}${subPath}`);
}

function main(args: string[]): void {
  const mirrorsAt = args.indexOf('--mirrors');
  const mirrors = mirrorsAt >= 0 ? args[mirrorsAt + 1] : undefined;
  const table: Record<string, RuntimeEntry> = {};
  for (const text of workflowTexts()) {
    for (const [, owner = '', name = '', subPath = '', sha = '', version = ''] of text.matchAll(PIN)) {
      const key = `${owner}/${name}${subPath}@${sha}`;
      if (table[key]) continue;
      table[key] = { version, using: runsUsing(gitDir(owner, name, mirrors), sha, subPath) };
      console.log(`${key} ${version}: ${table[key].using}`);
    }
  }
  const sorted = Object.fromEntries(Object.entries(table).sort(([a], [b]) => a.localeCompare(b)));
  fs.writeFileSync(TABLE, `${JSON.stringify(sorted, null, 2)}\n`);
  console.log(`wrote ${path.relative(ROOT, TABLE)} (${Object.keys(sorted).length} pins)`);
}

main(process.argv.slice(2));
