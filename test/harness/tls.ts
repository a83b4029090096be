import { spawnSync } from 'node:child_process';
import path from 'node:path';

export interface TestCertificate {
  /** PEM files in the folder given. */
  key: string;
  cert: string;
}

/**
 * A self-signed certificate for 127.0.0.1 from the openssl binary, valid one day. Node matches the host by IP,
 * pgBackRest by name: it names the address both ways. Nothing trusts it until a test says so (NODE_EXTRA_CA_CERTS,
 * AWS_CA_BUNDLE).
 */
export function selfSignedCertificate(dir: string): TestCertificate {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  return { key, cert };
}
