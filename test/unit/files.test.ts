import { describe, expect, it } from 'vitest';
import { storedPathOf } from '../../actions/lib/files/backup.ts';
import { worthCompressing } from '../../actions/lib/files/compression.ts';
import { forEachAtMost } from '../../actions/lib/files/pool.ts';
import { parseManifest } from '../../actions/lib/manifest/schema.ts';

describe('files engine', () => {
  it.each([
    ['photos/a.JPG', false],
    ['v/launch.mp4', false],
    ['x/archive.tar.gz', false],
    ['avatars/u1.png', true],
    ['docs/report.pdf', true],
    ['bundle.zip', true],
    ['.jpg', true],
    ['README', true],
  ])('%s is compressed: %s', (key, expected) => {
    expect(worthCompressing(key)).toBe(expected);
  });

  it('names stored objects by the hash of their key, whatever characters the key holds', () => {
    expect(storedPathOf('../../etc/passwd')).toMatch(/^objects\/[0-9a-f]{2}\/[0-9a-f]{64}$/);
    expect(storedPathOf('a')).not.toBe(storedPathOf('b'));
  });

  it('runs at most `limit` at once and stops starting work after a failure', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const work = async (item: number): Promise<void> => {
      started.push(item);
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      if (item === 3) throw new Error('three');
    };
    await expect(forEachAtMost([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, work)).rejects.toThrow('three');
    expect(most).toBe(3);
    expect(started.length).toBeLessThan(9);
  });

  const object = {
    key: 'a.png',
    bytes: 1,
    etag: '"x"',
    lastModified: '2026-12-01T00:00:00.000Z',
    sha256: 'a'.repeat(64),
    backupId: '20261201T022300Z-daily-3f9a',
    storedPath: `objects/ab/${'b'.repeat(64)}.zst.age`,
    storedBytes: 100,
    storedSha256: 'c'.repeat(64),
    compression: 'zstd',
    encryption: 'age',
  };
  const manifest = (objects: unknown[]) =>
    JSON.stringify({ version: 1, id: 'x', name: 'n', engine: 'files', createdAt: 'now', files: [], objects });

  it('reads a files manifest that stored nothing of its own (a quiet day)', () => {
    expect(parseManifest(manifest([object]), 'm').objects).toHaveLength(1);
  });

  it.each([
    ['a stored path outside objects/', { storedPath: '../../other/manifest.json' }],
    ['a backup id that is none', { backupId: '../x' }],
    ['no content sha256', { sha256: undefined }],
  ])('refuses an object with %s', (_, change) => {
    expect(() => parseManifest(manifest([{ ...object, ...change }]), 'm')).toThrow(/without a sound key/);
  });
});
