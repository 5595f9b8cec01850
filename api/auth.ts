import type { Request } from 'express';
import type { Collections, UserDoc } from '../store/collections';
import { userDocId } from '../store/collections';
import { endOf, touchSession } from '../store/sessions';
import type { Role } from '../workflows/conversation/core/lifecycle';
import { clearSessionCookie, cookieOf, csrfHeaderName, sessionCookieName } from './cookies';
import { ApiError, isMongoUnreachable, notFound } from './errors';
import { hashApiKey, sameSecret, serviceKeyIdOf } from './keys';
import type { StreamCredential } from './stream-credentials';

/** Who is calling, resolved from the bearer key or the session cookie. */
export type Principal =
  | { kind: 'platform' }
  | { kind: 'user'; accountId: string; userId: string; role: Role }
  /**
   * `keyId`: the service key's stable id, that of the first key of its rotations (api/routes/keys.ts),
   * so two keys that share a name are two callers, and a rotated key is the same one.
   */
  | { kind: 'service'; accountId: string; name: string; keyId: string };

/** What a route admits: the platform operator, a user role, or a service key. */
export type Access = 'platform' | Role | 'service';

export const supervisors: Access[] = ['owner', 'admin', 'manager'];
export const everyUser: Access[] = ['owner', 'admin', 'manager', 'agent'];

export function isSupervisorPrincipal(principal: Principal): boolean {
  return principal.kind === 'user' && principal.role !== 'agent';
}

const rank: Record<Role, number> = { agent: 1, manager: 2, admin: 3, owner: 4 };

/**
 * A user acts on another user (changes them, their presence or their keys) only if their role ranks
 * at least as high: an admin cannot deactivate an owner, nor take an owner's key. The platform key
 * acts on anyone; a user always acts on themself.
 */
export function assertMayActOnUser(principal: Principal, target: { userId: string; role: Role }): void {
  if (principal.kind === 'platform') return;
  if (principal.kind === 'user' && principal.userId === target.userId) return;
  if (principal.kind === 'user' && rank[principal.role] >= rank[target.role]) return;
  throw new ApiError({ code: 'forbidden', message: `a ${principal.kind === 'user' ? principal.role : principal.kind} cannot act on a user of role ${target.role}` });
}

/**
 * Rotating or revoking another user's key asks more than acting on them: a rotation answers a working
 * key of that user, so whoever may rotate it may act as them. Only the user themself, the platform, or
 * an owner or admin who outranks them may (an admin manages managers' and agents' keys, an owner also
 * admins'); a peer may not, so an admin cannot become another admin. A peer whose key leaked is stopped
 * by deactivating them, which assertMayActOnUser allows.
 */
export function assertMayManageKeysOf(principal: Principal, target: { userId: string; role: Role }): void {
  if (principal.kind === 'platform') return;
  if (principal.kind === 'user' && principal.userId === target.userId) return;
  if (principal.kind === 'user' && (principal.role === 'owner' || principal.role === 'admin') && rank[principal.role] > rank[target.role]) return;
  throw new ApiError({
    code: 'forbidden',
    message: `a ${principal.kind === 'user' ? principal.role : principal.kind} cannot rotate or revoke the keys of a user of role ${target.role}: only the user themself, the platform, or an owner or admin of a higher rank`,
  });
}

/**
 * The principals this API process resolved recently, by key hash. Used only while MongoDB cannot be
 * reached: a backend service that sent messages a minute ago keeps delivering them (Temporal accepts
 * them on its own) instead of getting 503 for the key lookup. A key revoked or a user deactivated
 * while MongoDB answers takes effect at once; during an outage, a key seen within `maxAgeMs` keeps
 * working until MongoDB is back. Bounded to `maxEntries`, oldest first out.
 */
export class LastKnownPrincipals {
  private readonly entries = new Map<string, { principal: Principal; at: number; expiresAt: number | undefined; boundTo: string | undefined; kind: 'key' | 'session' }>();

