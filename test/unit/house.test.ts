import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.ts';

/** House rules that a layering tool cannot see, because they are about text inside a file rather than its imports. */
const LIB = path.join(ROOT, 'actions/lib');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

/** Lines of capability code (every room but action/ and inputs/, which are about inputs) matching a pattern. */
function capabilityLines(pattern: RegExp, allowed: string[] = []): string[] {
  return sources(LIB)
    .map((file) => path.relative(LIB, file))
    .filter((file) => !file.startsWith('action/') && !file.startsWith('inputs/') && !allowed.includes(file))
    .flatMap((file) =>
      fs
        .readFileSync(path.join(LIB, file), 'utf8')
        .split('\n')
        .flatMap((line, index) => (pattern.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
    );
}

describe('the house', () => {
  it('capability code never spells an input name: parsed values carry their origin instead', () => {
    expect(capabilityLines(/[Ii]nput "|inputName/)).toEqual([]);
  });

  it('reads no environment variable outside action/env.ts, except what child processes and the binary search need', () => {
    // pg/connection.ts hands the environment on to libpq tools; pg/tools.ts searches PATH for PostgreSQL binaries.
    expect(capabilityLines(/process\.env/, ['pg/connection.ts', 'pg/tools.ts'])).toEqual([]);
  });

  it('the checks themselves can fail', () => {
    expect(/[Ii]nput "|inputName/.test('throw new Error(`Input "target-url" is bad`)')).toBe(true);
    expect(capabilityLines(/setupTarget/)).not.toEqual([]);
  });
});
