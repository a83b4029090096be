import http from 'node:http';
import type net from 'node:net';
import { SMTPServer } from 'smtp-server';

/** An HTTP endpoint (a Slack incoming webhook, a generic webhook) that records every request it gets. */
export interface RecordingEndpoint {
  url: string;
  received: { path: string; contentType: string; body: string }[];
  /** Every body, parsed. */
  json(): unknown[];
  close(): Promise<void>;
}

/** Answers like Slack's incoming webhooks: 200 with the text "ok" (or the status given). */
export async function startRecordingEndpoint(status = 200): Promise<RecordingEndpoint> {
  const received: RecordingEndpoint['received'] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body });
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(status === 200 ? 'ok' : 'server error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    json: () => received.map((request) => JSON.parse(request.body) as unknown),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  /** Whether the session was TLS (smtps://). */
  secure: boolean;
  /** The raw message as the server received it (headers and body). */
  data: string;
}

export interface RecordingSmtp {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** With a certificate: TLS from the first byte (smtps://, port 465 style), as the server's key and certificate. */
export interface SmtpOptions {
  tls?: { key: Buffer; cert: Buffer };
}

/**
 * A real SMTP server (smtp-server, nodemailer's own) that takes one user and keeps every message it accepts. Without
 * `tls`, plain SMTP on localhost (no certificate to trust; AUTH over it is allowed for the test only).
 */
export async function startRecordingSmtp(
  user: string,
  password: string,
  options: SmtpOptions = {},
): Promise<RecordingSmtp> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    ...(options.tls ? { secure: true, key: options.tls.key, cert: options.tls.cert } : { allowInsecureAuth: true }),
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      let data = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: session.user as string | undefined,
          secure: session.secure,
          data,
        });
        callback();
      });
    },
    logger: false,
  });
  // A client that refuses our certificate hangs up mid-handshake: the server reports it as an 'error' event, which
  // unhandled would end the test process. What the client saw is what the tests check.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as net.AddressInfo;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