  constructor(
    readonly maxAgeMs = 10 * 60_000,
    readonly maxEntries = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * `expiresAt`: the key's own end (a rotation's grace period); it is not recalled after that.
   * `boundTo`: for a session opened with a key, that key's hash: forgetting the key forgets the session.
   * `kind`: whether `hash` is an API key's or a session token's, for the re-check (`remembered`).
   */
  remember(hash: string, principal: Principal, expiresAt?: number, boundTo?: string, kind: 'key' | 'session' = 'key'): void {
    this.entries.delete(hash);
    this.entries.set(hash, { principal, at: this.clock(), expiresAt, boundTo, kind });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  recall(hash: string): Principal | undefined {
    const entry = this.entries.get(hash);
    const now = this.clock();
    return entry && now - entry.at <= this.maxAgeMs && (entry.expiresAt === undefined || now < entry.expiresAt) ? entry.principal : undefined;
  }

  /**
   * The credentials `recall` could still answer for, as the stream guard re-checks them (api/stream-guard.ts):
   * every few seconds each process reads them from the database and forgets those that ended, so a key
   * revoked through another process is not recalled here during a later outage.
   */
  remembered(): { hash: string; principal: Principal; credential: StreamCredential }[] {
    const now = this.clock();
    const out: { hash: string; principal: Principal; credential: StreamCredential }[] = [];
    for (const [hash, entry] of this.entries) {
      if (now - entry.at > this.maxAgeMs) continue;
      out.push({ hash, principal: entry.principal, credential: entry.kind === 'key' ? { kind: 'key', keyHash: hash } : { kind: 'session', sessionHash: hash } });
    }
    return out;
  }

  /**
   * Whose key this hash was, however long ago: a key's hash never changes owner (it is the hash of a
   * random secret issued to one user or service), so this may say where to look, never whether to let in.
   */
  ownerOf(hash: string): Principal | undefined {
    return this.entries.get(hash)?.principal;
  }

  /**
   * A key revoked or rotated through this process stops at once here too, even during an outage, and so
   * do the sessions opened with it (a scan: revocations are rare, lookups are not).
   */
  forget(hash: string): void {
    this.entries.delete(hash);
    for (const [other, entry] of this.entries) if (entry.boundTo === hash) this.entries.delete(other);
  }
}

/**
 * The caller of a request: its `Authorization: Bearer <key>`, or, without that header, its session
 * cookie (api/routes/sessions.ts). Both are checked against the database on every request, so a revoked
 * key, a deactivated user or a signed-out session is refused at once.
 */
export async function authenticate(req: Request, c: Collections, platformApiKey: string | undefined, lastKnown: LastKnownPrincipals): Promise<Principal> {
  if (req.headers.authorization === undefined) {
    const token = cookieOf(req, sessionCookieName);
    if (token !== undefined) return authenticateSession(req, c, token, lastKnown);
  }
  const key = bearerKeyOf(req);
  if (key === undefined) throw new ApiError({ code: 'unauthenticated', message: 'send Authorization: Bearer <key>, or sign in (POST /v1/sessions)' });
  if (platformApiKey && sameSecret(key, platformApiKey)) return { kind: 'platform' };

  const hash = hashApiKey(key);
  let found: { principal: Principal; expiresAt: number | undefined };
  try {
    found = await lookUp(c, hash, lastKnown.ownerOf(hash));
  } catch (error) {
    const recalled = isMongoUnreachable(error) ? lastKnown.recall(hash) : undefined;
    if (recalled) return recalled;
    // Refused by the database (revoked, expired, user inactive): never recalled in a later outage either.
    if (error instanceof ApiError && error.code === 'unauthenticated') lastKnown.forget(hash);
    throw error;
  }
  lastKnown.remember(hash, found.principal, found.expiresAt);
  return found.principal;
}

/**
 * The user whose key this is, for exchanging it for a session (POST /v1/sessions): only a user's key,
 * of an active user, not expired. Throws 401 for an unknown key, 403 for the platform or a service key.
 */
export async function userOfKey(c: Collections, platformApiKey: string | undefined, key: string): Promise<{ principal: Extract<Principal, { kind: 'user' }>; keyHash: string; keyExpiresAt: number | undefined }> {
  if (platformApiKey && sameSecret(key, platformApiKey)) throw new ApiError({ code: 'forbidden', message: "sessions are for users: sign in with your user's key" });
  const keyHash = hashApiKey(key);
  const { principal, expiresAt } = await lookUp(c, keyHash, undefined);
  if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: "sessions are for users: sign in with your user's key, not a service key" });
  return { principal, keyHash, keyExpiresAt: expiresAt };
}

