import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS } from '../../actions/cli/src/commands.ts';
import { BACKSTOP_VERSION } from '../../actions/lib/version.ts';
import { ROOT } from '../harness/runner.ts';

interface ActionYml {
  runs: { using: string; main: string };
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, unknown>;
}

describe.each(Object.entries(COMMANDS))('%s action.yml', (name, command) => {
  const dir = path.join(ROOT, 'actions', name);
  const yml = parse(fs.readFileSync(path.join(dir, 'action.yml'), 'utf8')) as ActionYml;

  it('runs the committed bundle on node24', () => {
    expect(yml.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(fs.existsSync(path.join(dir, 'dist/index.js'))).toBe(true);
  });

  it('declares exactly the inputs the code reads, with the same required flags and defaults', () => {
    expect(Object.keys(yml.inputs).sort()).toEqual(Object.keys(command.inputs).sort());
    for (const [input, spec] of Object.entries(command.inputs)) {
      expect(Boolean(yml.inputs[input]?.required), input).toBe(Boolean(spec.required));
      // A default that depends on the machine (jobs = CPUs) stays in code only; one the runner evaluates
      // (`${{ github.token }}`) stays in action.yml only.
      const ymlDefault = yml.inputs[input]?.default;
      if (ymlDefault !== undefined && !/^\$\{\{.*\}\}$/.test(ymlDefault)) expect(ymlDefault, input).toBe(spec.default);
    }
  });

  it('declares every output main.ts sets', () => {
    const main = fs.readFileSync(path.join(dir, 'src/main.ts'), 'utf8');
    const set = [...main.matchAll(/setOutput\('([a-z0-9-]+)'/g)].map((match) => match[1]);
    expect(set.sort()).toEqual(Object.keys(yml.outputs).sort());
  });

  it('has a README naming every input and output', () => {
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    for (const key of [...Object.keys(yml.inputs), ...Object.keys(yml.outputs)]) expect(readme, key).toContain(`\`${key}\``);
  });
});

it('records the package version in manifests', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(BACKSTOP_VERSION).toBe(pkg.version);
});
