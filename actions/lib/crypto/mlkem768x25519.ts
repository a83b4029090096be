import crypto from 'node:crypto';
import { rawX25519PublicKey, x25519PrivateKey, x25519Shared } from './x25519.ts';

/**
 * The MLKEM768-X25519 hybrid KEM (X-Wing, as draft-ietf-hpke-pq and filippo.io/hpke-pq specify it) and the one HPKE
 * operation age's `mlkem768x25519` stanza needs: single-shot SealBase/OpenBase with HKDF-SHA256 and
 * ChaCha20-Poly1305. ML-KEM-768, X25519, SHAKE256 and SHA3-256 are Node's own (OpenSSL 3.5); only the glue is here.
 * The file key stays confidential as long as either ML-KEM-768 or X25519 holds.
 */
export const HYBRID_PUBLIC_KEY_BYTES = 1184 + 32;
export const HYBRID_ENC_BYTES = 1088 + 32;
export const HYBRID_SEED_BYTES = 32;

const MLKEM_PUBLIC_BYTES = 1184;
const MLKEM_CIPHERTEXT_BYTES = 1088;
/** SPKI and seed-only PKCS#8 (RFC 9935) wrappings of ML-KEM-768 (OID 2.16.840.1.101.3.4.4.2) keys. */
const MLKEM_SPKI_PREFIX = Buffer.from('308204b2300b0609608648016503040402038204a100', 'hex');
const MLKEM_SEED_PKCS8_PREFIX = Buffer.from('3054020100300b060960864801650304040204428040', 'hex');
/** X-Wing's domain separator, the ASCII art `\.//^\`. */
const XWING_LABEL = Buffer.from('5c2e2f2f5e5c', 'hex');

/** A hybrid private key expanded from its 32-byte seed (the age identity). */
export interface HybridPrivateKey {
  mlkem: crypto.KeyObject;
  x25519: crypto.KeyObject;
  x25519Public: Buffer;
  publicKey: Buffer;
}

export function hybridPrivateKey(seed: Buffer): HybridPrivateKey {
  const expanded = crypto.createHash('shake256', { outputLength: 96 }).update(seed).digest();
  const mlkem = crypto.createPrivateKey({
    key: Buffer.concat([MLKEM_SEED_PKCS8_PREFIX, expanded.subarray(0, 64)]),
    format: 'der',
    type: 'pkcs8',
  });
  const x25519 = x25519PrivateKey(expanded.subarray(64, 96));
  const x25519Public = rawX25519PublicKey(crypto.createPublicKey(x25519));
  const mlkemPublic = crypto.createPublicKey(mlkem).export({ format: 'der', type: 'spki' }).subarray(-1184);
  return { mlkem, x25519, x25519Public, publicKey: Buffer.concat([mlkemPublic, x25519Public]) };
}

/** The ML-KEM half of a hybrid public key as a KeyObject; throws when it is not a valid encapsulation key. */
function mlkemPublicKey(publicKey: Buffer): crypto.KeyObject {
  const key = Buffer.concat([MLKEM_SPKI_PREFIX, publicKey.subarray(0, MLKEM_PUBLIC_BYTES)]);
  return crypto.createPublicKey({ key, format: 'der', type: 'spki' });
}

/** Whether these bytes are a hybrid public key Node accepts (the right length, a valid ML-KEM-768 key). */
export function isHybridPublicKey(publicKey: Buffer): boolean {
  if (publicKey.length !== HYBRID_PUBLIC_KEY_BYTES) return false;
  try {
    mlkemPublicKey(publicKey);
    return true;
  } catch {
    return false;
  }
}

function combine(mlkemShared: Buffer, x25519Shared: Buffer, x25519Enc: Buffer, x25519Public: Buffer): Buffer {
  return crypto
    .createHash('sha3-256')
    .update(Buffer.concat([mlkemShared, x25519Shared, x25519Enc, x25519Public, XWING_LABEL]))
    .digest();
}

