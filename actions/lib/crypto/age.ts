import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ConfigurationError } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';
import {
  HYBRID_ENC_BYTES,
  HYBRID_SEED_BYTES,
  type HybridPrivateKey,
  hpkeOpen,
  hpkeSeal,
  hybridPrivateKey,
  isHybridPublicKey,
} from './mlkem768x25519.ts';
import { rawX25519PublicKey, x25519PrivateKey, x25519Shared } from './x25519.ts';

/**
 * age v1 (https://c2sp.org/age) on Node's native crypto, with two recipient types: X25519 (`age1…`) and the
 * post-quantum hybrid of age 1.3 (`age1pq1…`, the `mlkem768x25519` stanza: HPKE with ML-KEM-768 + X25519, see
 * mlkem768x25519.ts), which keeps a backup confidential even against a future quantum computer. The stock `age` CLI
 * and the age-encryption package decrypt what we write and we decrypt what they write (both are tested, as are the
 * C2SP CCTV test vectors). Native ChaCha20-Poly1305 runs at well over 1 GB/s, so encryption never slows a backup
 * down; the pure-JS age-encryption package measured 60–70 MB/s here and was the bottleneck of the whole dump. Only
 * what backups need is implemented: no passphrases (scrypt), SSH keys, plugins or armor.
 */
const VERSION_LINE = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const HYBRID_INFO = 'age-encryption.org/mlkem768x25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const ENCRYPTED_CHUNK = CHUNK + TAG;
/** A header is a few hundred bytes per X25519 recipient, 1.6 KB per hybrid one; more than this is not age. */
const MAX_HEADER_BYTES = 1024 * 1024;
const SUPPORTED_KINDS =
  'Backstop encrypts to age X25519 recipients (age1…, from `age-keygen`) and post-quantum hybrid recipients ' +
  '(age1pq1…, from `age-keygen -pq`, age 1.3 or later)';

/** The key given cannot open the file: none of the file's stanzas was addressed to it. */
export class AgeIdentityError extends Error {
  override name = 'AgeIdentityError';
}

// ---- keys ---------------------------------------------------------------------------------------------------

type Recipient = { kind: 'X25519'; publicKey: Buffer } | { kind: 'hybrid'; publicKey: Buffer };
type Identity = { kind: 'X25519'; privateKey: crypto.KeyObject; publicKey: Buffer } | HybridIdentity;
type HybridIdentity = { kind: 'hybrid'; key: HybridPrivateKey };

function decodeRecipient(recipient: string): Recipient | undefined {
  const decoded = bech32Decode(recipient);
  if (!decoded || recipient !== recipient.toLowerCase()) return undefined;
  if (decoded.prefix === 'age' && decoded.data.length === 32) return { kind: 'X25519', publicKey: decoded.data };
  if (decoded.prefix === 'age1pq' && isHybridPublicKey(decoded.data))
    return { kind: 'hybrid', publicKey: decoded.data };
  return undefined;
}

function decodeIdentity(identity: string): Identity | undefined {
  const decoded = bech32Decode(identity);
  if (decoded?.data.length !== 32) return undefined;
  if (decoded.prefix === 'age-secret-key-') {
    const privateKey = x25519PrivateKey(decoded.data);
    return { kind: 'X25519', privateKey, publicKey: rawX25519PublicKey(crypto.createPublicKey(privateKey)) };
  }
  if (decoded.prefix === 'age-secret-key-pq-') return { kind: 'hybrid', key: hybridPrivateKey(decoded.data) };
  return undefined;
}

/** An X25519 identity (AGE-SECRET-KEY-1…), as `age-keygen` makes. */
export function generateIdentity(): string {
  return bech32Encode('AGE-SECRET-KEY-', crypto.randomBytes(32)).toUpperCase();
}

/** A post-quantum hybrid identity (AGE-SECRET-KEY-PQ-1…), as `age-keygen -pq` makes. */
export function generateHybridIdentity(): string {
  return bech32Encode('AGE-SECRET-KEY-PQ-', crypto.randomBytes(HYBRID_SEED_BYTES)).toUpperCase();
}

/** The recipient (public key) of an identity of either kind. */
export function recipientOf(identity: string): string {
  const decoded = decodeIdentity(identity);
  if (!decoded) throw new Error('Not an age identity.');
  return decoded.kind === 'X25519'
    ? bech32Encode('age', decoded.publicKey)
    : bech32Encode('age1pq', decoded.key.publicKey);
}

