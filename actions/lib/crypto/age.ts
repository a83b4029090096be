import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ConfigurationError } from '../errors.ts';

/**
 * age (https://age-encryption.org/v1) through the pure-JS age-encryption package: anyone can decrypt what we
 * write with the stock `age` CLI, and we decrypt what it writes. Only X25519 recipients (age1…) are accepted
 * because they are what `age-keygen` makes and what age 1.1 (Debian, Ubuntu) understands.
 */
const RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

export function parseRecipients(inputName: string, values: string[]): string[] {
  for (const value of values) {
    if (!RECIPIENT.test(value)) {
      throw new ConfigurationError(
        `Input "${inputName}" has "${value}", which is not an age X25519 recipient (age1… , 62 characters): ` +
          'make a key pair with `age-keygen -o backstop.key` and use the public key it prints.',
      );
    }
  }
  return values;
}

/**
 * Identities from the text of an age key file (comments allowed, several keys allowed) or a bare key.
 * The error never echoes the value: it is a secret.
 */
export function parseIdentities(inputName: string, text: string): string[] {
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (keys.length === 0 || keys.some((key) => !IDENTITY.test(key))) {
    throw new ConfigurationError(
      `Input "${inputName}" is not an age identity: give the contents of the key file made by age-keygen ` +
        '(a line starting AGE-SECRET-KEY-1), e.g. from a secret.',
    );
  }
  return keys;
}

export async function recipientOf(identity: string): Promise<string> {
  return identityToRecipient(identity);
}

export async function encryptStream(source: Readable, recipients: string[]): Promise<Readable> {
  const encrypter = new Encrypter();
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const encrypted = await encrypter.encrypt(toWeb(source));
  return Readable.fromWeb(encrypted as unknown as WebReadableStream<Uint8Array>);
}

export async function decryptStream(source: Readable, identities: string[]): Promise<Readable> {
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  const decrypted = await decrypter.decrypt(toWeb(source));
  return Readable.fromWeb(decrypted as unknown as WebReadableStream<Uint8Array>);
}

function toWeb(source: Readable): ReadableStream<Uint8Array> {
  return Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>;
}
