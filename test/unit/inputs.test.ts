import { describe, expect, it } from 'vitest';
import { cliRuntime, parseFlags } from '../../actions/lib/action/cli.ts';
import type { InputSpecs } from '../../actions/lib/action/descriptor.ts';
import { inputEnvName } from '../../actions/lib/action/env.ts';
import { ConfigurationError, InputProblems } from '../../actions/lib/action/errors.ts';
import { InputReader, splitList } from '../../actions/lib/action/input-reader.ts';
import { maskUrlCredentials } from '../../actions/lib/action/mask.ts';
import { Origin } from '../../actions/lib/action/origin.ts';
import { SecretRegistry } from '../../actions/lib/action/runtime.ts';
import { checkBackupName } from '../../actions/lib/manifest/ids.ts';
import { parseDatabaseUrl } from '../../actions/lib/pg/connection.ts';
import { parseQdrantUrl } from '../../actions/lib/qdrant/client.ts';
import { parseHeartbeatUrl } from '../../actions/lib/report/heartbeat.ts';
import { readRecipients } from '../../actions/lib/inputs/encryption.ts';
import type { Runtime } from '../../actions/lib/action/runtime.ts';
import { readInputs as readPruneInputs } from '../../actions/prune-backups/src/inputs.ts';
import { readInputs as readDumpInputs } from '../../actions/dump-postgres/src/inputs.ts';
import { readInputs as readDrillInputs } from '../../actions/restore-drill/src/inputs.ts';
import { readInputs as readPhysicalInputs } from '../../actions/backup-physical/src/inputs.ts';
import { readInputs as readSnapshotInputs } from '../../actions/snapshot-qdrant/src/inputs.ts';
import { readInputs as readMigrateInputs } from '../../actions/migrate-ticks/src/inputs.ts';
import { readInputs as readIntegrityInputs } from '../../actions/validate-integrity/src/inputs.ts';
import { readInputs as readReportInputs } from '../../actions/report/src/inputs.ts';

const SPECS = {
  name: { description: 'a name', required: true },
  jobs: { description: 'jobs', default: '4' },
  'dry-run': { description: 'dry', default: 'false' },
  ratio: { description: 'ratio' },
  token: { description: 'secret', secret: true },
  url: { description: 'url', secret: 'url' },
} as const satisfies InputSpecs;

function reader(values: Record<string, string>): { inputs: InputReader; secrets: string[] } {
  const secrets: string[] = [];
  const { runtime } = cliRuntime(new Map(Object.entries(values)), {}, { out: () => undefined, err: () => undefined });
  const recording = { ...runtime, setSecret: (secret: string) => void secrets.push(secret) };
  return { inputs: new InputReader(recording, SPECS), secrets };
}

/** A runtime as on a runner (no terminal host), with the given inputs. */
function inWorkflow(values: Map<string, string>): Runtime {
  const { runtime } = cliRuntime(values, {}, { out: () => undefined, err: () => undefined });
  return { ...runtime, context: { ...runtime.context, host: undefined } };
}

