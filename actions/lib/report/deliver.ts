import http from 'node:http';
import https from 'node:https';
import nodemailer from 'nodemailer';
import { ConfigurationError, errorMessage } from '../action/errors.ts';
import type { Origin } from '../action/origin.ts';
import { parseHttpUrl } from '../format.ts';
import type { Timeouts } from '../storage/index.ts';
import { BACKSTOP_VERSION } from '../version.ts';
import { emailMessage, slackBody, webhookBody, type Alert } from './alerts.ts';

/**
 * Sending an alert. Never throws: a Slack, webhook or mail server that refuses, fails or stalls must not fail the
 * report (the issue and the heartbeat are still there), so each outcome is returned for a warning. Every body is
 * passed through `redact` last, whatever it was built from.
 */
export type ChannelKind = 'slack' | 'webhook' | 'email';

export interface HttpChannel {
  kind: 'slack' | 'webhook';
  url: URL;
  origin: Origin;
}

export interface EmailChannel {
  kind: 'email';
  /** smtp:// or smtps:// with credentials: only for the mail library. */
  smtpUrl: string;
  host: string;
  to: string[];
  from: string;
  origin: Origin;
}

export type Channel = HttpChannel | EmailChannel;

export interface DeliveryOutcome {
  kind: ChannelKind;
  /** The host only: the URL's path is the webhook's secret. */
  host: string;
  ok: boolean;
  /** What went wrong, without the URL. */
  detail?: string;
  origin: Origin;
}

/** http(s) URL of a webhook; the message never repeats the value (it is the secret). */
export function parseWebhookUrl(kind: HttpChannel['kind'], text: string, origin: Origin): HttpChannel {
  const url = parseHttpUrl(text);
  if (!(url instanceof URL)) {
    const example =
      kind === 'slack' ? 'https://hooks.slack.com/services/T…/B…/… (a Slack incoming webhook)' : 'https://…';
    throw new ConfigurationError(`${origin.title} is ${url.why} (value not shown: it is a secret): give ${example}.`);
  }
  return { kind, url, origin };
}

/** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465 (TLS from the start). */
export function parseSmtpUrl(text: string, to: string[], from: string | undefined, origin: Origin): EmailChannel {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || !['smtp:', 'smtps:'].includes(url.protocol) || !url.hostname) {
    throw new ConfigurationError(
      `${origin.title} is not an smtp:// or smtps:// URL (value not shown: it may hold a password): give e.g. ` +
        'smtps://user:password@smtp.example.com:465 or smtp://user:password@smtp.example.com:587.',
    );
  }
  const user = decodeURIComponent(url.username);
  const sender = from ?? (user.includes('@') ? user : `backstop@${url.hostname}`);
  return { kind: 'email', smtpUrl: text, host: url.host, to, from: sender, origin };
}

export async function deliverAlert(
  alert: Alert,
  channels: Channel[],
  timeouts: Timeouts,
  redact: (text: string) => string,
): Promise<DeliveryOutcome[]> {
  return Promise.all(
    channels.map(async (channel): Promise<DeliveryOutcome> => {
      const host = channel.kind === 'email' ? channel.host : channel.url.host;
      const base = { kind: channel.kind, host, origin: channel.origin };
      try {
        if (channel.kind === 'email') await sendEmail(channel, alert, timeouts, redact);
        else {
          const body = channel.kind === 'slack' ? slackBody(alert) : webhookBody(alert);
          await postJson(channel.url, redact(JSON.stringify(body)), timeouts);
        }
        return { ...base, ok: true };
      } catch (error) {
        return { ...base, ok: false, detail: redact(errorMessage(error)) };
      }
    }),
  );
}

const CHANNEL_NAMES: Record<ChannelKind, string> = { slack: 'Slack', webhook: 'Webhook', email: 'Email' };

export function deliveryWarning(outcome: DeliveryOutcome): string {
  return (
    `${CHANNEL_NAMES[outcome.kind]} alert to ${outcome.host} failed: ${outcome.detail}. This step still succeeds ` +
    `(the issue and the heartbeat do not depend on it); check ${outcome.origin} and that this runner can reach ` +
    `${outcome.host}.`
  );
}

