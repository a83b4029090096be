import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../actions/lib/action/errors.ts';
import { Origin } from '../../actions/lib/action/origin.ts';
import {
  createEncryptStream,
  generateHybridIdentity,
  generateIdentity,
  parseIdentities,
  parseRecipients,
  recipientOf,
} from '../../actions/lib/crypto/age.ts';
import { bech32Encode } from '../../actions/lib/crypto/bech32.ts';

const origin = Origin.input('encryption-recipients');
const x25519 = recipientOf(generateIdentity());
const hybrid = recipientOf(generateHybridIdentity());
const SUPPORTED =
  'Backstop encrypts to age X25519 recipients (age1…, from `age-keygen`) and post-quantum hybrid recipients ' +
  '(age1pq1…, from `age-keygen -pq`, age 1.3 or later); give one of those instead.';

function refusal(values: string[]): string {
  try {
    parseRecipients(values, origin);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('age recipients', () => {
  it('accepts X25519 recipients and post-quantum hybrid ones, each kind alone', () => {
    expect(hybrid).toMatch(/^age1pq1[a-z0-9]{1952}$/);
    expect(parseRecipients([x25519, recipientOf(generateIdentity())], origin)).toHaveLength(2);
    expect(parseRecipients([hybrid, recipientOf(generateHybridIdentity())], origin)).toHaveLength(2);
  });

  it('refuses post-quantum and X25519 recipients together, as age 1.3 does', () => {
    expect(refusal([hybrid, x25519])).toBe(
      'Input "encryption-recipients" mixes post-quantum (age1pq1…) and X25519 (age1…) recipients: a file an X25519 ' +
        'key opens is not safe from a quantum computer, so age does not allow the mix; give only age1pq1… ' +
        'recipients (or only age1…).',
    );
    expect(() => createEncryptStream([x25519, hybrid])).toThrow(/mixes post-quantum/);
  });

  it.each([
    [
      'an SSH public key',
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@host',
    ],
    ['an SSH public key', 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDc bob@host'],
    ['an age plugin recipient (age-plugin-yubikey)', bech32Encode('age1yubikey', Buffer.alloc(33, 7))],
    ['an age hardware-key (tag) recipient', bech32Encode('age1tag', Buffer.alloc(33, 7))],
    // A hybrid recipient whose ML-KEM key does not check (coefficients out of range).
    [
      'not a valid post-quantum recipient (its ML-KEM key does not check)',
      bech32Encode('age1pq', Buffer.alloc(1216, 0xff)),
    ],
  ])('refuses %s, naming it and the kinds supported', (kind, value) => {
    const message = refusal([x25519, value]);
    expect(message).toMatch(/^Input "encryption-recipients" has "/);
    expect(message).toContain(`", ${kind}: ${SUPPORTED}`);
    expect(message.length).toBeLessThan(400);
  });

  it('refuses what is no recipient at all, and never echoes a pasted identity', () => {
    expect(refusal(['age1nope'])).toBe(
      'Input "encryption-recipients" has "age1nope", which is not an age recipient: Backstop encrypts to age ' +
        'X25519 recipients (age1…, from `age-keygen`) and post-quantum hybrid recipients (age1pq1…, from ' +
        '`age-keygen -pq`, age 1.3 or later); make a key pair with `age-keygen -pq -o backstop.key` and use the ' +
        'public key it prints.',
    );
    const identity = generateHybridIdentity();
    const message = refusal([identity]);
    expect(message).toMatch(/holds an age identity \(a secret key, not shown\)/);
    expect(message).not.toContain(identity.slice(20));
  });

  it('reads key files holding either kind of identity, and refuses plugin identities', () => {
    const keys = [generateIdentity(), generateHybridIdentity()];
    const text = `# created: now\n# public key: ${recipientOf(keys[0]!)}\n${keys[0]}\n\n${keys[1]}\n`;
    expect(parseIdentities(text, Origin.input('encryption-identity'))).toEqual(keys);
    const plugin = bech32Encode('AGE-PLUGIN-YUBIKEY-', Buffer.alloc(20, 1)).toUpperCase();
    expect(() => parseIdentities(plugin, Origin.input('encryption-identity'))).toThrow(
      'Input "encryption-identity" is not an age identity: give the contents of the key file made by age-keygen ' +
        '(a line starting AGE-SECRET-KEY-1 or, post-quantum, AGE-SECRET-KEY-PQ-1), e.g. from a secret.',
    );
  });
});