describe('InputReader', () => {
  it('reads typed values with defaults', () => {
    const { inputs } = reader({ name: ' prod ', 'dry-run': 'yes', ratio: '1.5' });
    expect(inputs.string('name')).toBe('prod');
    expect(inputs.integer('jobs', { min: 1 })).toBe(4);
    expect(inputs.boolean('dry-run')).toBe(true);
    expect(inputs.optionalNumber('ratio', { min: 0 })).toBe(1.5);
    expect(inputs.optional('token')).toBeUndefined();
  });

  it.each([
    [{}, 'name', 'Input "name" is required: a name'],
    [{ name: 'x', jobs: '0' }, 'jobs', 'Input "jobs" is 0, out of range: set it to a whole number from 1 to 64.'],
    [
      { name: 'x', jobs: '2.5' },
      'jobs',
      'Input "jobs" is "2.5", not a whole number: set it to a whole number from 1 to 64.',
    ],
    [
      { name: 'x', 'dry-run': 'maybe' },
      'dry-run',
      'Input "dry-run" is "maybe", not a boolean: set it to true or false.',
    ],
  ] as [Record<string, string>, string, string][])('%o → one line naming %s', (values, name, message) => {
    const { inputs } = reader(values);
    const read = (): unknown =>
      name === 'jobs'
        ? inputs.integer('jobs', { min: 1, max: 64 })
        : name === 'dry-run'
          ? inputs.boolean('dry-run')
          : inputs.string('name');
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(message);
  });

  it('masks secret inputs: whole values, and only the password part of URLs without one', () => {
    const withPassword = reader({ token: 'tok-123456', url: 'postgresql://u:p%40ss-word@h/db' });
    withPassword.inputs.maskSecrets();
    expect(new Set(withPassword.secrets)).toEqual(
      new Set(['tok-123456', 'postgresql://u:p%40ss-word@h/db', 'p%40ss-word', 'p@ss-word']),
    );
    const withoutPassword = reader({ url: 'postgresql://u@h/db' });
    withoutPassword.inputs.maskSecrets();
    expect(withoutPassword.secrets).toEqual([]);
  });

  it('masks what looks like a secret in any input, whether or not the input is a secret', () => {
    const identity = 'AGE-SECRET-KEY-1QQPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KH';
    const pasted = reader({ name: `x ${identity}`, jobs: 'https://bob:hunter22@example.com/x' });
    pasted.inputs.maskSecrets();
    expect(pasted.secrets).toContain(identity);
    expect(pasted.secrets).toContain('hunter22');
    const plain = reader({ name: 'prod-db', jobs: 'https://example.com/x' });
    plain.inputs.maskSecrets();
    expect(plain.secrets).toEqual([]);
  });

  it('names every missing required input at once', () => {
    const twoRequired = { a: { description: 'a', required: true }, b: { description: 'b', required: true } };
    const { runtime } = cliRuntime(new Map(), {}, { out: () => undefined, err: () => undefined });
    expect(() => new InputReader(runtime, twoRequired).checkRequired()).toThrow(
      'Inputs "a", "b" are required: set each of them (--help lists what they take).',
    );
  });

  it('in a workflow, the missing inputs point to the README, not to --help', () => {
    const twoRequired = { a: { description: 'a', required: true }, b: { description: 'b', required: true } };
    expect(() => new InputReader(inWorkflow(new Map()), twoRequired).checkRequired()).toThrow(
      `Inputs "a", "b" are required: set each of them (the action's README lists what they take).`,
    );
  });

  it('spells a setting the way the user gives it where they are', () => {
    const terminal = reader({}).inputs;
    expect(terminal.spell('dry-run', 'true')).toBe('--dry-run');
    expect(terminal.spell('dry-run', 'false')).toBe('--no-dry-run');
    expect(terminal.spell('jobs', '8')).toBe('--jobs 8');
    const workflow = new InputReader(inWorkflow(new Map()), SPECS);
    expect(workflow.spell('dry-run', 'true')).toBe('dry-run: true');
    expect(workflow.spell('jobs', '8')).toBe('jobs: 8');
  });

  it('the unencrypted hint: --allow-unencrypted in a terminal, allow-unencrypted: true in a workflow', () => {
    const specs = {
      'encryption-recipients': { description: 'r' },
      'allow-unencrypted': { description: 'u', default: 'false' },
    };
    const terminal = cliRuntime(new Map(), {}, { out: () => undefined, err: () => undefined }).runtime;
    expect(() => readRecipients(new InputReader(terminal, specs))).toThrow(
      /or set --allow-unencrypted to store this backup in the clear\.$/,
    );
    expect(() => readRecipients(new InputReader(inWorkflow(new Map()), specs))).toThrow(
      /or set allow-unencrypted: true to store this backup in the clear\.$/,
    );
  });

  it('every bad input at once: prune-backups with three mistakes names all three, a line each', () => {
    const bad = new Map(
      Object.entries({ 'storage-url': 's3:/bucket', name: 'a/b', 'keep-daily': 'x', 'dry-run': 'perhaps' }),
    );
    let caught: unknown;
    try {
      readPruneInputs(inWorkflow(bad));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputProblems);
    expect((caught as InputProblems).problems).toEqual([
      expect.stringMatching(/^Input "storage-url" has "s3:\/bucket": not a storage URL/),
      expect.stringMatching(/^Input "name" /),
      'Input "keep-daily" is "x", not a whole number: set it to a whole number from 0 to 100000.',
      'Input "dry-run" is "perhaps", not a boolean: set it to true or false.',
    ]);
    // One mistake stays the one line it was.
    const one = new Map(Object.entries({ 'storage-url': './x', name: 'prod', 'keep-daily': 'x' }));
    expect(() => readPruneInputs(inWorkflow(one))).toThrow(
      new ConfigurationError(
        'Input "keep-daily" is "x", not a whole number: set it to a whole number from 0 to 100000.',
      ),
    );
  });

  it('dump-postgres: the required inputs first, then every other mistake together', () => {
    expect(() => readDumpInputs(inWorkflow(new Map()))).toThrow(
      /^Inputs "database-url", "name", "storage-url" are required/,
    );
    const bad = new Map(
      Object.entries({
        'database-url': 'mysql://x',
        name: 'prod',
        'storage-url': 'file://relative',
        jobs: '0',
        kind: 'sometimes',
      }),
    );
    expect(() => readDumpInputs(inWorkflow(bad))).toThrow(InputProblems);
    try {
      readDumpInputs(inWorkflow(bad));
    } catch (error) {
      expect((error as InputProblems).problems.map((line) => /^Input "([^"]+)"/.exec(line)?.[1])).toEqual([
        'encryption-recipients',
        'database-url',
        'storage-url',
        'kind',
        'jobs',
      ]);
    }
  });

  it('restore-drill: every bad input together', () => {
    const bad = new Map(
      Object.entries({ 'storage-url': './b', name: 'a/b', jobs: '0', 'to-time': 'yesterday', privileges: 'sure' }),
    );
    expect(() => readDrillInputs(inWorkflow(bad))).toThrow(InputProblems);
    try {
      readDrillInputs(inWorkflow(bad));
    } catch (error) {
      expect((error as InputProblems).problems.map((line) => /^Input "([^"]+)"/.exec(line)?.[1])).toEqual([
        'name',
        'privileges',
        'jobs',
        'to-time',
      ]);
    }
  });

  it.each([
    ['s3:/bucket', /not a storage URL Backstop knows/],
    ['s3//bucket', /a local folder must be an absolute path or start with \.\//],
    ['S3://bucket/prefix', /not a storage URL Backstop knows/],
    ['file://relative/path', /a file URL needs three slashes and an absolute path/],
    ['file://host/srv/backups', /a file URL needs three slashes and an absolute path/],
  ])('storage-url %s is one line naming the input, never a local folder', (url, why) => {
    const runtime = inWorkflow(new Map(Object.entries({ 'storage-url': url, name: 'prod' })));
    let message = '';
    try {
      readPruneInputs(runtime);
    } catch (error) {
      expect(error).not.toBeInstanceOf(InputProblems);
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([expect.stringMatching(/^Input "storage-url" has "/)]);
    expect(message).toMatch(why);
  });

  it.each([
    [
      'backup-physical',
      readPhysicalInputs,
      { name: 'a/b', 'storage-url': './b', 'pg-data': '/x', 'database-url': 'mysql://x', type: 'weekly' },
      ['name', 'database-url', 'encryption-passphrase', 'type'],
    ],
    [
      'snapshot-qdrant',
      readSnapshotInputs,
      { 'qdrant-url': 'ftp://q', name: 'a/b', 'storage-url': 'S3://b', kind: 'often', 'allow-unencrypted': 'true' },
      ['qdrant-url', 'name', 'storage-url', 'kind'],
    ],
    [
      'migrate-ticks',
      readMigrateInputs,
      { 'source-url': 'mysql://x', 'target-url': 'postgresql://h/t', from: 'yesterday', to: 'soon', workers: '0' },
      ['source-url', 'from', 'to', 'workers'],
    ],
    [
      'validate-integrity',
      readIntegrityInputs,
      // The idle timeout is read for storage and for file sources: named once.
      { 'database-url': 'mysql://x', 'qdrant-url': 'ftp://q', 'idle-timeout-seconds': '0', 'fail-on': 'often' },
      ['database-url', 'qdrant-url', 'idle-timeout-seconds', 'fail-on'],
    ],
    [
      'report',
      readReportInputs,
      { name: 'prod', ping: 'ned', status: 'red', 'keep-alive': 'perhaps', 'notify-on': 'sometimes' },
      ['ping', 'status', 'github-token', 'keep-alive', 'notify-on'],
    ],
  ] as const)('%s: every bad input together', (_action, read, values, names) => {
    let problems: string[] = [];
    try {
      read(inWorkflow(new Map(Object.entries(values))));
    } catch (error) {
      problems = (error as InputProblems).problems ?? [];
    }
    expect(problems.map((line) => /^Input "([^"]+)"/.exec(line)?.[1])).toEqual(names);
  });

  it('splits lists on newlines and commas', () => {
    expect(splitList(' a,\nb ,, \n c')).toEqual(['a', 'b', 'c']);
  });
});

describe('masking', () => {
  it('redacts longest secrets first and ignores very short ones', () => {
    const registry = new SecretRegistry();
    registry.add('pass');
    registry.add('postgresql://u:pass@h/db');
    registry.add('x');
    expect(registry.redact('url postgresql://u:pass@h/db and pass and x')).toBe('url *** and *** and x');
  });

  it('masks a password given as a query parameter, and an unparsable value whole', () => {
    const secrets: string[] = [];
    const runtime = { setSecret: (secret: string) => void secrets.push(secret) } as never;
    maskUrlCredentials(runtime, 'postgresql://h/db?password=hunter22');
    maskUrlCredentials(runtime, 'host=h password=x');
    expect(secrets).toEqual(['postgresql://h/db?password=hunter22', 'hunter22', 'hunter22', 'host=h password=x']);
  });
});

describe('CLI flags', () => {
  it('parses --name value, --name=value and bare booleans; inputs also come from BACKSTOP_ variables', () => {
    const flags = parseFlags(['--name', 'prod', '--jobs=8', '--dry-run'], SPECS);
    expect([...flags]).toEqual([
      ['name', 'prod'],
      ['jobs', '8'],
      ['dry-run', 'true'],
    ]);
    const { runtime } = cliRuntime(
      flags,
      { [inputEnvName('token')]: 'from-env' },
      { out: () => undefined, err: () => undefined },
    );
    expect(inputEnvName('database-url')).toBe('BACKSTOP_DATABASE_URL');
    expect(runtime.getInput('token')).toBe('from-env');
    expect(runtime.getInput('name')).toBe('prod');
  });

  it('rejects unknown flags and stray arguments, listing what is accepted', () => {
    expect(() => parseFlags(['--nme', 'x'], SPECS)).toThrow('Unknown input --nme: this command takes --name, --jobs');
    expect(() => parseFlags(['prod'], SPECS)).toThrow('Unexpected argument "prod"');
  });
});

describe('messages say what is wrong, not something near it', () => {
  const origin = (name: string) => Origin.input(name);

  it('a port out of range is said as such in a PostgreSQL, Qdrant or heartbeat URL', () => {
    expect(() => parseDatabaseUrl('postgresql://u:pw@db:99999/prod', origin('database-url'))).toThrow(
      'Input "database-url" is a URL with port 99999, out of range (ports go up to 65535): use postgresql://',
    );
    expect(() => parseDatabaseUrl('not a url', origin('database-url'))).toThrow('Input "database-url" is not a URL:');
    expect(() => parseQdrantUrl('http://qdrant:99999', origin('qdrant-url'), origin('qdrant-api-key'))).toThrow(
      'Input "qdrant-url" has "http://qdrant:99999", a URL with port 99999, out of range',
    );
    expect(() => parseHeartbeatUrl('https://hc-ping.com:70000/x', origin('heartbeat-url'), 10)).toThrow(
      'Input "heartbeat-url" is a URL with port 70000, out of range',
    );
    expect(() => parseHeartbeatUrl('nope', origin('heartbeat-url'), 10)).toThrow(
      'Input "heartbeat-url" is not an http(s) URL:',
    );
  });

  it('a name that is a path step is told so; other bad names get the rule', () => {
    expect(() => checkBackupName('..', origin('name'))).toThrow(
      'Input "name" is "..": ".." is a path step (the parent folder), not allowed as a name',
    );
    expect(() => checkBackupName('.', origin('name'))).toThrow('"." is a path step (this folder)');
    expect(() => checkBackupName('a/b', origin('name'))).toThrow('Input "name" is "a/b": use letters, digits');
    expect(() => checkBackupName('x'.repeat(101), origin('name'))).toThrow('101 characters, at most 100');
    expect(checkBackupName('prod.db_2-a', origin('name'))).toBe('prod.db_2-a');
  });
});
