import { describe, expect, it } from 'vitest';
import { cliRuntime, parseFlags } from '../../actions/lib/action/cli.ts';
import type { InputSpecs } from '../../actions/lib/action/descriptor.ts';
import { inputEnvName } from '../../actions/lib/action/env.ts';
import { ConfigurationError } from '../../actions/lib/action/errors.ts';
import { InputReader, splitList } from '../../actions/lib/action/input-reader.ts';
import { maskUrlCredentials } from '../../actions/lib/action/mask.ts';
import { SecretRegistry } from '../../actions/lib/action/runtime.ts';

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