/** What an unsupported recipient is, for the line refusing it; undefined when it is not a recipient at all. */
function unsupportedKind(value: string): string | undefined {
  if (/^(sk-)?(ssh|ecdsa)-[\w@.-]+ /.test(value)) return 'an SSH public key';
  const decoded = bech32Decode(value);
  if (!decoded?.prefix.startsWith('age1')) return undefined;
  if (decoded.prefix === 'age1tag' || decoded.prefix === 'age1tagpq') return 'an age hardware-key (tag) recipient';
  if (decoded.prefix === 'age1pq') return 'not a valid post-quantum recipient (its ML-KEM key does not check)';
  return `an age plugin recipient (age-plugin-${decoded.prefix.slice(4)})`;
}

/** A value short enough for one line: hybrid recipients are 1,950 characters. */
function shown(value: string): string {
  return value.length > 80 ? `${value.slice(0, 40)}…${value.slice(-8)}` : value;
}

export function parseRecipients(values: string[], origin: Origin): string[] {
  const kinds = new Set<Recipient['kind']>();
  for (const value of values) {
    if (/^AGE-(SECRET|PLUGIN)-KEY-/i.test(value)) {
      // A user pasting the key file instead of its public key: never echo it, it is the secret that opens every backup.
      throw new ConfigurationError(
        `${origin.title} holds an age identity (a secret key, not shown), not a recipient: give its public key ` +
          '(`age-keygen -y key.txt` prints it, age1…), and keep the identity itself in a secret for restores.',
      );
    }
    const recipient = decodeRecipient(value);
    if (!recipient) {
      const kind = unsupportedKind(value);
      throw new ConfigurationError(
        kind
          ? `${origin.title} has "${shown(value)}", ${kind}: ${SUPPORTED_KINDS}; give one of those instead.`
          : `${origin.title} has "${shown(value)}", which is not an age recipient: ${SUPPORTED_KINDS}; make a key ` +
              'pair with `age-keygen -pq -o backstop.key` and use the public key it prints.',
      );
    }
    kinds.add(recipient.kind);
  }
  if (kinds.size > 1) throw new ConfigurationError(mixedRecipients(origin));
  return values;
}

/** age 1.3 refuses this mix as well: a file any X25519 key opens is not safe from a quantum computer. */
function mixedRecipients(origin: Origin | string): string {
  return (
    `${typeof origin === 'string' ? origin : origin.title} mixes post-quantum (age1pq1…) and X25519 (age1…) ` +
    'recipients: a file an X25519 key opens is not safe from a quantum computer, so age does not allow the mix; ' +
    'give only age1pq1… recipients (or only age1…).'
  );
}

/** age identities as an input gave them: the keys (null when none were given) and where they came from. */
export interface Identities {
  keys: string[] | null;
  origin: Origin;
}

/**
 * Identities from the text of an age key file (comments allowed, several keys allowed) or a bare key.
 * The error never echoes the value: it is a secret.
 */
