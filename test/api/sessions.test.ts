import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../infra/config';
import { freePort } from '../../dev/free-port';
import type { Account } from '../support/scenario';
import { createAccount } from '../support/scenario';
import type { JarReply, SignInApi, TestProvider } from '../support/sign-in';
import { CookieJar, startOidcProvider, startSignInApi } from '../support/sign-in';
import { capturedLogs, untilPast, useStack } from '../support/stack';

/**
 * Signing in once per browser (issue 22 item 14): a user's key exchanged for a session cookie, single
 * sign-on through a real OpenID Connect provider (panva's oidc-provider, in its own process), and every
 * way a session ends. All through real HTTP; a second API process over the same database holds the
 * single sign-on configuration and short lifetimes.
 */
const env = useStack();
const csrf = { 'x-convoflow-csrf': '1' };
const sessionCookie = 'convoflow_session';

let account: Account;
let sso: SignInApi;
let provider: TestProvider;
const logs = capturedLogs('trace');

beforeAll(async () => {
  account = await createAccount(env.stack);
}, 60_000);

/** A fresh browser: its own cookie jar, talking to `baseUrl`. */
const browser = (baseUrl = env.stack.baseUrl) => new CookieJar(baseUrl);

async function signInWithKey(jar: CookieJar, key: string): Promise<JarReply> {
  const reply = await jar.request('POST', '/v1/sessions', { headers: { authorization: `Bearer ${key}` } });
  expect(reply.status).toBe(201);
  return reply;
}

async function newUser(role: 'agent' | 'admin' = 'agent', extra: Record<string, unknown> = {}, accountId = account.id): Promise<{ id: string; key: string }> {
  const id = `u-${randomUUID().slice(0, 8)}`;
  const res = await env.stack.http.post(`/v1/accounts/${accountId}/users`, { id, name: `User ${id}`, role, ...extra }, env.stack.platformKey);
  expect(res.status).toBe(201);
  return { id, key: res.body.apiKey };
}

const keyIdOf = async (userId: string, key: string) => {
  const keys = await env.stack.http.get(`/v1/accounts/${account.id}/users/${userId}/keys`, key);
  return keys.body.items[0].id as string;
};

