import { describe, expect, it } from 'vitest';
import { INPUTS as DUMP_INPUTS } from '../../actions/dump-postgres/src/inputs.ts';
import { failureReport, recoveryComment, shellCommand, type JobRun } from '../../actions/lib/report/run-report.ts';
import { recordableInputs, type StepRecord } from '../../actions/lib/action/steps.ts';

const run: JobRun = {
  workflow: 'nightly-backup',
  runId: '42',
  runUrl: 'https://github.com/acme/shop/actions/runs/42',
  status: 'failure',
};

function step(overrides: Partial<StepRecord>): StepRecord {
  return {
    action: 'dump-postgres',
    ok: true,
    summary: '',
    inputs: {},
    secretInputs: [],
    finishedAt: '2026-11-21T02:00:00.000Z',
    ...overrides,
  };
}

describe('step records', () => {
  it('keep public inputs as values and secret ones by name only', () => {
    const values: Record<string, string> = {
      'database-url': 'postgresql://u:hunter22@db/prod',
      name: 'prod-db',
      'storage-url': 's3://b/p',
      kind: '',
    };
    const recorded = recordableInputs(DUMP_INPUTS, (name) => values[name] ?? '');
    expect(recorded.inputs).toEqual({ name: 'prod-db', 'storage-url': 's3://b/p' });
    expect(recorded.secretInputs).toEqual(['database-url']);
    expect(JSON.stringify(recorded)).not.toContain('hunter22');
  });
});

describe('failure report', () => {
  it('names the failed step, its error, the shell command with secrets as variables, and the re-run', () => {
    const failed = step({
      ok: false,
      error: 'Checksum mismatch in postgres.dump.zst.age',
      inputs: { name: 'prod-db', 'storage-url': 's3://acme/backups\n./local copy' },
      secretInputs: ['database-url'],
      summary: '### dump-postgres\nfailed',
    });
    const body = failureReport(run, [step({ action: 'prune-backups', summary: 'pruned 2' }), failed], undefined);
    expect(body).toContain('**nightly-backup** failed in [run 42](https://github.com/acme/shop/actions/runs/42)');
    expect(body).toContain('- `dump-postgres`: Checksum mismatch in postgres.dump.zst.age');
    expect(body).toContain(
      "BACKSTOP_DATABASE_URL='…' \\\n  npx backstop-backup dump-postgres \\\n  --name prod-db \\\n  --storage-url " +
        "'s3://acme/backups\n./local copy'",
    );
    expect(body).toContain('gh run rerun 42 --failed');
    expect(body).toContain('<details open><summary>dump-postgres (failed)</summary>');
    expect(body).toContain('<details><summary>prune-backups</summary>');
  });

  it('puts the given next command first, and says when no Backstop step failed', () => {
    const body = failureReport(run, [], 'Roll back: `npx backstop restore-drill --backup-id X`');
    expect(body).toContain('A step outside Backstop failed');
    expect(body.indexOf('Roll back')).toBeLessThan(body.indexOf('gh run rerun'));
    expect(failureReport({ ...run, status: 'cancelled' }, [], undefined)).toContain('was cancelled or timed out');
  });

  it('cuts a huge summary so the issue stays under GitHub’s 65,536-character limit', () => {
    const body = failureReport(run, [step({ ok: false, error: 'x', summary: 'y'.repeat(200_000) })], undefined);
    expect(body.length).toBeLessThan(65_536);
    expect(body).toContain('(cut: the whole summary is on the run page)');
  });

  it('quotes values a shell would split', () => {
    expect(shellCommand(step({ inputs: { name: "it's" } }))).toContain(`--name 'it'\\''s'`);
    expect(recoveryComment(run, [step({})])).toContain('Recovered: [run 42]');
  });
});
