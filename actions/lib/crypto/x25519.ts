import crypto from 'node:crypto';

/** X25519 on Node's KeyObjects, with keys as the raw 32 bytes age and X-Wing carry. */
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function x25519PublicKey(raw: Buffer): crypto.KeyObject {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function x25519PrivateKey(raw: Buffer): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

export function rawX25519PublicKey(key: crypto.KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(-32);
}

/**
 * The shared secret of a private key and a peer's raw public key; undefined for a low-order peer key, whose shared
 * secret is all zeros whatever the private key (age rejects those shares).
 */
export function x25519Shared(privateKey: crypto.KeyObject, peer: Buffer): Buffer | undefined {
  let shared: Buffer;
  try {
    shared = crypto.diffieHellman({ privateKey, publicKey: x25519PublicKey(peer) });
  } catch {
    return undefined; // OpenSSL itself refuses to derive an all-zero secret
  }
  return shared.every((byte) => byte === 0) ? undefined : shared;
}
