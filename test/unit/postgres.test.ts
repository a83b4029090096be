import { describe, expect, it } from 'vitest';
import { Origin } from '../../actions/lib/action/origin.ts';
import { parseDatabaseUrl } from '../../actions/lib/pg/connection.ts';
import { tablePatternMatcher } from '../../actions/lib/postgres/inventory.ts';
import { parseToolVersion, serverMajor } from '../../actions/lib/pg/tools.ts';

describe('database URLs', () => {
  it('split into a display form, a password-less form for libpq tools, and the password', () => {
    const url = parseDatabaseUrl(
      'postgresql://app:s%40cret@db.example.com:6543/prod?sslmode=require',
      Origin.input('database-url'),
    );
    expect(url.display).toBe('postgresql://app:***@db.example.com:6543/prod');
    expect(url.withoutPassword).toBe('postgresql://app@db.example.com:6543/prod?sslmode=require');
    expect(url.password).toBe('s@cret');
    expect(url.host).toBe('db.example.com:6543');
    expect(url.database).toBe('prod');
  });
});

describe('versions', () => {
  it('parse pg_dump --version and server_version_num', () => {
    expect(parseToolVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)')).toEqual({
      version: '15.18',
      major: 15,
    });
    expect(parseToolVersion('initdb (PostgreSQL) 18.4')).toEqual({ version: '18.4', major: 18 });
    expect(parseToolVersion('something else')).toBeUndefined();
    expect(serverMajor(180004)).toBe(18);
    expect(serverMajor(90624)).toBe(9);
  });
});

describe('exclude-table-data patterns', () => {
  it('match like pg_dump: wildcards, schema-qualified or any schema, case-folded unless quoted', () => {
    const matches = tablePatternMatcher(['audit_*', 'archive.ticks_20??', '"Mixed"']);
    expect(matches({ schema: 'public', name: 'audit_log' })).toBe(true);
    expect(matches({ schema: 'other', name: 'audit_x' })).toBe(true);
    expect(matches({ schema: 'archive', name: 'ticks_2025' })).toBe(true);
    expect(matches({ schema: 'public', name: 'ticks_2025' })).toBe(false);
    expect(matches({ schema: 'public', name: 'Mixed' })).toBe(true);
    expect(matches({ schema: 'public', name: 'mixed' })).toBe(false);
    expect(matches({ schema: 'public', name: 'trades' })).toBe(false);
  });
});