const methodsThatRead = new Set(['GET', 'HEAD', 'OPTIONS']);
const sessionOver = (message: string) => new ApiError({ code: 'unauthenticated', message: `${message}: sign in again` });

/**
 * A request that carries the session cookie and no Authorization header. The session lives while it is
 * within its ends, its user is active, and (opened with a key) that key still works, or (opened through
 * single sign-on) the user still has the e-mail they were matched by. A session found over is deleted
 * and the browser told to drop its cookie.
 */
async function authenticateSession(req: Request, c: Collections, token: string, lastKnown: LastKnownPrincipals): Promise<Principal> {
  if (!methodsThatRead.has(req.method) && req.header(csrfHeaderName) !== '1') {
    throw new ApiError({ code: 'forbidden', message: `a request signed in with the session cookie that changes something must send the header ${csrfHeaderName}: 1` });
  }
  const hash = hashApiKey(token);
  let found: { principal: Principal; end: number; boundTo: string | undefined };
  try {
    found = await lookUpSession(c, hash, Date.now());
  } catch (error) {
    const recalled = isMongoUnreachable(error) ? lastKnown.recall(hash) : undefined;
    if (recalled) return recalled;
    if (error instanceof ApiError && error.code === 'unauthenticated') {
      lastKnown.forget(hash);
      if (req.res && !req.res.headersSent) clearSessionCookie(req.res);
    }
    throw error;
  }
  lastKnown.remember(hash, found.principal, found.end, found.boundTo, 'session');
  return found.principal;
}

async function lookUpSession(c: Collections, hash: string, now: number): Promise<{ principal: Principal; end: number; boundTo: string | undefined }> {
  const session = await c.sessions.findOne({ _id: hash });
  if (!session) throw sessionOver('this session was signed out or has ended');
  const end = async (message: string): Promise<never> => {
    // Over for good (an expired session, a revoked key, a deactivated user): nothing may revive it.
    await c.sessions.deleteOne({ _id: hash });
    throw sessionOver(message);
  };
  if (endOf(session) <= now) return end('this session has expired');
  const { origin } = session;
  const [key, user] = await Promise.all([
    origin.kind === 'key' ? c.apiKeys.findOne({ _id: origin.keyHash }) : Promise.resolve(null),
    c.users.findOne({ _id: userDocId(session.accountId, session.userId) }),
  ]);
  const keyEnd = key?.expiresAt ? key.expiresAt.getTime() : undefined;
  if (origin.kind === 'key' && (!key || (keyEnd !== undefined && keyEnd <= now))) return end('the API key this session was opened with was revoked or rotated');
  if (!user || !user.active) return end('this user is not active');
  if (origin.kind === 'oidc' && user.email !== origin.email) return end('this user\'s e-mail changed since single sign-on');
  await touchSession(c, session, now);
  return {
    principal: principalOf(user),
    end: Math.min(endOf(session), keyEnd ?? Infinity),
    boundTo: origin.kind === 'key' ? origin.keyHash : undefined,
  };
}

const principalOf = (user: UserDoc): Principal => ({ kind: 'user', accountId: user.accountId, userId: user.userId, role: user.role });