export function parseIdentities(text: string, origin: Origin): string[] {
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (keys.length === 0 || keys.some((key) => !decodeIdentity(key))) {
    throw new ConfigurationError(
      `${origin.title} is not an age identity: give the contents of the key file made by age-keygen ` +
        '(a line starting AGE-SECRET-KEY-1 or, post-quantum, AGE-SECRET-KEY-PQ-1), e.g. from a secret.',
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
  const share = rawX25519PublicKey(ephemeral.publicKey);
  const shared = x25519Shared(ephemeral.privateKey, recipient);
  if (!shared) throw new Error('Not an age X25519 recipient: a low-order point.');
  const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_INFO);
  // A 32-byte body is 43 base64 characters: one line, shorter than 64 as the format requires.
  return `-> X25519 ${b64(share)}\n${b64(seal(wrapKey, ZERO_NONCE, fileKey))}\n`;
}

/** The `mlkem768x25519` stanza: arguments are never wrapped, so the 1,120-byte enc is one long argument. */
function hybridStanza(fileKey: Buffer, recipient: Buffer): string {
  const { enc, sealed } = hpkeSeal(recipient, HYBRID_INFO, fileKey);
  return `-> mlkem768x25519 ${b64(enc)}\n${b64(sealed)}\n`;
}

/** A Transform that age-encrypts its input for the recipients (age1… or age1pq1… strings, not mixed). */
export function createEncryptStream(recipients: string[]): Transform {
  const decoded = recipients.map((recipient) => {
    const parsed = decodeRecipient(recipient);
    if (!parsed) throw new Error(`Not an age recipient: ${shown(recipient)}`);
    return parsed;
  });
  if (new Set(decoded.map((recipient) => recipient.kind)).size > 1) throw new Error(mixedRecipients('The file'));
  const fileKey = crypto.randomBytes(16);
  const stanzas = decoded.map((recipient) =>
    recipient.kind === 'X25519'
      ? x25519Stanza(fileKey, recipient.publicKey)
      : hybridStanza(fileKey, recipient.publicKey),
  );
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

/** A header the format does not allow: the file is damaged (or not age), whichever key is tried. */
function damaged(why: string): Error {
  return new Error(`Damaged age header: ${why}.`);
}

/** Strict base64 without padding, as age writes it: anything else is a different encoding of other bytes. */
function canonicalBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return b64(bytes) === text ? bytes : undefined;
}

/** The header as the spec's ABNF has it, every deviation refused (the MAC covers the text, not a re-encoding). */
function parseHeader(text: string): { stanzas: Stanza[]; upToDashes: string; mac: Buffer } {
  const lines = text.split('\n');
  if (lines[0] !== VERSION_LINE)
    throw new Error('Not an age v1 file (the header does not start with age-encryption.org/v1).');
  const stanzas: Stanza[] = [];
  let index = 1;
  while (lines[index]?.startsWith('->')) {
    const args = lines[index]!.startsWith('-> ') ? lines[index]!.slice(3).split(' ') : [];
    if (args.length === 0 || args.some((arg) => !/^[\x21-\x7e]+$/.test(arg))) throw damaged('a malformed stanza line');
    const body: string[] = [];
    for (index += 1; ; index++) {
      const line = lines[index];
      if (line === undefined || line.startsWith('-')) throw damaged('a stanza has no final line');
      if (line.length > 64) throw damaged('a stanza body line is longer than 64 characters');
      body.push(line);
      if (line.length < 64) break;
    }
    const decoded = canonicalBase64(body.join(''));
    if (!decoded) throw damaged('a stanza body is not canonical base64');
    stanzas.push({ args, body: decoded });
    index += 1;
  }
  if (stanzas.length === 0) throw damaged('no recipient stanza');
  const macLine = lines[index];
  const mac = /^--- ([A-Za-z0-9+/]{43})$/.exec(macLine ?? '');
  const macBytes = mac && canonicalBase64(mac[1]!);
  if (!macBytes) throw damaged('no valid MAC line after the stanzas');
  // An scrypt stanza must be alone: otherwise anyone with the other key could rewrite a passphrase-only file.
  if (stanzas.length > 1 && stanzas.some((stanza) => stanza.args[0] === 'scrypt')) {
    throw damaged('an scrypt stanza is not alone');
  }
  return { stanzas, upToDashes: `${lines.slice(0, index).join('\n')}\n---`, mac: macBytes };
}

/** The file key an X25519 stanza wraps for this identity; undefined when the stanza is someone else's. */
function unwrapX25519(stanza: Stanza, identity: Identity & { kind: 'X25519' }): Buffer | undefined {
  const share = stanza.args.length === 2 ? canonicalBase64(stanza.args[1]!) : undefined;
  if (share?.length !== 32 || stanza.body.length !== 32) throw damaged('a malformed X25519 stanza');
  const shared = x25519Shared(identity.privateKey, share);
  if (!shared) throw damaged('a low-order X25519 share');
  return open(hkdf(shared, Buffer.concat([share, identity.publicKey]), X25519_INFO), ZERO_NONCE, stanza.body);
}

/** The file key an mlkem768x25519 stanza wraps for this identity; undefined when the stanza is someone else's. */
function unwrapHybrid(stanza: Stanza, identity: HybridIdentity): Buffer | undefined {
  const enc = stanza.args.length === 2 ? canonicalBase64(stanza.args[1]!) : undefined;
  // The body length is checked before decrypting, against partitioning oracles (the spec's MUST).
  if (enc?.length !== HYBRID_ENC_BYTES || stanza.body.length !== 32) throw damaged('a malformed mlkem768x25519 stanza');
  const fileKey = hpkeOpen(identity.key, HYBRID_INFO, enc, stanza.body);
  if (fileKey === null) throw damaged('a low-order X25519 share in an mlkem768x25519 stanza');
  return fileKey;
}

/** Each identity ignores the stanzas of the other type, as the spec asks; a malformed stanza of its own is fatal. */
function unwrapFileKey(stanzas: Stanza[], identities: Identity[]): Buffer | undefined {
  for (const identity of identities) {
    for (const stanza of stanzas) {
      const fileKey =
        identity.kind === 'X25519'
          ? stanza.args[0] === 'X25519'
            ? unwrapX25519(stanza, identity)
            : undefined
          : stanza.args[0] === 'mlkem768x25519'
            ? unwrapHybrid(stanza, identity)
            : undefined;
      if (fileKey) return fileKey;
    }
  }
  return undefined;
}

/** A Transform that decrypts an age file with the first identity (AGE-SECRET-KEY-[PQ-]1… strings) that opens it. */
export function createDecryptStream(identities: string[]): Transform {
  const decodedIdentities = identities.map((identity) => {
    const decoded = decodeIdentity(identity);
    if (!decoded) throw new Error('Not an age identity.');
    return decoded;
  });
  let pending: Buffer = Buffer.alloc(0);
  let payloadKey: crypto.KeyObject | undefined;
  let counter = 0;

  /** The file key, once the header has arrived and been checked; the payload key needs the nonce after it too. */
  let fileKey: Buffer | undefined;

  const checkHeader = (): boolean => {
    const dashesAt = pending.indexOf('\n---');
    const end = dashesAt < 0 ? -1 : pending.indexOf('\n', dashesAt + 1);
    if (end < 0) {
      if (pending.length > MAX_HEADER_BYTES) throw new Error('Not an age file: no header end in the first MiB.');
      return false;
    }
    const header = parseHeader(pending.subarray(0, end + 1).toString('latin1'));
    fileKey = unwrapFileKey(header.stanzas, decodedIdentities);
    if (!fileKey) throw new AgeIdentityError("no identity matched any of the file's recipients");
    if (!crypto.timingSafeEqual(headerMac(fileKey, header.upToDashes), header.mac)) {
      throw new Error('Damaged age header: its MAC does not match.');
    }
    pending = pending.subarray(end + 1);
    return true;
  };

  /** Consumes the header and the payload nonce once they have arrived; false while more bytes are needed. */
  const readHeader = (final: boolean): boolean => {
    if (!fileKey && !checkHeader()) {
      if (final) throw new Error('Not an age file, or truncated inside its header.');
      return false;
    }
    if (pending.length < 16) {
      if (final) throw new Error('Not an age file, or truncated inside its header (the payload nonce is missing).');
      return false;
    }
    payloadKey = crypto.createSecretKey(hkdf(fileKey!, pending.subarray(0, 16), 'payload'));
    pending = pending.subarray(16);
    return true;
  };

  const chunkFailed = (): Error =>
    new Error(`age: chunk ${counter} failed to decrypt and authenticate (the file is damaged or truncated).`);
  /** Set once a chunk opened as the last one: any byte after it is an error, raised at the end. */
  let finished = false;
  let trailing = false;

  /**
   * A full chunk is released as soon as it authenticates, as age's own reader does: as a middle chunk, or failing
   * that as the last one (a payload that is a multiple of 64 KiB). A missing last chunk is caught at the end.
   */
  const openFullChunk = (sealed: Buffer): Buffer => {
    let plain = open(payloadKey!, chunkNonce(counter, false), sealed);
    if (!plain) {
      plain = open(payloadKey!, chunkNonce(counter, true), sealed);
      finished = plain !== undefined;
    }
    if (!plain) throw chunkFailed();
    counter += 1;
    return plain;
  };

  const openLastChunk = (sealed: Buffer): Buffer => {
    // The last chunk may be empty only when the whole payload is.
    if (sealed.length < TAG || (sealed.length === TAG && counter > 0)) {
      throw new Error('age: the file is truncated (its last chunk is missing).');
    }
    const plain = open(payloadKey!, chunkNonce(counter, true), sealed);
    if (!plain) throw chunkFailed();
    counter += 1;
    return plain;
  };

  return new Transform({
    readableHighWaterMark: 1 << 20,
    writableHighWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        if (finished) {
          // Not an error yet: what was released before must reach the reader first.
          trailing ||= chunk.length > 0;
          return callback();
        }
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        if (!payloadKey && !readHeader(false)) return callback();
        let offset = 0;
        while (!finished && pending.length - offset >= ENCRYPTED_CHUNK) {
          this.push(openFullChunk(pending.subarray(offset, offset + ENCRYPTED_CHUNK)));
          offset += ENCRYPTED_CHUNK;
        }
        pending = pending.subarray(offset);
        trailing ||= finished && pending.length > 0;
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (!payloadKey) readHeader(true);
        if (trailing) throw new Error('age: the file has data after its last chunk (it is damaged).');
        if (!finished) {
          if (pending.length === 0 && counter > 0) {
            throw new Error('age: the file is truncated (its last chunk is missing).');
          }
          this.push(openLastChunk(pending));
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}
