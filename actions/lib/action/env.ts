import os from 'node:os';
import type { ChecksumMode, S3Settings } from '../storage/index.ts';
import { ConfigurationError } from './errors.ts';

/**
 * Every environment variable Backstop reads, by name, in one place. Adapters call runContext(process.env) once and
 * hand the result on; nothing else reads process.env (a child process may still inherit it whole).
 */
export const ENV = {
  runnerTemp: 'RUNNER_TEMP',
  stepSummary: 'GITHUB_STEP_SUMMARY',
  repository: 'GITHUB_REPOSITORY',
  token: 'GITHUB_TOKEN',
  runId: 'GITHUB_RUN_ID',
  serverUrl: 'GITHUB_SERVER_URL',
  workflow: 'GITHUB_WORKFLOW',
  actionsRuntimeToken: 'ACTIONS_RUNTIME_TOKEN',
  actionsResultsUrl: 'ACTIONS_RESULTS_URL',
  s3Endpoint: 'AWS_ENDPOINT_URL_S3',
  awsEndpoint: 'AWS_ENDPOINT_URL',
  s3ForcePathStyle: 'AWS_S3_FORCE_PATH_STYLE',
  awsRegion: 'AWS_REGION',
  awsDefaultRegion: 'AWS_DEFAULT_REGION',
  awsAccessKeyId: 'AWS_ACCESS_KEY_ID',
  awsSecretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  awsSessionToken: 'AWS_SESSION_TOKEN',
  awsCaBundle: 'AWS_CA_BUNDLE',
  awsRequestChecksums: 'AWS_REQUEST_CHECKSUM_CALCULATION',
} as const;

export interface RunContext {
  /**
   * Where a person reads the messages: a terminal (the CLI) or a workflow (a runner). Hints are worded for it:
   * `--allow-unencrypted` in a terminal, `allow-unencrypted: true` in a workflow. Unset: a workflow.
   */
  host?: 'terminal' | 'workflow';
  /** A folder for scratch files that the host cleans up (RUNNER_TEMP on GitHub). */
  tempDir: string;
  /** Set only on a GitHub runner: steps of one job share it (step records live there). */
  runnerTemp?: string;
  stepSummaryFile?: string;
  github: {
    repository?: string;
    token?: string;
    runId?: string;
    serverUrl: string;
    workflow?: string;
  };
  /** The artifact service's credentials, which GitHub gives a job on a runner only. */
  artifacts: { runtimeToken?: string; resultsUrl?: string };
  s3: S3Settings;
  /**
   * The standard AWS credentials, for tools that take them only as their own options (pgBackRest reads no AWS_*
   * variable). The AWS SDK finds its own through its credential chain and never reads these.
   */
  awsCredentials: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string };
}

/** The environment read once, as plain values (pure: the same env gives the same context). */
export function runContext(env: NodeJS.ProcessEnv): RunContext {
  const value = (name: string): string | undefined => env[name] || undefined;
  const endpoint = value(ENV.s3Endpoint) ?? value(ENV.awsEndpoint);
  return {
    tempDir: value(ENV.runnerTemp) ?? os.tmpdir(),
    runnerTemp: value(ENV.runnerTemp),
    stepSummaryFile: value(ENV.stepSummary),
    github: {
      repository: value(ENV.repository),
      token: value(ENV.token),
      runId: value(ENV.runId),
      serverUrl: value(ENV.serverUrl) ?? 'https://github.com',
      workflow: value(ENV.workflow),
    },
    artifacts: { runtimeToken: value(ENV.actionsRuntimeToken), resultsUrl: value(ENV.actionsResultsUrl) },
    s3: {
      endpoint,
      // A custom endpoint (MinIO, R2, Supabase Storage, a test server) wants path-style addressing.
      forcePathStyle: Boolean(endpoint) || value(ENV.s3ForcePathStyle) === 'true',
      region: value(ENV.awsRegion) ?? value(ENV.awsDefaultRegion) ?? 'us-east-1',
      caBundle: value(ENV.awsCaBundle),
      checksums: checksumMode(value(ENV.awsRequestChecksums)),
    },
    awsCredentials: {
      accessKeyId: value(ENV.awsAccessKeyId),
      secretAccessKey: value(ENV.awsSecretAccessKey),
      sessionToken: value(ENV.awsSessionToken),
    },
  };
}

/** AWS_REQUEST_CHECKSUM_CALCULATION, in either case as the SDK takes it; undefined leaves the choice to the endpoint. */
function checksumMode(text: string | undefined): ChecksumMode | undefined {
  if (text === undefined) return undefined;
  const mode = text.toUpperCase();
  if (mode === 'WHEN_SUPPORTED' || mode === 'WHEN_REQUIRED') return mode;
  throw new ConfigurationError(
    `${ENV.awsRequestChecksums} is "${text}": use WHEN_SUPPORTED (checksums on every upload, the default) or ` +
      'WHEN_REQUIRED (for an S3-compatible endpoint that rejects them).',
  );
}

/**
 * A child's environment: ours plus `extra`. Secrets a tool takes from its environment (pgBackRest's
 * PGBACKREST_REPO1_CIPHER_PASS) go this way, never on its command line, where `ps` shows them.
 */
export function childEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/** The variable that carries an input from a shell: BACKSTOP_DATABASE_URL for database-url. */
export function inputEnvName(input: string): string {
  return `BACKSTOP_${input.toUpperCase().replace(/-/g, '_')}`;
}
