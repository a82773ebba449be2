import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs it when missing); CHROMIUM_PATH names another. Never a downloaded browser. */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/chromium-headless-shell'];

/**
 * Headless Chromium with the flags this closed network needs (TOOLCHAIN.md): without the background
 * networking ones it keeps dialling Google. No browser is a failure that says how to get one, not a skip.
 */
export async function launchChromium(): Promise<Browser> {
  const path = CANDIDATES.find((p): p is string => !!p && existsSync(p));
  if (!path) throw new Error(`no Chromium for the browser tests: apt-get install chromium (Debian), or set CHROMIUM_PATH; looked at ${CANDIDATES.filter(Boolean).join(', ')}`);
  return chromium.launch({
    executablePath: path,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    timeout: 30_000,
  });
}