/** A body's size a webhook may answer with before we stop reading: its answer is not used, only its status. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs JSON with Backstop's two network limits: the connection must be accepted within connectMs, and the peer
 * may not go silent for idleMs once connected. A fresh connection per request (no agent): a reused socket would
 * never report its connect, and alerts are few.
 */
function postJson(url: URL, body: string, timeouts: Timeouts): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'user-agent': `backstop/${BACKSTOP_VERSION}`,
      },
    });
    const fail = (message: string): void => void request.destroy(new AlertDeliveryError(message));
    const connectTimer = setTimeout(
      () => fail(`did not accept a connection within ${timeouts.connectMs / 1000} s`),
      timeouts.connectMs,
    );
    request.on('socket', (socket) => socket.once('connect', () => clearTimeout(connectTimer)));
    request.setTimeout(timeouts.idleMs, () => fail(`went silent for ${timeouts.idleMs / 1000} s`));
    request.on('response', (response) => {
      clearTimeout(connectTimer);
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) response.destroy();
      });
      response.on('close', () => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else reject(new AlertDeliveryError(`it answered HTTP ${status}`));
      });
    });
    request.on('error', (error) => {
      clearTimeout(connectTimer);
      reject(error instanceof AlertDeliveryError ? error : new AlertDeliveryError(networkProblem(error)));
    });
    request.end(body);
  });
}

class AlertDeliveryError extends Error {
  override name = 'AlertDeliveryError';
}

function networkProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'it refused the connection';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'its host could not be resolved (DNS)';
    case 'ECONNRESET':
      return 'it dropped the connection';
    default:
      return typeof code === 'string' ? `it could not be reached (${code})` : `it could not be reached`;
  }
}

async function sendEmail(
  channel: EmailChannel,
  alert: Alert,
  timeouts: Timeouts,
  redact: (text: string) => string,
): Promise<void> {
  const transport = nodemailer.createTransport({
    url: channel.smtpUrl,
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.idleMs,
    socketTimeout: timeouts.idleMs,
  });
  const message = emailMessage(alert);
  try {
    await transport.sendMail({
      from: channel.from,
      to: channel.to,
      subject: redact(message.subject),
      text: redact(message.text),
      headers: { 'X-Backstop-Event': alert.event },
    });
  } catch (error) {
    throw new AlertDeliveryError(
      untrustedCertificate(error) ?? `the mail server did not take the message (${smtpProblem(error)})`,
    );
  } finally {
    transport.close();
  }
}

/** OpenSSL's codes for a certificate whose issuer Node does not know (not: expired, or for another host). */
const UNKNOWN_ISSUER = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/**
 * Certificates are verified against Node's CAs, as for every TLS connection Backstop makes: a server whose certificate
 * comes from a private CA (or is self-signed) is refused, and the one fix that needs no code is Node's own variable.
 */
function untrustedCertificate(error: unknown): string | undefined {
  const { originalCode, message } = error as { originalCode?: unknown; message?: string };
  if (typeof originalCode !== 'string' || !UNKNOWN_ISSUER.has(originalCode)) return undefined;
  // Node's own advice after the ";" (--use-system-ca) is for a CA installed on the machine, not for a runner.
  const reason = (message ?? originalCode).split(';')[0];
  return (
    `its TLS certificate is not trusted (${reason}): for a private CA, give this step NODE_EXTRA_CA_CERTS, the path ` +
    "of the CA's PEM file"
  );
}

/** nodemailer's codes say what happened without the server's whole transcript. */
function smtpProblem(error: unknown): string {
  const { code, responseCode, message } = error as { code?: string; responseCode?: number; message?: string };
  if (code === 'ETIMEDOUT') return 'timed out';
  if (code === 'ECONNECTION' || code === 'ESOCKET') return `connection failed: ${message ?? code}`;
  if (responseCode) return `SMTP ${responseCode}: ${(message ?? '').split('\n')[0]}`;
  return message ?? String(code ?? 'unknown error');
}
