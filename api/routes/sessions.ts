import type { Request, Response } from 'express';
import { z } from 'zod';
import type { SessionDoc, SessionOrigin } from '../../store/sessions';
import { endOf } from '../../store/sessions';
import { bearerKeyOf, everyUser, sessionHashOf, userOfKey } from '../auth';
import { clearSessionCookie, cookieOf, oidcCookieName, oidcCookiePath, serializeCookie, sessionCookieName, setSessionCookie } from '../cookies';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import { hashApiKey, newSessionToken, sameSecret } from '../keys';
import { OidcRefusal } from '../oidc';
import { defineRoute } from '../route';
import * as s from '../schemas';
import { meOf } from '../me';

/**
 * Signing in once per browser (issue 22 item 14, README "Signing in"). A user exchanges their API key
 * (or signs in through the OpenID Connect provider) for a session: a random token in the
 * `convoflow_session` cookie, of which only the SHA-256 is stored (store/sessions.ts). Every tab of the
 * browser shares it; every /v1 route accepts it instead of `Authorization` (api/auth.ts), with the
 * `X-Convoflow-CSRF: 1` header on requests that change something. A session opened with a key ends
 * with the key; every session ends with its user's deactivation, at sign-out, and at its ends
 * (SESSION_TTL after sign-in, or SESSION_IDLE_TTL unused).
 */

export const oidcCallbackPath = '/v1/auth/oidc/callback';
/** A sign-in at the provider must come back within this. */
const oidcLoginTtlMs = 10 * 60_000;
/** The public id of a session: the first 16 hex digits of its token's hash, like a key's. */
const sessionIdOf = (hash: string) => hash.slice(0, 16);

const sessionView = (doc: SessionDoc, currentHash: string | undefined) => ({
  id: sessionIdOf(doc._id),
  origin: doc.origin.kind,
  keyId: doc.origin.kind === 'key' ? doc.origin.keyHash.slice(0, 16) : null,
  createdAt: doc.createdAt.toISOString(),
  expiresAt: doc.expiresAt.toISOString(),
  idleExpiresAt: doc.idleExpiresAt.toISOString(),
  userAgent: doc.userAgent,
  current: doc._id === currentHash,
});

const isoTime = z.string();
const sessionResponse = z.strictObject({
  id: z.string(),
  origin: z.enum(['key', 'oidc']),
  keyId: z.string().nullable(),
  createdAt: isoTime,
  expiresAt: isoTime,
  idleExpiresAt: isoTime,
  userAgent: z.string().nullable(),
  current: z.boolean(),
});
const meResponse = z.strictObject({ kind: z.literal('user'), accountId: z.string(), userId: z.string(), name: z.string(), role: s.role, presence: z.enum(['online', 'away', 'offline']) });

/**
 * Opens a session for the user and sets its cookie. The browser's previous session, if its cookie named
 * one, is ended: a browser holds one session at a time.
 */
async function openSession(
  deps: ApiDeps,
  req: Request,
  res: Response,
  opened: { accountId: string; userId: string; origin: SessionOrigin; notAfter?: number },
): Promise<SessionDoc> {
  const now = Date.now();
  const token = newSessionToken();
  const expiresAt = Math.min(now + deps.sessions.ttlMs, opened.notAfter ?? Infinity);
  const doc: SessionDoc = {
    _id: hashApiKey(token),
    accountId: opened.accountId,
    userId: opened.userId,
    origin: opened.origin,
    createdAt: new Date(now),
    expiresAt: new Date(expiresAt),
    idleExpiresAt: new Date(Math.min(now + deps.sessions.idleTtlMs, expiresAt)),
    idleMs: deps.sessions.idleTtlMs,
    userAgent: req.header('user-agent')?.slice(0, 200) ?? null,
  };
  await deps.collections.sessions.insertOne(doc);
  const previous = cookieOf(req, sessionCookieName);
  if (previous !== undefined) await endSession(deps, hashApiKey(previous));
  setSessionCookie(res, token, expiresAt - now);
  return doc;
}

async function endSession(deps: ApiDeps, hash: string): Promise<boolean> {
  const { deletedCount } = await deps.collections.sessions.deleteOne({ _id: hash });
  deps.lastKnown.forget(hash);
  return deletedCount === 1;
}

/** The user's own sessions that have not ended. */
async function sessionsOf(deps: ApiDeps, accountId: string, userId: string): Promise<SessionDoc[]> {
  const now = Date.now();
  const all = await deps.collections.sessions.find({ accountId, userId }).sort({ createdAt: 1, _id: 1 }).toArray();
  return all.filter((doc) => endOf(doc) > now);
}

