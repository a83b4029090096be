import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium package (`.ci/run` installs it); playwright-core drives it, it downloads no browser of its own. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((file) => existsSync(file));

export function sayWhenChromiumIsMissing(): void {
  if (!CHROMIUM)
    console.log(
      'SKIPPED: no chromium at /usr/bin/chromium (apt-get install chromium): the page is not checked in a browser.',
    );
}

export async function launchChromium(): Promise<Browser> {
  // As root (CI, containers) chromium refuses to start with its sandbox on.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: CHROMIUM!, args, headless: true });
}
