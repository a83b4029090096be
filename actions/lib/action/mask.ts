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

/**
 * Parts of a value that look like a secret whatever input they came in: an age identity pasted where its public
 * key belongs, a URL's password, a GitHub, Slack or OpenAI-style token, a private key block. They are masked before
 * any message quotes the input, so a mistake never prints a secret.
 */
const SECRET_SHAPES = [
  /AGE-SECRET-KEY-1[0-9A-Z]+/g,
  /AGE-PLUGIN-[0-9A-Z-]+1[0-9A-Z]+/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];

export function secretLookingParts(value: string): string[] {
  const parts = SECRET_SHAPES.flatMap((shape) => [...value.matchAll(shape)].map((match) => match[0]));
  for (const candidate of value.split(/[\s,]+/)) {
    const password = urlPassword(candidate);
    if (password) parts.push(password, candidate);
  }
  return parts;
}

function urlPassword(text: string): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/@]+@/i.test(text)) return undefined;
  try {
    return new URL(text).password || undefined;
  } catch {
    return undefined;
  }
}
