import { generateIdentity, recipientOf } from '../../actions/lib/crypto/age.ts';

export interface KeyPair {
  identity: string;
  recipient: string;
}

export async function newKeyPair(): Promise<KeyPair> {
  const identity = generateIdentity();
  return { identity, recipient: recipientOf(identity) };
}
