/**
 * Two kinds of failure, told apart the way github/codeql-action does:
 * - ConfigurationError: the user can fix it (a bad input, a missing tool, an unreachable URL). Printed as one line.
 * - VerificationError: the backup or the restore is not what the manifest promises (checksum, row counts, RTO/RPO).
 * Anything else is a bug or an outage and keeps its own message.
 */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/**
 * Several bad inputs at once, each a line of its own (the CLI prints an `error:` line per problem, the runner an
 * annotation per problem): a first run should not be a game of one error at a time.
 */
export class InputProblems extends ConfigurationError {
  override name = 'InputProblems';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

export class VerificationError extends Error {
  override name = 'VerificationError';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
