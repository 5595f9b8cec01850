import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

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

/**
 * One headless Chromium for a test file: launched before its tests (the first launch may install
 * Chromium, hence the long timeout), closed after them. Call at the top level; the getter answers it.
 */
export function useChromium(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: ensureChromium(), args: chromiumArgs });
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('Chromium is not launched yet: use the browser inside a test or a later beforeAll');
    return browser;
  };
}

/** Where browser tests save their screenshots (ignored by git). */
export const testShotsDir = path.join(__dirname, '..', '..', 'test-output', 'inbox');
/** The screenshots README and docs/ show, refreshed only with UPDATE_SCREENSHOTS=1 (so a test run leaves the tree clean). */
export const docsShotsDir = path.join(__dirname, '..', '..', 'docs', 'screenshots');

/**
 * Saves `page` as `test-output/inbox/{name}.png`, and as `docs/screenshots/{name}.png` too when
 * UPDATE_SCREENSHOTS=1: `UPDATE_SCREENSHOTS=1 npx jest test/inbox` refreshes the documentation's pictures.
 */
export async function docsScreenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(testShotsDir, { recursive: true });
  const file = path.join(testShotsDir, `${name}.png`);
  await page.screenshot({ path: file });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(docsShotsDir, { recursive: true });
    fs.copyFileSync(file, path.join(docsShotsDir, `${name}.png`));
  }
}

/** Opens the inbox at `baseUrl` and signs in with a user's API key, then waits until its stream is live. */
export async function openInbox(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/app/`);
  await page.getByLabel('Your API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Live', { exact: true }).waitFor();
}
