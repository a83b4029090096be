import { ConfigurationError } from '../action/errors.ts';
import { Origin } from '../action/origin.ts';
import type { InputReader } from '../action/input-reader.ts';
import { parseRecipients } from '../crypto/age.ts';

/** The encryption inputs every backup action shares, as one rule. */
export const ENCRYPTION_INPUTS = {
  'encryption-recipients': {
    description:
      'age public keys to encrypt to, newline- or comma-separated: post-quantum hybrid (age1pq1…, from ' +
      '`age-keygen -pq`, recommended for backups kept for years) or X25519 (age1…), not both kinds at once.',
  },
  'allow-unencrypted': { description: 'Store the backup without encryption (not recommended).', default: 'false' },
} as const;

/**
 * Recipients are required: a backup is stored in the clear only when `allow-unencrypted: true` says so (the
 * action then warns in its log and summary). Returns null for an unencrypted backup.
 */
export function readRecipients(inputs: InputReader): string[] | null {
  const recipients = parseRecipients(inputs.list('encryption-recipients'), Origin.input('encryption-recipients'));
  if (recipients.length > 0) return recipients;
  if (inputs.boolean('allow-unencrypted')) return null;
  throw new ConfigurationError(
    'Input "encryption-recipients" is empty: give an age public key (backstop keygen prints one), or set ' +
      `${inputs.spell('allow-unencrypted', 'true')} to store this backup in the clear.`,
  );
}
