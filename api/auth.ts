import type { Request } from 'express';
import type { Collections } from '../store/collections';
import { userDocId } from '../store/collections';
import type { Role } from '../workflows/conversation/lifecycle';
import { ApiError, isMongoUnreachable, notFound } from './errors';
import { hashApiKey, sameSecret } from './keys';

/** Who is calling, resolved from the bearer key. */
export type Principal =
  | { kind: 'platform' }
  | { kind: 'user'; accountId: string; userId: string; role: Role }
  | { kind: 'service'; accountId: string; name: string };

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
 * The principals this API process resolved recently, by key hash. Used only while MongoDB cannot be
 * reached: a backend service that sent messages a minute ago keeps delivering them (Temporal accepts
 * them on its own) instead of getting 503 for the key lookup. A key revoked or a user deactivated
 * while MongoDB answers takes effect at once; during an outage, a key seen within `maxAgeMs` keeps
 * working until MongoDB is back. Bounded to `maxEntries`, oldest first out.
 */
export class LastKnownPrincipals {
  private readonly entries = new Map<string, { principal: Principal; at: number; expiresAt: number | undefined }>();

  constructor(
    readonly maxAgeMs = 10 * 60_000,
    readonly maxEntries = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** `expiresAt`: the key's own end (a rotation's grace period); it is not recalled after that. */
  remember(hash: string, principal: Principal, expiresAt?: number): void {
    this.entries.delete(hash);
    this.entries.set(hash, { principal, at: this.clock(), expiresAt });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  recall(hash: string): Principal | undefined {
    const entry = this.entries.get(hash);
    const now = this.clock();
    return entry && now - entry.at <= this.maxAgeMs && (entry.expiresAt === undefined || now < entry.expiresAt) ? entry.principal : undefined;
  }

  /**
   * Whose key this hash was, however long ago: a key's hash never changes owner (it is the hash of a
   * random secret issued to one user or service), so this may say where to look, never whether to let in.
   */
  ownerOf(hash: string): Principal | undefined {
    return this.entries.get(hash)?.principal;
  }

  /** A key revoked or rotated through this process stops at once here too, even during an outage. */
  forget(hash: string): void {
    this.entries.delete(hash);
  }
}

export async function authenticate(req: Request, c: Collections, platformApiKey: string | undefined, lastKnown: LastKnownPrincipals): Promise<Principal> {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError({ code: 'unauthenticated', message: 'send Authorization: Bearer <key>' });
  const key = match[1]!;
  if (platformApiKey && sameSecret(key, platformApiKey)) return { kind: 'platform' };

  const hash = hashApiKey(key);
  let found: { principal: Principal; expiresAt: number | undefined };
  try {
    found = await lookUp(c, hash, lastKnown.ownerOf(hash));
  } catch (error) {
    const recalled = isMongoUnreachable(error) ? lastKnown.recall(hash) : undefined;
    if (recalled) return recalled;
    throw error;
  }
  lastKnown.remember(hash, found.principal, found.expiresAt);
  return found.principal;
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
  if (stored.kind === 'service') return { principal: { kind: 'service', accountId: stored.accountId, name: stored.name }, expiresAt };

  const sameOwner = knownOwner?.kind === 'user' && knownOwner.accountId === stored.accountId && knownOwner.userId === stored.userId;
  const user = early && sameOwner ? unsettled(await early) : await userOf(stored.accountId, stored.userId!);
  if (!user || !user.active) throw new ApiError({ code: 'unauthenticated', message: 'this user is not active' });
  return { principal: { kind: 'user', accountId: user.accountId, userId: user.userId, role: user.role }, expiresAt };
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