describe('a session from a key', () => {
  test('POST /v1/sessions sets an HttpOnly, Secure, SameSite=Strict cookie and answers the session and who you are, never the token', async () => {
    const jar = browser();
    const reply = await signInWithKey(jar, account.keys.agent);
    const [cookie] = CookieJar.setCookies(reply.headers);
    expect(cookie).toMatch(/^convoflow_session=cf_c_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=604800; HttpOnly; Secure; SameSite=Strict$/);
    expect(reply.body.me).toEqual({ kind: 'user', accountId: account.id, userId: account.users.agent, name: 'agent', role: 'agent', presence: 'offline' });
    expect(reply.body.session).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{16}$/), origin: 'key', current: true });
    expect(Date.parse(reply.body.session.expiresAt) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(reply.text).not.toContain(jar.get(sessionCookie)!);

    // The cookie alone, as every tab of the browser sends it.
    const me = await jar.request('GET', '/v1/me');
    expect(me.status).toBe(200);
    expect(me.body.userId).toBe(account.users.agent);
    expect((await jar.request('GET', `/v1/accounts/${account.id}/conversations`)).status).toBe(200);
    // What the database holds is the token's hash, not the token.
    const stored = await env.stack.db.collection('sessions').findOne({ accountId: account.id, userId: account.users.agent });
    expect(JSON.stringify(stored)).not.toContain(jar.get(sessionCookie)!);
  });

  test('the key may come in the body instead; only user keys open sessions', async () => {
    const jar = browser();
    expect((await jar.request('POST', '/v1/sessions', { body: { apiKey: account.keys.manager } })).status).toBe(201);
    expect((await jar.request('GET', '/v1/me')).body.userId).toBe(account.users.manager);

    const service = await browser().request('POST', '/v1/sessions', { body: { apiKey: account.keys.service } });
    expect(service.status).toBe(403);
    expect(service.headers.getSetCookie()).toEqual([]);
    expect((await browser().request('POST', '/v1/sessions', { body: { apiKey: env.stack.platformKey } })).status).toBe(403);
    expect((await browser().request('POST', '/v1/sessions', { body: { apiKey: `cf_u_${randomUUID()}` } })).body.error.code).toBe('unauthenticated');
    expect((await browser().request('POST', '/v1/sessions')).status).toBe(401);
    const two = await browser().request('POST', '/v1/sessions', { headers: { authorization: `Bearer ${account.keys.agent}` }, body: { apiKey: account.keys.manager } });
    expect(two.status).toBe(400);
  });

  test('a write with the cookie needs X-Convoflow-CSRF: 1; a read does not', async () => {
    const jar = browser();
    await signInWithKey(jar, account.keys.agent2);
    const presence = `/v1/accounts/${account.id}/users/${account.users.agent2}/presence`;
    const forged = await jar.request('PUT', presence, { body: { status: 'online' } });
    expect(forged.status).toBe(403);
    expect(forged.body.error.message).toContain('x-convoflow-csrf');
    expect((await jar.request('PUT', presence, { body: { status: 'online' }, headers: { 'x-convoflow-csrf': 'yes' } })).status).toBe(403);
    expect((await jar.request('PUT', presence, { body: { status: 'online' }, headers: csrf })).status).toBe(200);
    expect((await jar.request('GET', '/v1/me')).body.presence).toBe('online');
    // A bearer key needs no such header: no browser sends it by itself.
    expect((await env.stack.http.request('PUT', presence, { key: account.keys.agent2, body: { status: 'away' } })).status).toBe(200);
  });

  test('signing out ends the session at once: the old cookie is refused, and the answer clears it', async () => {
    const jar = browser();
    await signInWithKey(jar, account.keys.owner);
    const stolen = jar.get(sessionCookie)!;
    const out = await jar.request('DELETE', '/v1/sessions/current', { headers: csrf });
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie()).toEqual(['convoflow_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict']);
    expect(jar.get(sessionCookie)).toBeUndefined();
    expect((await jar.request('GET', '/v1/me')).status).toBe(401);

    const replayed = await env.stack.http.request('GET', '/v1/me', { headers: { cookie: `${sessionCookie}=${stolen}` } });
    expect(replayed.status).toBe(401);
    expect(replayed.body.error.message).toContain('sign in again');
    expect(replayed.headers.getSetCookie()[0]).toMatch(/^convoflow_session=; Path=\/; Max-Age=0/);
    // Sign-out needs the CSRF header too: another site cannot sign you out.
    const again = browser();
    await signInWithKey(again, account.keys.owner);
    expect((await again.request('DELETE', '/v1/sessions/current')).status).toBe(403);
    expect((await again.request('GET', '/v1/me')).status).toBe(200);
  });

  test('revoking the key the session was opened with ends the session at its next request', async () => {
    const user = await newUser();
    const jar = browser();
    await signInWithKey(jar, user.key);
    expect((await jar.request('GET', '/v1/me')).status).toBe(200);
    const keyId = await keyIdOf(user.id, user.key);
    expect((await env.stack.http.request('DELETE', `/v1/accounts/${account.id}/users/${user.id}/keys/${keyId}`, { key: account.keys.owner })).status).toBe(200);
    const after = await jar.request('GET', '/v1/me');
    expect(after.status).toBe(401);
    expect(after.body.error.message).toContain('revoked');
  });

  test('rotating the key ends its sessions at once, or when the grace period ends', async () => {
    const user = await newUser();
    const now = browser();
    await signInWithKey(now, user.key);
    const rotated = await env.stack.http.post(`/v1/accounts/${account.id}/users/${user.id}/keys/rotate`, {}, user.key);
    expect(rotated.status).toBe(201);
    expect((await now.request('GET', '/v1/me')).status).toBe(401);

    const graceful = browser();
    await signInWithKey(graceful, rotated.body.apiKey);
    const second = await env.stack.http.post(`/v1/accounts/${account.id}/users/${user.id}/keys/rotate`, { gracePeriod: '2s' }, rotated.body.apiKey);
    expect(second.status).toBe(201);
    expect((await graceful.request('GET', '/v1/me')).status).toBe(200);
    await untilPast(Date.parse(second.body.previous[0].expiresAt)); // the grace period's end, no margin
    expect((await graceful.request('GET', '/v1/me')).status).toBe(401);
  });

  test("deactivating the user ends every one of their sessions; reactivating does not bring them back", async () => {
    const user = await newUser();
    const tabs = [browser(), browser()];
    for (const jar of tabs) await signInWithKey(jar, user.key);
    expect((await env.stack.http.patch(`/v1/accounts/${account.id}/users/${user.id}`, { active: false }, account.keys.owner)).status).toBe(200);
    for (const jar of tabs) expect((await jar.request('GET', '/v1/me')).status).toBe(401);
    expect((await env.stack.http.patch(`/v1/accounts/${account.id}/users/${user.id}`, { active: true }, account.keys.owner)).status).toBe(200);
    for (const jar of tabs) expect((await jar.request('GET', '/v1/me')).status).toBe(401);
  });

  test('a user lists their own sessions and ends another one of them', async () => {
    const user = await newUser();
    const laptop = browser();
    const phone = browser();
    await signInWithKey(laptop, user.key);
    const phoneSession = (await signInWithKey(phone, user.key)).body.session.id as string;
    const list = await laptop.request('GET', '/v1/sessions');
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    expect(list.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(phone.get(sessionCookie)!);
    // Another user cannot see or end them.
    expect((await env.stack.http.request('DELETE', `/v1/sessions/${phoneSession}`, { key: account.keys.owner })).status).toBe(404);
    expect((await laptop.request('DELETE', `/v1/sessions/${phoneSession}`, { headers: csrf })).status).toBe(200);
    expect((await phone.request('GET', '/v1/me')).status).toBe(401);
    expect((await laptop.request('GET', '/v1/me')).status).toBe(200);
  });

  test('the account stream opens with the cookie alone', async () => {
    const jar = browser();
    await signInWithKey(jar, account.keys.agent);
    const controller = new AbortController();
    const res = await fetch(`${env.stack.baseUrl}/v1/accounts/${account.id}/stream`, {
      headers: { cookie: `${sessionCookie}=${jar.get(sessionCookie)}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: ready')) text += (await reader.read()).value ?? '';
    controller.abort();
    // Another account's stream stays closed to it.
    const other = await jar.request('GET', `/v1/accounts/acct-elsewhere/stream`);
    expect(other.status).toBe(404);
  });
});

describe('session lifetimes', () => {
  let short: SignInApi;
  afterEach(async () => {
    await short?.stop();
  });

  test('a session ends SESSION_TTL after sign-in, however much it is used, in every API process', async () => {
    short = await startSignInApi(env.stack, { sessions: { ttlMs: 1_500, idleTtlMs: 1_500 } });
    const jar = browser(short.baseUrl);
    const reply = await signInWithKey(jar, account.keys.agent);
    const signedIn = Date.now(); // the session began before this instant
    expect(CookieJar.setCookies(reply.headers)[0]).toContain('Max-Age=1;');
    const token = jar.get(sessionCookie)!;
    // The same session at the stack's own API process (another process of the deployment).
    const elsewhere = () => env.stack.http.request('GET', '/v1/me', { headers: { cookie: `${sessionCookie}=${token}` } });
    expect((await elsewhere()).status).toBe(200);
    await untilPast(signedIn + 1_500);
    const expired = await jar.request('GET', '/v1/me');
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toContain('expired');
    expect((await elsewhere()).status).toBe(401);
  });

  test('a session unused for SESSION_IDLE_TTL ends; one in use lives on', async () => {
    short = await startSignInApi(env.stack, { sessions: { ttlMs: 3_600_000, idleTtlMs: 2_000 } });
    const jar = browser(short.baseUrl);
    await signInWithKey(jar, account.keys.agent);
    let lastUse = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 700));
      expect((await jar.request('GET', '/v1/me')).status).toBe(200);
      lastUse = Date.now(); // the session was last used before this instant
    }
    await untilPast(lastUse + 2_000);
    expect((await jar.request('GET', '/v1/me')).status).toBe(401);
  });
});

describe('single sign-on through an OpenID Connect provider', () => {
  const email = `ana.${randomUUID().slice(0, 6)}@example.com`;
  const shared = `sam.${randomUUID().slice(0, 6)}@example.com`;
  let ana: { id: string; key: string };
  let otherAccount: Account;

  beforeAll(async () => {
    // The provider must know the callback (which names the API's port) before the API knows the provider.
    const port = await freePort();
    const callback = `http://127.0.0.1:${port}/v1/auth/oidc/callback`;
    provider = await startOidcProvider({
      redirectUris: [callback],
      people: {
        ana: { email: email.toUpperCase(), email_verified: true },
        eve: { email, email_verified: false },
        nobody: { email: `nobody.${randomUUID().slice(0, 6)}@example.com`, email_verified: true },
        sam: { email: shared, email_verified: true },
      },
    });
    sso = await startSignInApi(env.stack, {
      port,
      oidc: (baseUrl) => ({ issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, redirectUrl: `${baseUrl}/v1/auth/oidc/callback`, account: undefined }),
    });
    ana = await newUser('agent', { email });
    otherAccount = await createAccount(env.stack);
    await newUser('agent', { email: shared });
    await newUser('agent', { email: shared }, otherAccount.id);
  }, 120_000);
  afterAll(async () => {
    await sso?.stop();
    await provider?.stop();
  });

  /** Logs in at the provider's own pages (login, then consent) and answers where the API sent the browser. */
  async function signInAtProvider(jar: CookieJar, login: string, query = ''): Promise<{ landed: string; visited: string[] }> {
    const start = await jar.request('GET', `/v1/auth/oidc/login${query}`);
    expect(start.status).toBe(302);
    expect(start.headers.get('location')!.startsWith(`${provider.issuer}/auth?`)).toBe(true);
    expect(CookieJar.setCookies(start.headers)[0]).toMatch(/^convoflow_oidc=[^;]+; Path=\/v1\/auth\/oidc; Max-Age=600; HttpOnly; Secure; SameSite=Lax$/);
    let { reply, url } = await jar.follow(start, `${sso.baseUrl}/v1/auth/oidc/login`);
    const visited: string[] = [];
    // The provider's pages: a login form, then a consent form, each posting to its own action.
    for (let page = 0; page < 3 && reply.status === 200 && reply.text.includes('<form'); page++) {
      const action = /<form[^>]*action="([^"]+)"/.exec(reply.text)![1]!;
      const prompt = /name="prompt" value="([^"]+)"/.exec(reply.text)![1]!;
      const form: Record<string, string> = prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt };
      const posted = await jar.request('POST', new URL(action, url).href, { form });
      ({ reply, url } = await jar.follow(posted, new URL(action, url).href));
      visited.push(url);
    }
    expect(reply.status).toBe(200); // the inbox page, where the API sent the browser
    return { landed: url, visited };
  }

  test('GET /v1/auth/config says whether single sign-on is on', async () => {
    expect((await browser(sso.baseUrl).request('GET', '/v1/auth/config')).body).toEqual({ oidc: true, loginUrl: '/v1/auth/oidc/login' });
    expect((await browser().request('GET', '/v1/auth/config')).body).toEqual({ oidc: false, loginUrl: null });
    expect((await browser().request('GET', '/v1/auth/oidc/login')).status).toBe(404);
  });

  test("the provider's verified e-mail signs the matching user in, with the same session cookie; sign-out ends it", async () => {
    const jar = browser(sso.baseUrl);
    const { landed } = await signInAtProvider(jar, 'ana');
    expect(landed).toBe(`${sso.baseUrl}/app/`);
    expect(jar.get('convoflow_oidc')).toBeUndefined();
    const me = await jar.request('GET', '/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: ana.id, accountId: account.id });
    expect((await jar.request('GET', '/v1/sessions')).body.items[0]).toMatchObject({ origin: 'oidc', keyId: null, current: true });
    expect((await jar.request('DELETE', '/v1/sessions/current', { headers: csrf })).status).toBe(200);
    expect((await jar.request('GET', '/v1/me')).status).toBe(401);
  });

  test('an unverified e-mail, an unknown one, or one shared by two accounts signs nobody in, and says why', async () => {
    expect((await signInAtProvider(browser(sso.baseUrl), 'eve')).landed).toBe(`${sso.baseUrl}/app/?sso_error=email_unverified`);
    expect((await signInAtProvider(browser(sso.baseUrl), 'nobody')).landed).toBe(`${sso.baseUrl}/app/?sso_error=no_user`);
    expect((await signInAtProvider(browser(sso.baseUrl), 'sam')).landed).toBe(`${sso.baseUrl}/app/?sso_error=choose_account`);
    const chosen = browser(sso.baseUrl);
    expect((await signInAtProvider(chosen, 'sam', `?account=${otherAccount.id}`)).landed).toBe(`${sso.baseUrl}/app/`);
    expect((await chosen.request('GET', '/v1/me')).body.accountId).toBe(otherAccount.id);
  });

  test('a callback carried to another browser, or replayed, opens no session', async () => {
    const victim = browser(sso.baseUrl);
    const attacker = browser(sso.baseUrl);
    // The attacker runs the flow up to the callback, then hands its URL to the victim.
    const start = await attacker.request('GET', '/v1/auth/oidc/login');
    let { reply, url } = await attacker.follow(start, `${sso.baseUrl}/v1/auth/oidc/login`);
    let callbackUrl: string | undefined;
    for (let page = 0; page < 3 && !callbackUrl; page++) {
      const action = /<form[^>]*action="([^"]+)"/.exec(reply.text)![1]!;
      const prompt = /name="prompt" value="([^"]+)"/.exec(reply.text)![1]!;
      let next = await attacker.request('POST', new URL(action, url).href, { form: prompt === 'login' ? { prompt, login: 'ana', password: 'x' } : { prompt } });
      url = new URL(action, url).href;
      while (next.status >= 300 && next.status < 400) {
        url = new URL(next.headers.get('location')!, url).href;
        if (url.startsWith(`${sso.baseUrl}/v1/auth/oidc/callback`)) {
          callbackUrl = url;
          break;
        }
        next = await attacker.request('GET', url);
      }
      reply = next;
    }
    expect(callbackUrl).toBeDefined();
    const carried = await victim.request('GET', callbackUrl!);
    expect(carried.headers.get('location')).toBe('/app/?sso_error=expired');
    expect(victim.get(sessionCookie)).toBeUndefined();
    // The attacker's own browser may use it once; a replay finds the sign-in used up.
    expect((await attacker.request('GET', callbackUrl!)).headers.get('location')).toBe('/app/');
    const replay = await attacker.request('GET', callbackUrl!);
    expect(replay.headers.get('location')).toBe('/app/?sso_error=expired');
  });

  test("a single sign-on session ends when the user's e-mail changes", async () => {
    const user = await newUser('agent', { email: `zoe.${randomUUID().slice(0, 6)}@example.com` });
    // The provider's "ana" identity now matches Zoe: her e-mail is the one it gives, and Ana has none.
    const jar = browser(sso.baseUrl);
    expect((await env.stack.http.patch(`/v1/accounts/${account.id}/users/${ana.id}`, { email: null }, account.keys.owner)).status).toBe(200);
    expect((await env.stack.http.patch(`/v1/accounts/${account.id}/users/${user.id}`, { email: email.toUpperCase() }, account.keys.owner)).body.user.email).toBe(email);
    await signInAtProvider(jar, 'ana');
    expect((await jar.request('GET', '/v1/me')).body.userId).toBe(user.id);
    expect((await env.stack.http.patch(`/v1/accounts/${account.id}/users/${user.id}`, { email: `zoe@example.com` }, account.keys.owner)).status).toBe(200);
    expect((await jar.request('GET', '/v1/me')).status).toBe(401);
    // Put ana back for any later test.
    expect((await env.stack.http.patch(`/v1/accounts/${account.id}/users/${user.id}`, { email: null }, account.keys.owner)).status).toBe(200);
    expect((await env.stack.http.patch(`/v1/accounts/${account.id}/users/${ana.id}`, { email }, account.keys.owner)).status).toBe(200);
  });
});

