/** Bech32 (BIP 173), as age uses it for keys: `age1…` recipients and `AGE-SECRET-KEY-1…` identities. */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (let bit = 0; bit < 5; bit++) if ((top >>> bit) & 1) checksum ^= GENERATOR[bit]!;
  }
  return checksum;
}

function expandPrefix(prefix: string): number[] {
  return [...[...prefix].map((c) => c.charCodeAt(0) >>> 5), 0, ...[...prefix].map((c) => c.charCodeAt(0) & 31)];
}

function convertBits(data: Uint8Array | number[], from: number, to: number, pad: boolean): number[] | undefined {
  let accumulator = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const value of data) {
    accumulator = (accumulator << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((accumulator >>> bits) & max);
    }
  }
  if (pad) {
    if (bits > 0) out.push((accumulator << (to - bits)) & max);
  } else if (bits >= from || ((accumulator << (to - bits)) & max) !== 0) {
    return undefined;
  }
  return out;
}

export function bech32Encode(prefix: string, data: Uint8Array): string {
  const words = convertBits(data, 8, 5, true)!;
  const lower = prefix.toLowerCase();
  const checksum = polymod([...expandPrefix(lower), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checkWords = Array.from({ length: 6 }, (_, i) => (checksum >>> (5 * (5 - i))) & 31);
  return `${lower}1${[...words, ...checkWords].map((word) => CHARSET[word]).join('')}`;
}

/** Decodes a Bech32 string (all lower or all upper case); undefined when it is not valid. */
export function bech32Decode(text: string): { prefix: string; data: Buffer } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const lower = text.toLowerCase();
  const separator = lower.lastIndexOf('1');
  if (separator < 1 || lower.length - separator < 7) return undefined;
  const prefix = lower.slice(0, separator);
  const words: number[] = [];
  for (const char of lower.slice(separator + 1)) {
    const word = CHARSET.indexOf(char);
    if (word < 0) return undefined;
    words.push(word);
  }
  if (polymod([...expandPrefix(prefix), ...words]) !== 1) return undefined;
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  return bytes ? { prefix, data: Buffer.from(bytes) } : undefined;
}
