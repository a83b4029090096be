import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTool, ToolExitError } from '../../actions/lib/process.ts';

/** What a tool wrote to stdout and how it ended. */
async function run(script: string, largeWrites: boolean): Promise<{ out: string; error?: unknown }> {
  const tool = startTool('/bin/sh', ['-c', script], { largeWrites, label: 'probe' });
  let out = '';
  tool.child.stdout!.setEncoding('utf8').on('data', (text: string) => (out += text));
  try {
    await tool.exited;
    return { out };
  } catch (error) {
    return { out, error };
  }
}

const HAS_STDBUF = existsSync('/usr/bin/stdbuf') || existsSync('/bin/stdbuf');

describe('startTool', () => {
  it.runIf(HAS_STDBUF)('largeWrites: the tool runs under a 1 MiB stdout buffer', async () => {
    const buffered = await run('echo "$_STDBUF_O $LD_PRELOAD"; exit 0', true);
    expect(buffered.error).toBeUndefined();
    expect(buffered.out).toMatch(/^1048576 .*libstdbuf\.so/);
    const plain = await run('echo "[$_STDBUF_O]"', false);
    expect(plain.out.trim()).toBe('[]');
  });

  it('the exit status of the tool itself decides, with its label and stderr', async () => {
    for (const largeWrites of [true, false]) {
      const failed = await run('echo "no such table" >&2; exit 3', largeWrites);
      expect(failed.error).toBeInstanceOf(ToolExitError);
      expect(String(failed.error)).toContain('probe exited with code 3: no such table');
    }
  });
});