/** Where a failed single sign-on sends the browser: the inbox's sign-in, which says why (inbox/src/signin.tsx). */
export type SsoError = 'denied' | 'email_unverified' | 'failed' | 'expired' | 'no_user' | 'ambiguous' | 'choose_account' | 'unavailable';
const ssoFailed = (res: Response, reason: SsoError) => res.redirect(302, `/app/?sso_error=${reason}`);

/** `POST /v1/sessions`'s optional body: the key, for clients that would rather not put it in a header. */
const sessionBody = z.strictObject({ apiKey: z.string().min(1).max(256).optional() });

const callbackQuery = z.looseObject({
  state: z.string().max(512).optional(),
  code: z.string().max(4096).optional(),
  error: z.string().max(256).optional(),
});

export const sessionRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/sessions',
    summary:
      "Sign in: exchange a user's API key (`Authorization: Bearer`, or `apiKey` in the body) for a browser session. Sets the `convoflow_session` cookie (HttpOnly, Secure, SameSite=Strict) and answers the session and who you are; the key is not needed again. The session ends with the key",
    // Authenticated by the key it is given, in the handler: the key of the header is the one bound. The
    // body is optional (a bearer key needs none), so it is read here rather than declared as `body`,
    // which would require a JSON content-type even for an empty POST.
    response: z.strictObject({ session: sessionResponse, me: meResponse }),
    status: 201,
    answersSecret: true,
    handler: async ({ deps, req, res }) => {
      const body = sessionBody.parse(req.body ?? {});
      const header = bearerKeyOf(req);
      if (header !== undefined && body.apiKey !== undefined && !sameSecret(header, body.apiKey)) {
        throw new ApiError({ code: 'validation_failed', message: 'send one key: in Authorization or as apiKey, not two different ones' });
      }
      const key = header ?? body.apiKey;
      if (key === undefined) throw new ApiError({ code: 'unauthenticated', message: 'send your API key: Authorization: Bearer <key>, or { "apiKey": "<key>" }' });
      const { principal, keyHash, keyExpiresAt } = await userOfKey(deps.collections, deps.platformApiKey, key);
      const doc = await openSession(deps, req, res, { accountId: principal.accountId, userId: principal.userId, origin: { kind: 'key', keyHash }, notAfter: keyExpiresAt });
      return { session: sessionView(doc, doc._id), me: await meOf(deps, principal) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sessions',
    summary: 'Your own browser sessions that have not ended (never their tokens); `current` marks the one of this request',
    allow: everyUser,
    response: z.strictObject({ items: z.array(sessionResponse), nextCursor: z.null() }),
    handler: async ({ deps, req, principal }) => {
      if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'sessions are for users' });
      const current = sessionHashOf(req);
      return { items: (await sessionsOf(deps, principal.accountId, principal.userId)).map((doc) => sessionView(doc, current)), nextCursor: null };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/sessions/current',
    summary: 'Sign out: ends the session of this request (its cookie) at once, in every tab and API process, and clears the cookie',
    allow: everyUser,
    response: z.strictObject({ session: sessionResponse }),
    handler: async ({ deps, req, res }) => {
      const hash = sessionHashOf(req);
      const doc = hash === undefined ? null : await deps.collections.sessions.findOne({ _id: hash });
      if (hash === undefined || !doc) throw new ApiError({ code: 'not_found', message: 'this request carries no session cookie: nothing to sign out of' });
      await endSession(deps, hash);
      clearSessionCookie(res);
      return { session: sessionView({ ...doc, expiresAt: new Date(), idleExpiresAt: new Date() }, hash) };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/sessions/{sessionId}',
    summary: 'End one of your own sessions (another browser): it stops working at once',
    allow: everyUser,
    response: z.strictObject({ session: sessionResponse }),
    handler: async ({ deps, req, res, params, principal }) => {
      if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'sessions are for users' });
      const doc = (await sessionsOf(deps, principal.accountId, principal.userId)).find((d) => sessionIdOf(d._id) === params.sessionId);
      if (!doc) throw notFound('session');
      await endSession(deps, doc._id);
      const current = sessionHashOf(req);
      if (doc._id === current) clearSessionCookie(res);
      return { session: sessionView({ ...doc, expiresAt: new Date(), idleExpiresAt: new Date() }, current) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/auth/config',
    summary: 'How one signs in here, for the sign-in page (no key needed): `{ oidc }` is true when single sign-on is configured, with its `loginUrl`',
    response: z.strictObject({ oidc: z.boolean(), loginUrl: z.string().nullable() }),
    handler: async ({ deps }) => ({ oidc: deps.oidc !== undefined, loginUrl: deps.oidc ? '/v1/auth/oidc/login' : null }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/auth/oidc/login',
    summary:
      "Single sign-on: redirects (302) the browser to the OpenID Connect provider. `account` limits the match to that account's users (needed when one e-mail belongs to users of several accounts)",
    query: z.strictObject({ account: s.id.optional() }),
    status: 302,
    handler: async ({ deps, res, query }) => {
      if (!deps.oidc) throw new ApiError({ code: 'not_found', message: 'single sign-on is not configured here' });
      if (query.account !== undefined && deps.oidc.account !== undefined && query.account !== deps.oidc.account) {
        throw new ApiError({ code: 'validation_failed', message: `single sign-on here signs in to account ${deps.oidc.account} only` });
      }
      let started: Awaited<ReturnType<NonNullable<ApiDeps['oidc']>['client']['start']>>;
      try {
        started = await deps.oidc.client.start();
      } catch (error) {
        res.log?.warn({ err: error }, 'the OpenID Connect provider could not be reached');
        return ssoFailed(res, 'unavailable');
      }
      await deps.collections.oidcLogins.insertOne({
        _id: hashApiKey(started.state),
        nonce: started.nonce,
        codeVerifier: started.codeVerifier,
        accountId: query.account ?? null,
        expiresAt: new Date(Date.now() + oidcLoginTtlMs),
      });
      // The state also goes into a cookie of this browser: a callback URL carried to another browser
      // (login CSRF: signing a victim in as the attacker) finds no matching cookie there.
      res.append('set-cookie', serializeCookie(oidcCookieName, started.state, { path: oidcCookiePath, maxAgeSeconds: oidcLoginTtlMs / 1000, sameSite: 'Lax' }));
      res.redirect(302, started.url);
    },
  }),
  defineRoute({
    method: 'get',
    path: oidcCallbackPath,
    summary:
      "Where the provider sends the browser back: checks the answer and the ID token, finds the active user with the token's verified e-mail, opens a session (the same cookie as POST /v1/sessions) and redirects (302) to /app/; on failure to /app/?sso_error=<reason>",
    query: callbackQuery,
    status: 302,
    handler: async ({ deps, req, res, query }) => {
      if (!deps.oidc) throw new ApiError({ code: 'not_found', message: 'single sign-on is not configured here' });
      res.append('set-cookie', serializeCookie(oidcCookieName, '', { path: oidcCookiePath, maxAgeSeconds: 0, sameSite: 'Lax' }));
      const bound = cookieOf(req, oidcCookieName);
      if (query.state === undefined || bound === undefined || !sameSecret(query.state, bound)) return ssoFailed(res, 'expired');
      const _id = hashApiKey(query.state);
      const login = await deps.collections.oidcLogins.findOne({ _id });
      // Single use: of two callbacks racing with one state, only the one whose delete removed it goes on.
      const removed = login ? (await deps.collections.oidcLogins.deleteOne({ _id })).deletedCount : 0;
      if (!login || removed !== 1 || login.expiresAt.getTime() <= Date.now()) return ssoFailed(res, 'expired');

      let identity: { subject: string; email: string };
      try {
        const search = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
        identity = await deps.oidc.client.finish(search, { state: query.state, nonce: login.nonce, codeVerifier: login.codeVerifier });
      } catch (error) {
        if (!(error instanceof OidcRefusal)) throw error;
        res.log?.warn({ reason: error.reason, detail: error.message }, 'single sign-on refused');
        return ssoFailed(res, error.reason);
      }
      const accountId = login.accountId ?? deps.oidc.account;
      const users = await deps.collections.users
        .find({ email: identity.email, active: true, ...(accountId === undefined ? {} : { accountId }) })
        .limit(5)
        .toArray();
      if (users.length === 0) return ssoFailed(res, 'no_user');
      // One e-mail, several users: never guess whom to sign in as.
      if (users.length > 1) return ssoFailed(res, users.every((u) => u.accountId === users[0]!.accountId) ? 'ambiguous' : 'choose_account');
      const user = users[0]!;
      await openSession(deps, req, res, {
        accountId: user.accountId,
        userId: user.userId,
        origin: { kind: 'oidc', issuer: deps.oidc.client.issuer, subject: identity.subject, email: identity.email },
      });
      res.redirect(302, '/app/');
    },
  }),
];
