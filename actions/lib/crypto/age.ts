import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ConfigurationError } from '../action/errors.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';
import type { Origin } from '../action/origin.ts';

/**
 * age v1 (https://c2sp.org/age) with X25519 recipients, on Node's native crypto: the stock `age` CLI decrypts what
 * we write and we decrypt what it writes (both are tested). Native ChaCha20-Poly1305 runs at well over 1 GB/s, so
 * encryption never slows a backup down; the pure-JS age-encryption package measured 60–70 MB/s here and was the
 * bottleneck of the whole dump. Only what backups need is implemented: X25519 stanzas, binary (not armored) files.
 */
const VERSION_LINE = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const ENCRYPTED_CHUNK = CHUNK + TAG;
/** A header is a few hundred bytes per recipient; anything this large is not an age file. */
const MAX_HEADER_BYTES = 1024 * 1024;

const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The key given cannot open the file: none of its X25519 stanzas was addressed to it. */
export class AgeIdentityError extends Error {
  override name = 'AgeIdentityError';
}

// ---- keys ---------------------------------------------------------------------------------------------------

function decodeRecipient(recipient: string): Buffer | undefined {
  const decoded = bech32Decode(recipient);
  return decoded?.prefix === 'age' && decoded.data.length === 32 && recipient === recipient.toLowerCase()
    ? decoded.data
    : undefined;
}

function decodeIdentity(identity: string): Buffer | undefined {
  const decoded = bech32Decode(identity);
  return decoded?.prefix === 'age-secret-key-' && decoded.data.length === 32 ? decoded.data : undefined;
}

