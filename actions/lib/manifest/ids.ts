import { randomBytes } from 'node:crypto';
import { ConfigurationError } from '../action/errors.ts';

/** Backup ids sort by time as plain strings: 20260118T030000Z-daily-3f9a. */
export function newBackupId(kind: string, at: Date = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return `${stamp}-${kind}-${randomBytes(2).toString('hex')}`;
}

const BACKUP_ID = /^\d{8}T\d{6}Z-[a-z-]+-[0-9a-f]{4}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function checkBackupName(inputName: string, name: string): string {
  if (!NAME.test(name)) {
    throw new ConfigurationError(
      `Input "${inputName}" is "${name}": use letters, digits, ".", "_" or "-" (it names a storage folder), e.g. prod-db.`,
    );
  }
  return name;
}

export function checkBackupId(inputName: string, id: string): string {
  if (!BACKUP_ID.test(id)) {
    throw new ConfigurationError(
      `Input "${inputName}" is "${id}", not a backup id like 20260118T030000Z-daily-3f9a: copy it from a manifest-url ` +
        'or leave it empty for the newest complete backup.',
    );
  }
  return id;
}