describe('secrets of signing in stay out of logs', () => {
  test('session tokens, the client secret and the authorization code never reach a log line', async () => {
    let logged: SignInApi | undefined;
    let idp: TestProvider | undefined;
    try {
        const port = await freePort();
      idp = await startOidcProvider({ redirectUris: [`http://127.0.0.1:${port}/v1/auth/oidc/callback`], people: {} });
      const provided = idp;
      logged = await startSignInApi(env.stack, {
        port,
        log: logs.logger,
        oidc: (baseUrl) => ({ issuer: provided.issuer, clientId: provided.clientId, clientSecret: provided.clientSecret, redirectUrl: `${baseUrl}/v1/auth/oidc/callback`, account: undefined }),
      });
      const jar = browser(logged.baseUrl);
      await signInWithKey(jar, account.keys.agent);
      const token = jar.get(sessionCookie)!;
      expect((await jar.request('GET', '/v1/me')).status).toBe(200);
      expect((await jar.request('GET', '/v1/auth/oidc/login')).status).toBe(302);
      const code = `code-${randomUUID()}`;
      await jar.request('GET', `/v1/auth/oidc/callback?code=${code}&state=${jar.get('convoflow_oidc')}`);
      expect((await jar.request('DELETE', '/v1/sessions/current', { headers: csrf })).status).toBe(200);
      const text = logs.lines.join('');
      expect(text).toContain('/v1/sessions');
      for (const secret of [token, provided.clientSecret, code, account.keys.agent]) expect(text).not.toContain(secret);
    } finally {
      await logged?.stop();
      await idp?.stop();
    }
  });
});

