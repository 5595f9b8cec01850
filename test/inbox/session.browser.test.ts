/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { freePort } from '../../dev/free-port';
import { chromiumArgs, ensureChromium } from '../support/chromium';
import type { Account } from '../support/scenario';
import { createAccount } from '../support/scenario';
import type { SignInApi, TestProvider } from '../support/sign-in';
import { startOidcProvider, startSignInApi } from '../support/sign-in';
import { useStack } from '../support/stack';

/**
 * Signing in once per browser, in a real headless Chromium: the inbox's sign-in component
 * (inbox/src/signin.tsx, `SessionGate`) as the inbox at /app/ renders it, served by an API process that has
 * single sign-on through a real OpenID Connect provider (oidc-provider, its own login and consent pages).
 * The API is reached as http://localhost and the provider as http://127.0.0.1: two sites, as in
 * production. Screenshots go to test-output/session/.

 */
const shots = path.join(__dirname, '..', '..', 'test-output', 'session');
const env = useStack();

let browser: Browser;
let api: SignInApi;
let provider: TestProvider;
let account: Account;
const email = `ana.${randomUUID().slice(0, 6)}@example.com`;

beforeAll(async () => {
  fs.mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: ensureChromium(), args: chromiumArgs });
  account = await createAccount(env.stack);
  const port = await freePort();
  provider = await startOidcProvider({ redirectUris: [`http://localhost:${port}/v1/auth/oidc/callback`], people: { ana: { email, email_verified: true } } });
  api = await startSignInApi(env.stack, {
    host: 'localhost',
    port,
    oidc: (baseUrl) => ({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, redirectUrl: `${baseUrl}/v1/auth/oidc/callback`, account: undefined }),
  });
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await api?.stop();
  await provider?.stop();
});

async function newUser(extra: Record<string, unknown> = {}): Promise<{ id: string; key: string; name: string }> {
  const id = `u-${randomUUID().slice(0, 8)}`;
  const name = `Agent ${id.slice(2, 6)}`;
  const res = await env.stack.http.post(`/v1/accounts/${account.id}/users`, { id, name, role: 'agent', ...extra }, env.stack.platformKey);
  expect(res.status).toBe(201);
  return { id, key: res.body.apiKey, name };
}

async function open(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${api.baseUrl}/app/`);
  return page;
}

async function signInWithKey(page: Page, key: string): Promise<void> {
  await page.getByLabel('Your API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`) });

describe('signing in once per browser', () => {
  test('a key signs the browser in; a second tab is signed in without it; the page keeps no key', async () => {
    const user = await newUser();
    const context = await browser.newContext();
    const first = await open(context);
    await shot(first, 'sign-in');
    await signInWithKey(first, user.key);
    await first.locator('.who', { hasText: user.name }).waitFor();

    const cookies = await context.cookies(api.baseUrl);
    expect(cookies).toEqual([expect.objectContaining({ name: 'convoflow_session', httpOnly: true, secure: true, sameSite: 'Strict', path: '/' })]);
    // Nothing a script can read: no key in storage (only the tab's id, drafts and choices), the cookie out of document.cookie.
    const stored = await first.evaluate(() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)]));
    expect(stored).not.toContain(user.key);
    expect(stored).not.toMatch(/cf_[a-z]_/);
    expect(await first.evaluate(() => document.cookie)).toBe('');

    const second = await open(context);
    await second.locator('.who', { hasText: user.name }).waitFor();
    await shot(second, 'second-tab');
    await context.close();
  });

  test('revoking the key brings the sign-in back at the next request', async () => {
    const user = await newUser();
    const context = await browser.newContext();
    const page = await open(context);
    await signInWithKey(page, user.key);
    await page.locator('.who', { hasText: user.name }).waitFor();
    const keys = await env.stack.http.get(`/v1/accounts/${account.id}/users/${user.id}/keys`, account.keys.owner);
    expect((await env.stack.http.request('DELETE', `/v1/accounts/${account.id}/users/${user.id}/keys/${keys.body.items[0].id}`, { key: account.keys.owner })).status).toBe(200);
    // The next request is a click, unless the stream's own recheck (every 2 s) got there first and the
    // sign-in already replaced the list: either way the sign-in is what the user sees next.
    const ended = page.getByText('Your session has ended: sign in again.');
    await Promise.race([ended.waitFor(), page.getByRole('tab', { name: /Closed/ }).click().catch(() => ended.waitFor())]);
    await ended.waitFor();
    await page.getByLabel('Your API key').waitFor();
    await shot(page, 'session-ended');
    expect(await context.cookies(api.baseUrl)).toEqual([]);
    await context.close();
  });

  test('signing out in one tab signs every tab out, and the session is over on the server', async () => {
    const user = await newUser();
    const context = await browser.newContext();
    const first = await open(context);
    await signInWithKey(first, user.key);
    await first.locator('.who', { hasText: user.name }).waitFor();
    const token = (await context.cookies(api.baseUrl))[0]!.value;
    const second = await open(context);
    await second.locator('.who', { hasText: user.name }).waitFor();

    await first.getByRole('button', { name: 'Sign out' }).click();
    await first.getByLabel('Your API key').waitFor();
    // The other tab learns it at once (the tabs tell each other), not at its next request.
    await second.getByLabel('Your API key').waitFor();
    await second.getByText('You signed out in another tab.').waitFor();
    const replayed = await fetch(`${env.stack.baseUrl}/v1/me`, { headers: { cookie: `convoflow_session=${token}` } });
    expect(replayed.status).toBe(401);
    await context.close();
  });

  test("single sign-on through the provider's login and consent pages", async () => {
    const user = await newUser({ email });
    const context = await browser.newContext();
    const page = await open(context);
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.waitForURL((url) => url.href.startsWith(provider.issuer));
    await shot(page, 'provider-login');
    await page.locator('input[name="login"]').fill('ana');
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click(); // the provider's consent page
    await page.waitForURL(`${api.baseUrl}/app/`);
    expect(await context.cookies(api.baseUrl)).toEqual([expect.objectContaining({ name: 'convoflow_session', httpOnly: true, secure: true, sameSite: 'Strict' })]);
    await page.goto(`${api.baseUrl}/app/`);
    await page.locator('.who', { hasText: user.name }).waitFor();
    await shot(page, 'sso-signed-in');
    await context.close();
  });

  test('a failed single sign-on says why on the sign-in page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${api.baseUrl}/app/?sso_error=no_user`);
    await page.getByRole('alert').getByText('No active user here has the e-mail your provider gave').waitFor();
    // The address bar loses the error once the page has read it (an effect after the first paint).
    await page.waitForURL((url) => url.search === '');
    await context.close();
  });

  test('Chromium keeps the Secure session cookie of an API at http://127.0.0.1 too', async () => {
    const user = await newUser();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${env.stack.baseUrl}/healthz`);
    const status = await page.evaluate(async (key) => (await fetch('/v1/sessions', { method: 'POST', headers: { authorization: `Bearer ${key}` } })).status, user.key);
    expect(status).toBe(201);
    expect(await context.cookies(env.stack.baseUrl)).toEqual([expect.objectContaining({ name: 'convoflow_session', secure: true })]);
    expect(await page.evaluate(async () => (await fetch('/v1/me')).status)).toBe(200);
    await context.close();
  });
});