/**
 * The credential a request was authenticated with, after `authenticate` let it in: the platform key,
 * an API key (by hash) or, with no Authorization header, the session cookie (by hash). Streams keep it
 * and are ended when it ends (api/stream-guard.ts).
 */
export function credentialOf(req: Request, platformApiKey: string | undefined): StreamCredential {
  const session = sessionHashOf(req);
  if (session !== undefined) return { kind: 'session', sessionHash: session };
  const key = bearerKeyOf(req) ?? '';
  if (platformApiKey && sameSecret(key, platformApiKey)) return { kind: 'platform' };
  return { kind: 'key', keyHash: hashApiKey(key) };
}

/** The key of `Authorization: Bearer <key>`, if the request sent one in that form. */
export const bearerKeyOf = (req: Request): string | undefined => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

/** The secret the caller presented, as `authenticate` reads it: its bearer key, or without an Authorization header its session token. */
export function presentedSecretOf(req: Request): string | undefined {
  return req.headers.authorization === undefined ? cookieOf(req, sessionCookieName) : bearerKeyOf(req);
}

/** The session a request was authenticated with (its cookie, when it sent no Authorization header). */
export function sessionHashOf(req: Request): string | undefined {
  if (req.headers.authorization !== undefined) return undefined;
  const token = cookieOf(req, sessionCookieName);
  return token === undefined ? undefined : hashApiKey(token);
}

/**
 * The key's document and, for a user's key, the user's: both read on every request, so a revoked key
 * or a deactivated user is refused at once. When this process has seen the key before, it knows whose
 * it is and reads the two at the same time (one round trip instead of two, on every agent action);
 * what decides is still what the two documents say now.
 */
async function lookUp(c: Collections, hash: string, knownOwner: Principal | undefined): Promise<{ principal: Principal; expiresAt: number | undefined }> {
  const userOf = (accountId: string, userId: string) => c.users.findOne({ _id: userDocId(accountId, userId) });
  const early = knownOwner?.kind === 'user' ? settled(userOf(knownOwner.accountId, knownOwner.userId)) : undefined;
  const stored = await c.apiKeys.findOne({ _id: hash });
  if (!stored) throw new ApiError({ code: 'unauthenticated', message: 'unknown API key' });
  const expiresAt = stored.expiresAt ? stored.expiresAt.getTime() : undefined;
  if (expiresAt !== undefined && expiresAt <= Date.now()) throw new ApiError({ code: 'unauthenticated', message: 'this key was rotated and its grace period is over' });
  if (stored.kind === 'service') return { principal: { kind: 'service', accountId: stored.accountId, name: stored.name, keyId: serviceKeyIdOf(stored) }, expiresAt };

  const sameOwner = knownOwner?.kind === 'user' && knownOwner.accountId === stored.accountId && knownOwner.userId === stored.userId;
  const user = early && sameOwner ? unsettled(await early) : await userOf(stored.accountId, stored.userId!);
  if (!user || !user.active) throw new ApiError({ code: 'unauthenticated', message: 'this user is not active' });
  return { principal: principalOf(user), expiresAt };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A read started early, kept from rejecting unobserved until it is awaited. */
const settled = <T>(p: Promise<T>): Promise<Settled<T>> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));

const unsettled = <T>(s: Settled<T>): T => {
  if (!s.ok) throw s.error;
  return s.value;
};

/** "an agent key", "a manager key": the refusal reads as a sentence. */
const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

/**
 * Lets the principal act on `accountId` if the route admits it. Another account's key learns nothing,
 * not even that the account exists: 404, as for a missing resource.
 */
export function authorize(principal: Principal, allow: readonly Access[], accountId: string | undefined): void {
  if (principal.kind !== 'platform' && accountId !== undefined && principal.accountId !== accountId) throw notFound('account');
  const access: Access = principal.kind === 'user' ? principal.role : principal.kind;
  if (!allow.includes(access)) throw new ApiError({ code: 'forbidden', message: `${article(access)} ${access} key cannot do this` });
}
