import type { Request, Response } from 'express';

/**
 * The two cookies the API sets, and how it reads them (no cookie-parser: two names, one header).
 *
 * `convoflow_session` holds a browser's session token (api/routes/sessions.ts): HttpOnly (no script
 * reads it, so an injected script cannot carry it away), Secure, SameSite=Strict (no other site's page
 * makes the browser send it), Path=/ (the inbox page and /v1). `convoflow_oidc` ties a single sign-on
 * under way to the browser that started it; it must be SameSite=Lax, since the provider sends the browser
 * back with a top-level navigation from its own site, where a Strict cookie would be left out.
 */
export const sessionCookieName = 'convoflow_session';
export const oidcCookieName = 'convoflow_oidc';
export const oidcCookiePath = '/v1/auth/oidc';

/**
 * Requests authenticated by the session cookie that change something must carry this header with the
 * value `1`. A page of another origin cannot add a custom header without a CORS preflight, which this API
 * never grants, so a forged form or `fetch` from elsewhere is refused even by a browser that ignored
 * SameSite. (An Origin check was the alternative; it breaks behind proxies that rewrite Host, and some
 * browsers leave Origin out of same-origin GETs, so it would need PUBLIC_URL everywhere.)
 */
export const csrfHeaderName = 'x-convoflow-csrf';

/** The value of one cookie of the request, if it sent it. */
export function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at < 0 || part.slice(0, at).trim() !== name) continue;
    const value = part.slice(at + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

export interface CookieAttributes {
  path: string;
  maxAgeSeconds: number;
  sameSite: 'Strict' | 'Lax';
}

/** `Set-Cookie` text: always HttpOnly and Secure (browsers accept Secure cookies from http://localhost too). */
export function serializeCookie(name: string, value: string, a: CookieAttributes): string {
  return `${name}=${value}; Path=${a.path}; Max-Age=${Math.max(0, Math.floor(a.maxAgeSeconds))}; HttpOnly; Secure; SameSite=${a.sameSite}`;
}

export function setSessionCookie(res: Response, token: string, maxAgeMs: number): void {
  res.append('set-cookie', serializeCookie(sessionCookieName, token, { path: '/', maxAgeSeconds: maxAgeMs / 1000, sameSite: 'Strict' }));
}

/** Tells the browser to drop its session cookie (signed out, or the session it names is over). */
export function clearSessionCookie(res: Response): void {
  res.append('set-cookie', serializeCookie(sessionCookieName, '', { path: '/', maxAgeSeconds: 0, sameSite: 'Strict' }));
}