function encapsulate(publicKey: Buffer): { enc: Buffer; shared: Buffer } {
  const mlkem = crypto.encapsulate(mlkemPublicKey(publicKey));
  const x25519Public = publicKey.subarray(MLKEM_PUBLIC_BYTES);
  const ephemeral = crypto.generateKeyPairSync('x25519');
  const x25519Enc = rawX25519PublicKey(ephemeral.publicKey);
  const shared = x25519Shared(ephemeral.privateKey, x25519Public);
  if (!shared) throw new Error('The X25519 half of the post-quantum recipient is a low-order point.');
  return {
    enc: Buffer.concat([mlkem.ciphertext, x25519Enc]),
    shared: combine(mlkem.sharedKey, shared, x25519Enc, x25519Public),
  };
}

/** undefined when the X25519 half of `enc` is a low-order point (ML-KEM itself never fails: implicit rejection). */
function decapsulate(key: HybridPrivateKey, enc: Buffer): Buffer | undefined {
  const x25519Enc = enc.subarray(MLKEM_CIPHERTEXT_BYTES);
  const shared = x25519Shared(key.x25519, x25519Enc);
  if (!shared) return undefined;
  const mlkemShared = crypto.decapsulate(key.mlkem, enc.subarray(0, MLKEM_CIPHERTEXT_BYTES));
  return combine(mlkemShared, shared, x25519Enc, key.x25519Public);
}

// ---- HPKE (RFC 9180) base mode, KEM 0x647a, HKDF-SHA256 (0x0001), ChaCha20-Poly1305 (0x0003) ------------------

const SUITE_ID = Buffer.from('48504b45647a00010003', 'hex'); // "HPKE" || kem_id || kdf_id || aead_id
const HPKE_V1 = Buffer.from('HPKE-v1');

function extract(salt: Buffer, ikm: Buffer): Buffer {
  return crypto.createHmac('sha256', salt).update(ikm).digest();
}

/** HKDF-Expand for up to one SHA-256 block, all HPKE's key schedule asks for here. */
function expandOneBlock(prk: Buffer, info: Buffer, length: number): Buffer {
  return crypto
    .createHmac('sha256', prk)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest()
    .subarray(0, length);
}

function labeledExtract(salt: Buffer, label: string, ikm: Buffer): Buffer {
  return extract(salt, Buffer.concat([HPKE_V1, SUITE_ID, Buffer.from(label), ikm]));
}

function labeledExpand(prk: Buffer, label: string, info: Buffer, length: number): Buffer {
  const prefix = Buffer.from([length >> 8, length & 0xff]);
  return expandOneBlock(prk, Buffer.concat([prefix, HPKE_V1, SUITE_ID, Buffer.from(label), info]), length);
}

function keySchedule(shared: Buffer, info: Buffer): { key: Buffer; nonce: Buffer } {
  const empty = Buffer.alloc(0);
  const context = Buffer.concat([
    Buffer.from([0]), // mode_base
    labeledExtract(empty, 'psk_id_hash', empty),
    labeledExtract(empty, 'info_hash', info),
  ]);
  const secret = labeledExtract(shared, 'secret', empty);
  return { key: labeledExpand(secret, 'key', context, 32), nonce: labeledExpand(secret, 'base_nonce', context, 12) };
}

/** HPKE SealBase of one message with an empty aad: the encapsulated key and the sealed message. */
export function hpkeSeal(publicKey: Buffer, info: string, plaintext: Buffer): { enc: Buffer; sealed: Buffer } {
  const { enc, shared } = encapsulate(publicKey);
  const { key, nonce } = keySchedule(shared, Buffer.from(info));
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return { enc, sealed: Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]) };
}

/**
 * HPKE OpenBase of one message; undefined when it does not authenticate (not addressed to this key), null when
 * `enc` carries a low-order X25519 share (a malformed stanza, not merely someone else's).
 */
export function hpkeOpen(key: HybridPrivateKey, info: string, enc: Buffer, sealed: Buffer): Buffer | undefined | null {
  const shared = decapsulate(key, enc);
  if (!shared) return null;
  const schedule = keySchedule(shared, Buffer.from(info));
  const decipher = crypto.createDecipheriv('chacha20-poly1305', schedule.key, schedule.nonce, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  } catch {
    return undefined;
  }
}
