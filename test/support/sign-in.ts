import path from 'node:path';
import type { Server } from 'node:http';
import type express from 'express';
import type { Logger } from 'pino';
import type { AppOptions } from '../../api/app';
import { createApp } from '../../api/app';
import type { OidcConfig } from '../../infra/config';
import { freePort } from '../../dev/free-port';
import type { NodeChild } from '../../dev/node-child';
import { spawnNodeChild } from '../../dev/node-child';
import type { Stack } from './stack';
import { quietLog } from './stack';

/**
 * Sign-in tests (test/api/sessions.test.ts, test/inbox/session.browser.test.ts): a second API process
 * over a stack's database with its own sign-in settings (short session lifetimes, single sign-on), as
 * another API process of the same deployment would be; a real OpenID Connect provider in its own
 * process; and an HTTP client with a cookie jar, as a browser would keep one.
 */

export interface SignInApi {
  baseUrl: string;
  app: express.Express;
  stop(): Promise<void>;
}

/**
 * Starts an API over the stack's database and Temporal on a port picked first, so that single sign-on's
 * redirect URL (which names the port) can be configured before the app is built. `host` is the name
 * browsers use (`localhost` in the browser test, a site apart from the provider's 127.0.0.1).
 */
export async function startSignInApi(
  stack: Stack,
  options: {
    host?: string;
    port?: number;
    sessions?: AppOptions['sessions'];
    oidc?: (baseUrl: string) => OidcConfig;
    log?: Logger;
    /** Serves the app inside another (the browser test adds its own page). */
    wrap?: (app: express.Express) => express.Express;
  } = {},
): Promise<SignInApi> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
  const { app, deps } = createApp({
    db: stack.db,
    temporal: stack.client,
    taskQueue: stack.taskQueue,
    platformApiKey: stack.platformKey,
    log: options.log ?? quietLog,
    sessions: options.sessions,
    oidc: options.oidc?.(baseUrl),
  });
  const served = options.wrap ? options.wrap(app) : app;
  const server: Server = await new Promise((resolve, reject) => {
    const s = served.listen(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  return {
    baseUrl,
    app,
    async stop() {
      deps.streams.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Person {
  email: string;
  email_verified: boolean;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

/** panva's oidc-provider in its own process (test/support/oidc-provider.ts), on 127.0.0.1. */
export async function startOidcProvider(options: { redirectUris: string[]; people: Record<string, Person> }): Promise<TestProvider> {
  const issuer = `http://127.0.0.1:${await freePort()}`;
  const clientId = 'convoflow-test';
  const clientSecret = `client-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const child: NodeChild = spawnNodeChild({
    name: 'oidc-provider',
    script: path.join(__dirname, 'oidc-provider.ts'),
    env: {
      ...process.env,
      OIDC_TEST_ISSUER: issuer,
      OIDC_TEST_CLIENT: JSON.stringify({ client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUris }),
      OIDC_TEST_PEOPLE: JSON.stringify(options.people),
      // The provider's own notices (development interactions are on) stay out of the test output.
      NODE_NO_WARNINGS: '1',
    },
    logFile: path.join(__dirname, '..', '..', 'test-output', 'oidc-provider.log'),
  });
  await child.ready;
  return { issuer, clientId, clientSecret, stop: () => child.stop(5_000) };
}

export interface JarReply {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/**
 * An HTTP client that keeps cookies per host as a browser does (name, value, path; Max-Age=0 deletes),
 * and never follows redirects by itself: `follow` does, one hop at a time, so a test sees each one.
 */
export class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  constructor(private readonly origin: string) {}

  /** The value of one of this origin's cookies, for assertions. */
  get(name: string): string | undefined {
    return this.cookies.get(`${new URL(this.origin).host} ${name}`)?.value;
  }

  /** Each `Set-Cookie` of an answer, as the server wrote it. */
  static setCookies(headers: Headers): string[] {
    return headers.getSetCookie();
  }

  async request(method: string, url: string, options: { body?: unknown; headers?: Record<string, string>; form?: Record<string, string> } = {}): Promise<JarReply> {
    const target = new URL(url, this.origin);
    const headers: Record<string, string> = { ...options.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const res = await fetch(target, { method, headers, body, redirect: 'manual' });
    this.store(target, res.headers);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // HTML (the provider's pages) or empty
    }
    return { status: res.status, body: parsed, text, headers: res.headers };
  }

  /** Follows redirects from `reply` (GET), answering the last reply and every URL visited. */
  async follow(reply: JarReply, from: string, limit = 10): Promise<{ reply: JarReply; url: string; visited: string[] }> {
    let url = from;
    const visited: string[] = [];
    while (reply.status >= 300 && reply.status < 400 && limit-- > 0) {
      url = new URL(reply.headers.get('location')!, url).href;
      visited.push(url);
      reply = await this.request('GET', url);
    }
    return { reply, url, visited };
  }

  private cookieHeader(url: URL): string {
    const host = url.host;
    return [...this.cookies.entries()]
      .filter(([key, c]) => key.startsWith(`${host} `) && url.pathname.startsWith(c.path))
      .map(([key, c]) => `${key.slice(host.length + 1)}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((p) => p.trim());
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at);
      const value = pair!.slice(at + 1);
      const pathAttribute = attributes.find((a) => /^path=/i.test(a));
      const maxAge = attributes.find((a) => /^max-age=/i.test(a));
      const expires = attributes.find((a) => /^expires=/i.test(a));
      const key = `${url.host} ${name}`;
      const gone = (maxAge !== undefined && Number(maxAge.split('=')[1]) <= 0) || (expires !== undefined && Date.parse(expires.slice(8)) <= Date.now());
      if (gone || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { value, path: pathAttribute ? pathAttribute.slice(5) : '/' });
    }
  }
}
