import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runKeygen } from '../../actions/cli/src/keygen.ts';
import { Origin } from '../../actions/lib/action/origin.ts';
import { parseIdentities, recipientOf } from '../../actions/lib/crypto/age.ts';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'backstop-keygen-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function keygen(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runKeygen(args, { out: (line) => void out.push(line), err: (line) => void err.push(line) });
  return { code, out, err };
}

describe('backstop keygen', () => {
  const file = path.join(work, 'backstop.key');

  it('writes an age identity readable by its owner alone and prints its recipient', () => {
    const result = keygen(['--output', file]);
    expect(result.code, result.err.join('\n')).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    const [identity] = parseIdentities(text, Origin.internal('the key file'));
    expect(result.out).toEqual([recipientOf(identity!)]);
    expect(result.out[0]).toMatch(/^age1[02-9ac-hj-np-z]{58}$/);
    expect(text).toContain(`# public key: ${result.out[0]}`);
    expect(result.err.join('\n')).toContain('(0600)');
  });

  it('age itself decrypts with the file what was encrypted to the printed recipient', () => {
    const recipient = keygen(['-o', path.join(work, 'age.key')]).out[0]!;
    const encrypted = execFileSync('age', ['-r', recipient], { input: 'seven years' });
    expect(execFileSync('age', ['-d', '-i', path.join(work, 'age.key')], { input: encrypted }).toString()).toBe(
      'seven years',
    );
  });

  it('never overwrites a key file, and a bad flag is one line', () => {
    const before = fs.readFileSync(file, 'utf8');
    const again = keygen(['--output', file]);
    expect(again.code).toBe(1);
    expect(again.err).toEqual([
      `error: ${file} exists already (an identity is never overwritten): give another --output <file>.`,
    ]);
    expect(again.out).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    const bad = keygen(['--outptu', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toHaveLength(1);
    expect(bad.err[0]).toMatch(/^error: Unknown option '--outptu'.*takes only --output <file>\.$/);
  });
});
