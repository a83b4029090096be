import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS } from '../../actions/cli/src/commands.ts';
import { defineAction } from '../../actions/lib/action/descriptor.ts';
import { BACKSTOP_VERSION } from '../../actions/lib/version.ts';
import { actionYml, generatedFiles, sqlFiles, withTables } from '../../scripts/action-files.ts';
import { ROOT } from '../harness/runner.ts';

describe('generated action files', () => {
  it.each(generatedFiles().map((file) => [path.relative(ROOT, file.path), file] as const))(
    '%s is what its descriptor generates (run npm run generate)',
    (_name, file) => {
      expect(fs.readFileSync(file.path, 'utf8')).toBe(file.content);
    },
  );

  it.each(sqlFiles().map((file) => [path.relative(ROOT, file.path), file] as const))(
    '%s is what actions/lib/ticks/ddl.ts generates (run npm run generate)',
    (_name, file) => {
      expect(fs.readFileSync(file.path, 'utf8')).toBe(file.content);
    },
  );

  const sample = defineAction<'id'>({
    name: 'sample',
    description: 'a sample',
    branding: { icon: 'database', color: 'blue' },
    inputs: {
      url: { description: 'where', required: true, secret: 'url', docs: 'the **long** text' },
      jobs: { description: 'how many', machineDefault: () => '7', defaultLabel: 'the number of CPUs' },
      token: { description: 'who', runnerDefault: '${{ github.token }}' },
      mode: { description: 'how', default: 'fast' },
    },
    outputs: { id: { description: 'the id' } },
    run: async () => undefined,
  });

  it('renders required flags, fixed and runner defaults into action.yml, never a machine default', () => {
    const yml = parse(actionYml(sample)) as { inputs: Record<string, Record<string, unknown>>; runs: unknown };
    expect(yml.inputs).toEqual({
      url: { description: 'where', required: true },
      jobs: { description: 'how many' },
      token: { description: 'who', default: '${{ github.token }}' },
      mode: { description: 'how', default: 'fast' },
    });
    expect(yml.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });

  it('refuses a ${{ }} expression in a description (GitHub would fail to load the action)', () => {
    const bad = { ...sample, inputs: { path: { description: 'e.g. ${{ runner.temp }}/x' } } };
    expect(() => actionYml(bad)).toThrow(/path holds a \$\{\{ \}\} expression/);
  });

  it("fills the README's tables between their markers and keeps the rest", () => {
    const begin = (table: string): string =>
      `<!-- BEGIN GENERATED ${table} table: edit src/action.ts, then npm run generate -->`;
    const readme =
      `# sample\n\n## Inputs\n${begin('inputs')}\nold\n<!-- END GENERATED -->\n\n## ` +
      `Outputs\n${begin('outputs')}\n<!-- END GENERATED -->\nmore\n`;
    const out = withTables(readme, sample);
    expect(out).toContain('| `url` | required | the **long** text |');
    expect(out).toContain('| `jobs` | the number of CPUs | how many |');
    expect(out).toContain('| `mode` | `fast` | how |');
    expect(out).toContain('| `id` | the id |');
    expect(out).not.toContain('old');
    expect(out.endsWith('more\n')).toBe(true);
    expect(() => withTables('# no markers\n', sample)).toThrow(/markers missing/);
  });
});

describe.each(ACTIONS.map((action) => [action.name, action] as const))('%s', (name, action) => {
  const dir = path.join(ROOT, 'actions', name);

  it('has a committed bundle that the generated action.yml runs on node24', () => {
    expect(fs.existsSync(path.join(dir, 'dist/index.js'))).toBe(true);
  });

  it('sets every output it declares (the type system keeps it from setting others)', () => {
    const sources = fs
      .readdirSync(path.join(dir, 'src'))
      .map((file) => fs.readFileSync(path.join(dir, 'src', file), 'utf8'));
    const set = new Set(
      sources.flatMap((source) => [...source.matchAll(/setOutput\(\s*'([a-z0-9-]+)'/g)].map((match) => match[1])),
    );
    expect([...set].sort()).toEqual(Object.keys(action.outputs).sort());
  });

  it('documents every input with a text of its own', () => {
    for (const [input, spec] of Object.entries(action.inputs))
      expect(spec.description.length, input).toBeGreaterThan(10);
  });
});

it('records the package version in manifests', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(BACKSTOP_VERSION).toBe(pkg.version);
});