function publicKeyObject(raw: Buffer): crypto.KeyObject {
  return crypto.createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

function privateKeyObject(raw: Buffer): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function rawPublicKey(key: crypto.KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(-32);
}

export function generateIdentity(): string {
  return bech32Encode('AGE-SECRET-KEY-', crypto.randomBytes(32)).toUpperCase();
}

export function recipientOf(identity: string): string {
  const raw = decodeIdentity(identity);
  if (!raw) throw new Error('Not an age X25519 identity.');
  return bech32Encode('age', rawPublicKey(crypto.createPublicKey(privateKeyObject(raw))));
}

export function parseRecipients(values: string[], origin: Origin): string[] {
  for (const value of values) {
    if (/^AGE-(SECRET|PLUGIN)-KEY-/i.test(value)) {
      // A user pasting the key file instead of its public key: never echo it, it is the secret that opens every backup.
      throw new ConfigurationError(
        `${origin.title} holds an age identity (a secret key, not shown), not a recipient: give its public key ` +
          '(`age-keygen -y key.txt` prints it, age1…), and keep the identity itself in a secret for restores.',
      );
    }
    if (!decodeRecipient(value)) {
      throw new ConfigurationError(
        `${origin.title} has "${value}", which is not an age X25519 recipient (age1…, 62 characters): ` +
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
/** age identities as an input gave them: the keys (null when none were given) and where they came from. */
export interface Identities {
  keys: string[] | null;
  origin: Origin;
}

export function parseIdentities(text: string, origin: Origin): string[] {
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (keys.length === 0 || keys.some((key) => !decodeIdentity(key))) {
    throw new ConfigurationError(
      `${origin.title} is not an age identity: give the contents of the key file made by age-keygen ` +
        '(a line starting AGE-SECRET-KEY-1), e.g. from a secret.',
    );
  }
  return keys;
}

// ---- primitives ---------------------------------------------------------------------------------------------

function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', ikm, salt, info, 32));
}

/** Keys are KeyObjects made once per file: a raw Buffer key costs a KeyObject per 64 KiB chunk (~0.3 s/GiB). */
type Key = Buffer | crypto.KeyObject;

function seal(key: Key, nonce: Buffer, plaintext: Buffer): Buffer {
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** undefined when the ciphertext does not authenticate. */
function open(key: Key, nonce: Buffer, sealed: Buffer): Buffer | undefined {
  const decipher = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
  } catch {
    return undefined;
  }
}

const ZERO_NONCE = Buffer.alloc(12);
const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

function headerMac(fileKey: Buffer, headerUpToDashes: string): Buffer {
  return crypto
    .createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header'))
    .update(headerUpToDashes)
    .digest();
}

/** The STREAM nonce of chunk `counter`: an 11-byte big-endian counter, then 1 for the last chunk. */
function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

// ---- encryption ---------------------------------------------------------------------------------------------

function x25519Stanza(fileKey: Buffer, recipient: Buffer): string {
  const ephemeral = crypto.generateKeyPairSync('x25519');
  const share = rawPublicKey(ephemeral.publicKey);
  const shared = crypto.diffieHellman({ privateKey: ephemeral.privateKey, publicKey: publicKeyObject(recipient) });
  const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_INFO);
  // A 32-byte body is 43 base64 characters: one line, shorter than 64 as the format requires.
  return `-> X25519 ${b64(share)}\n${b64(seal(wrapKey, ZERO_NONCE, fileKey))}\n`;
}

/** A Transform that age-encrypts its input for the recipients (age1… strings). */
export function createEncryptStream(recipients: string[]): Transform {
  const fileKey = crypto.randomBytes(16);
  const stanzas = recipients.map((recipient) => {
    const raw = decodeRecipient(recipient);
    if (!raw) throw new Error(`Not an age X25519 recipient: ${recipient}`);
    return x25519Stanza(fileKey, raw);
  });
  const upToDashes = `${VERSION_LINE}\n${stanzas.join('')}---`;
  const headerText = Buffer.from(`${upToDashes} ${b64(headerMac(fileKey, upToDashes))}\n`);
  const nonce = crypto.randomBytes(16);
  const payloadKey = crypto.createSecretKey(hkdf(fileKey, nonce, 'payload'));

  // The block not sealed yet: a full block is sealed only once more data follows it, as the last block must carry
  // the "last" flag. Only this remainder is copied; whole blocks are sealed straight from the input.
  const block = Buffer.allocUnsafe(CHUNK);
  let filled = 0;
  let counter = 0;
  let header: Buffer | undefined = Buffer.concat([headerText, nonce]);

  /**
   * Pushes the header (once, before the first block) and `count` sealed blocks, `plaintext(i)` giving block i.
   * Ciphertext and tag go downstream as they come out of the cipher: concatenating them cost a copy and a 64 KiB
   * allocation per block, and the allocations alone (GC, freeing) ~0.2 s per GiB.
   */
  const sealBlocks = (stream: Transform, count: number, last: boolean, plaintext: (index: number) => Buffer): void => {
    if (header) stream.push(header);
    header = undefined;
    for (let index = 0; index < count; index++) {
      const cipher = crypto.createCipheriv(
        'chacha20-poly1305',
        payloadKey,
        chunkNonce(counter++, last && index === count - 1),
        {
          authTagLength: TAG,
        },
      );
      stream.push(cipher.update(plaintext(index)));
      cipher.final();
      stream.push(cipher.getAuthTag());
    }
  };

  return new Transform({
    readableHighWaterMark: 1 << 20,
    writableHighWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const total = filled + chunk.length;
      // Every block but the one holding the last byte so far (1 to CHUNK bytes) can be sealed now.
      const count = total === 0 ? 0 : Math.floor((total - 1) / CHUNK);
      if (count === 0) {
        filled += chunk.copy(block, filled);
        return callback();
      }
      // Block 0 starts with what is left of the previous chunk, if anything; the others lie whole in this chunk.
      const head = CHUNK - filled;
      if (filled > 0) chunk.copy(block, filled, 0, head);
      const first = filled > 0 ? block : chunk.subarray(0, CHUNK);
      sealBlocks(this, count, false, (index) =>
        index === 0 ? first : chunk.subarray(head + (index - 1) * CHUNK, head + index * CHUNK),
      );
      filled = chunk.copy(block, 0, head + (count - 1) * CHUNK);
      callback();
    },
    flush(callback: TransformCallback) {
      // An empty input still makes one (empty) last block.
      sealBlocks(this, 1, true, () => block.subarray(0, filled));
      callback();
    },
  });
}

// ---- decryption ---------------------------------------------------------------------------------------------

interface Stanza {
  args: string[];
  body: Buffer;
}

function parseHeader(text: string): { stanzas: Stanza[]; upToDashes: string; mac: Buffer } {
  const lines = text.split('\n');
  if (lines[0] !== VERSION_LINE)
    throw new Error('Not an age v1 file (the header does not start with age-encryption.org/v1).');
  const stanzas: Stanza[] = [];
  let index = 1;
  while (lines[index]?.startsWith('-> ')) {
    const args = lines[index]!.slice(3).split(' ');
    const body: string[] = [];
    for (index += 1; ; index++) {
      const line = lines[index];
      if (line === undefined) throw new Error('Damaged age header: a stanza has no final line.');
      body.push(line);
      if (line.length < 64) break;
    }
    stanzas.push({ args, body: Buffer.from(body.join(''), 'base64') });
    index += 1;
  }
  const macLine = lines[index];
  if (!macLine?.startsWith('--- ')) throw new Error('Damaged age header: no MAC line.');
  const upToDashes = `${lines.slice(0, index).join('\n')}\n---`;
  return { stanzas, upToDashes, mac: Buffer.from(macLine.slice(4), 'base64') };
}

function unwrapFileKey(stanzas: Stanza[], identities: Buffer[]): Buffer | undefined {
  for (const identity of identities) {
    const privateKey = privateKeyObject(identity);
    const ownPublic = rawPublicKey(crypto.createPublicKey(privateKey));
    for (const stanza of stanzas) {
      if (stanza.args[0] !== 'X25519' || stanza.args.length !== 2 || stanza.body.length !== 32) continue;
      const share = Buffer.from(stanza.args[1]!, 'base64');
      if (share.length !== 32) continue;
      const shared = crypto.diffieHellman({ privateKey, publicKey: publicKeyObject(share) });
      if (shared.every((byte) => byte === 0)) throw new Error('Damaged age header: a low-order X25519 share.');
      const fileKey = open(hkdf(shared, Buffer.concat([share, ownPublic]), X25519_INFO), ZERO_NONCE, stanza.body);
      if (fileKey) return fileKey;
    }
  }
  return undefined;
}

/** A Transform that decrypts an age file with the first identity (AGE-SECRET-KEY-1… strings) that opens it. */
export function createDecryptStream(identities: string[]): Transform {
  const rawIdentities = identities.map((identity) => {
    const raw = decodeIdentity(identity);
    if (!raw) throw new Error('Not an age X25519 identity.');
    return raw;
  });
  let pending: Buffer = Buffer.alloc(0);
  let payloadKey: crypto.KeyObject | undefined;
  let counter = 0;

  /** Consumes the header and the payload nonce once they have arrived; false while more bytes are needed. */
  const readHeader = (): boolean => {
    const macAt = pending.indexOf('\n--- ');
    const end = macAt < 0 ? -1 : pending.indexOf('\n', macAt + 1);
    if (end < 0 || pending.length < end + 1 + 16) {
      if (pending.length > MAX_HEADER_BYTES) throw new Error('Not an age file: no header end in the first MiB.');
      return false;
    }
    const header = parseHeader(pending.subarray(0, end + 1).toString('latin1'));
    const fileKey = unwrapFileKey(header.stanzas, rawIdentities);
    if (!fileKey) throw new AgeIdentityError("no identity matched any of the file's recipients");
    if (
      !crypto.timingSafeEqual(
        headerMac(fileKey, header.upToDashes),
        header.mac.length === 32 ? header.mac : Buffer.alloc(32),
      )
    ) {
      throw new Error('Damaged age header: its MAC does not match.');
    }
    payloadKey = crypto.createSecretKey(hkdf(fileKey, pending.subarray(end + 1, end + 17), 'payload'));
    pending = pending.subarray(end + 17);
    return true;
  };

  const openChunk = (sealed: Buffer, last: boolean): Buffer => {
    const plain = open(payloadKey!, chunkNonce(counter, last), sealed);
    if (!plain)
      throw new Error(`age: chunk ${counter} failed to decrypt and authenticate (the file is damaged or truncated).`);
    counter += 1;
    return plain;
  };

  return new Transform({
    readableHighWaterMark: 1 << 20,
    writableHighWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        if (!payloadKey && !readHeader()) return callback();
        // Open a chunk only when more bytes follow it: the one at the end must be opened as the last.
        let offset = 0;
        while (pending.length - offset > ENCRYPTED_CHUNK) {
          this.push(openChunk(pending.subarray(offset, offset + ENCRYPTED_CHUNK), false));
          offset += ENCRYPTED_CHUNK;
        }
        pending = pending.subarray(offset);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (!payloadKey && !readHeader()) throw new Error('Not an age file, or truncated inside its header.');
        if (pending.length < TAG || (pending.length === TAG && counter > 0)) {
          throw new Error('age: the file is truncated (its last chunk is missing).');
        }
        this.push(openChunk(pending, true));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
