import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../lib/action/cli.ts';
import { errorMessage } from '../../lib/action/errors.ts';
import { generateIdentity, recipientOf } from '../../lib/crypto/age.ts';

export const KEYGEN_USAGE = `usage: backstop keygen [--output <file>]

Writes a new age identity (X25519) to <file> (default backstop.key), readable by you alone (0600), in age-keygen's
format, and prints its recipient (age1…). Give the recipient to encryption-recipients (a variable: it is public),
keep the file's contents in a secret (BACKSTOP_AGE_IDENTITY) and a copy offline: without it no backup can be read.
An existing file is never overwritten.`;

/** `backstop keygen`: a key pair without installing age. Returns the exit code. */
export function runKeygen(args: string[], io: CliIo, now = new Date()): number {
  let output: string;
  try {
    const { values } = parseArgs({ args, options: { output: { type: 'string', short: 'o' } }, strict: true });
    output = values.output ?? 'backstop.key';
  } catch (error) {
    io.err(`error: ${errorMessage(error).split('\n')[0]}: backstop keygen takes only --output <file>.`);
    return 2;
  }
  const identity = generateIdentity();
  const recipient = recipientOf(identity);
  const text = `# created: ${now.toISOString()}\n# public key: ${recipient}\n${identity}\n`;
  try {
    // 'wx': never replace a key file, which may be the only way into existing backups; mode 0600 from the start.
    fs.writeFileSync(output, text, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'exists already (an identity is never overwritten)' : errorMessage(error);
    io.err(`error: ${output} ${why}: give another --output <file>.`);
    return 1;
  }
  io.err(`Wrote the identity to ${path.resolve(output)} (0600). Its recipient, for encryption-recipients:`);
  io.out(recipient);
  return 0;
}
