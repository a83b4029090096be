import { ConfigurationError } from '../action/errors.ts';
import type { InputReader } from '../action/input-reader.ts';

/** The pgBackRest repository's encryption inputs, shared by archive-config, backup-physical and restore-drill. */
export const PASSPHRASE_INPUTS = {
  'encryption-passphrase': {
    description:
      'Passphrase of the pgBackRest repository (aes-256-cbc), a secret: BACKSTOP_ENCRYPTION_PASSPHRASE. Handed to ' +
      'pgBackRest through its environment, never its command line.',
    secret: true,
  },
  'allow-unencrypted': { description: 'Keep the repository unencrypted (not recommended).', default: 'false' },
} as const;

/** Long enough that guessing it is hopeless; `openssl rand -base64 48` makes one. */
const MIN_PASSPHRASE_LENGTH = 20;

/** The passphrase, or undefined for an unencrypted repository (only when allow-unencrypted says so). */
export function readPassphrase(inputs: InputReader): string | undefined {
  const passphrase = inputs.optional('encryption-passphrase');
  if (passphrase === undefined) {
    if (inputs.boolean('allow-unencrypted')) return undefined;
    // A secret never goes on a command line: the terminal gets it from the environment, a step from a secret.
    const give = inputs.inTerminal
      ? 'set BACKSTOP_ENCRYPTION_PASSPHRASE'
      : 'give it from a secret (encryption-passphrase: ${{ secrets.BACKSTOP_ENCRYPTION_PASSPHRASE }})';
    throw new ConfigurationError(
      `Input "encryption-passphrase" is empty: ${give}, made with openssl rand -base64 48 and kept in your secret ` +
        `store, or set ${inputs.spell('allow-unencrypted', 'true')} for an unencrypted repository.`,
    );
  }
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new ConfigurationError(
      `Input "encryption-passphrase" has ${passphrase.length} characters: use at least ${MIN_PASSPHRASE_LENGTH} ` +
        '(openssl rand -base64 48 prints a good one).',
    );
  }
  return passphrase;
}
