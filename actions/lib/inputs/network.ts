import type { InputReader } from '../action/input-reader.ts';
import { DEFAULT_TIMEOUTS, type Timeouts } from '../storage/index.ts';

/** The timeouts of every action that talks to S3 or Qdrant, with the same names and docs everywhere. */
export const TIMEOUT_INPUTS = {
  'connect-timeout-seconds': {
    description:
      'How long an S3 or Qdrant endpoint may take to accept a connection; then the request fails (S3 retries ' +
      'it twice, with jittered backoff).',
    default: String(DEFAULT_TIMEOUTS.connectMs / 1000),
  },
  'idle-timeout-seconds': {
    description:
      'How long a connected S3 or Qdrant endpoint may stay silent mid-request; then the request fails (S3 retries ' +
      'it twice). Making a Qdrant snapshot has its own, longer limit.',
    default: String(DEFAULT_TIMEOUTS.idleMs / 1000),
  },
} as const;

/** The same two limits, named and read the same way, for the report's alerts (Slack, webhooks, SMTP). */
export const ALERT_TIMEOUT_INPUTS = {
  'connect-timeout-seconds': {
    description:
      'How long a Slack, webhook or SMTP server may take to accept a connection; then the alert is a warning.',
    default: String(DEFAULT_TIMEOUTS.connectMs / 1000),
  },
  'idle-timeout-seconds': {
    description: 'How long a connected Slack, webhook or SMTP server may stay silent; then the alert is a warning.',
    default: '30',
  },
} as const;

export function readTimeouts(inputs: InputReader): Timeouts {
  return {
    connectMs: inputs.integer('connect-timeout-seconds', { min: 1, max: 600 }) * 1000,
    idleMs: inputs.integer('idle-timeout-seconds', { min: 1, max: 3600 }) * 1000,
    setBy: {
      connect: String(inputs.origin('connect-timeout-seconds')),
      idle: String(inputs.origin('idle-timeout-seconds')),
    },
  };
}
