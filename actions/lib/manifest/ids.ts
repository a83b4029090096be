import { randomBytes } from 'node:crypto';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';

/** Backup ids sort by time as plain strings: 20260118T030000Z-daily-3f9a. */
export function newBackupId(kind: string, at: Date = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${stamp}-${kind}-${randomBytes(2).toString('hex')}`;
}

const BACKUP_ID = /^\d{8}T\d{6}Z-[a-z-]+-[0-9a-f]{4}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkBackupName(name: string, origin: Origin): string {
  if (!NAME.test(name)) throw new ConfigurationError(`${origin.title} is "${name}": ${whatIsWrongWith(name)}`);
  return name;
}

/** Says which rule a name breaks: `..` has only allowed characters, yet is a path step, not a folder of its own. */
function whatIsWrongWith(name: string): string {
  const rules = 'use letters, digits, ".", "_" or "-", starting with a letter or digit (it names a storage folder)';
  if (name === '.' || name === '..') {
    return (
      `"${name}" is a path step (${name === '.' ? 'this folder' : 'the parent folder'}), not allowed as a ` +
      `name: ${rules}, e.g. prod-db.`
    );
  }
  if (name.length > 100) return `${name.length} characters, at most 100 are allowed: give a shorter name.`;
  return `${rules}, e.g. prod-db.`;
}

export function checkBackupId(id: string, origin: Origin): string {
  if (!BACKUP_ID.test(id)) {
    throw new ConfigurationError(
      `${origin.title} is "${id}", not a backup id like 20260118T030000Z-daily-3f9a: copy it from a manifest-url ` +
        'or leave it empty for the newest complete backup.',
    );
  }
  return id;
}