describe('sign-in configuration', () => {
  const sso = { OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'convoflow', OIDC_CLIENT_SECRET: 'client-secret-1', PUBLIC_URL: 'https://inbox.example.com/' };

  test('single sign-on is all or nothing, and its callback is derived from PUBLIC_URL', () => {
    expect(loadConfig({}).oidc).toBeUndefined();
    expect(loadConfig({}).sessions).toEqual({ ttlMs: 7 * 86_400_000, idleTtlMs: 12 * 3_600_000 });
    expect(loadConfig(sso).oidc).toEqual({ issuer: 'https://id.example.com', clientId: 'convoflow', clientSecret: 'client-secret-1', redirectUrl: 'https://inbox.example.com/v1/auth/oidc/callback', account: undefined });
    expect(() => loadConfig({ OIDC_ISSUER: 'https://id.example.com' })).toThrow(/OIDC_CLIENT_ID: required[\s\S]*OIDC_CLIENT_SECRET: required[\s\S]*OIDC_REDIRECT_URL: required/);
    expect(() => loadConfig({ ...sso, OIDC_ISSUER: 'http://id.example.com' })).toThrow(/OIDC_ISSUER: must be https/);
    expect(loadConfig({ ...sso, OIDC_ISSUER: 'http://localhost:9000' }).oidc?.issuer).toBe('http://localhost:9000');
  });

  test('session lifetimes are durations; the idle one is at most the whole', () => {
    expect(loadConfig({ SESSION_TTL: '1h', SESSION_IDLE_TTL: '2h' }).sessions).toEqual({ ttlMs: 3_600_000, idleTtlMs: 3_600_000 });
    expect(() => loadConfig({ SESSION_TTL: 'forever' })).toThrow(/SESSION_TTL: must be a duration/);
  });
});
