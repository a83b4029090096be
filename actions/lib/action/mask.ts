import type { Runtime } from './runtime.ts';

/**
 * Masks the credentials of a URL: its password (raw and URL-encoded), and the whole URL when it carries one (a
 * password in the userinfo or a password= parameter). A URL without credentials stays readable in logs. A value
 * that does not parse as a URL is masked whole: we cannot tell which part is secret.
 */
export function maskUrlCredentials(runtime: Runtime, value: string): void {
  if (!value) return;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    runtime.setSecret(value);
    return;
  }
  const queryPassword = /[?&](?:ssl)?password=([^&]+)/i.exec(parsed.search)?.[1];
  if (parsed.password || queryPassword) runtime.setSecret(value);
  for (const secret of [parsed.password, queryPassword]) {
    if (!secret) continue;
    runtime.setSecret(secret);
    runtime.setSecret(decodeURIComponent(secret));
  }
}
