import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Debian's Chromium: Playwright's own browser download cannot reach its servers from our machines. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless Chromium on a machine without a network: no background traffic, no sandbox as root. */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The path of a Chromium to drive. Installs Debian's `chromium` package when it is missing and we are
 * root with apt-get (as in CI); otherwise says what to install.
 */
export function ensureChromium(): string {
  if (fs.existsSync(chromiumPath)) return chromiumPath;
  if (process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get') && chromiumPath === '/usr/bin/chromium') {
    process.stderr.write('[browser tests] installing Debian chromium with apt-get (once per machine)\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
    if (fs.existsSync(chromiumPath)) return chromiumPath;
  }
  throw new Error(
    `The browser tests need Chromium at ${chromiumPath}. Install it (Debian/Ubuntu: \`sudo apt-get install chromium\`; elsewhere any Chromium or Chrome) and set CHROMIUM_PATH to its executable if it lives elsewhere.`,
  );
}
