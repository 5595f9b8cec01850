import type { Request } from 'express';
import type { Collections } from '../store/collections';
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

/**
 * The principals this API process resolved recently, by key hash. Used only while MongoDB cannot be
 * reached: a backend service that sent messages a minute ago keeps delivering them (Temporal accepts
 * them on its own) instead of getting 503 for the key lookup. A key revoked or a user deactivated
 * while MongoDB answers takes effect at once; during an outage, a key seen within `maxAgeMs` keeps
 * working until MongoDB is back. Bounded to `maxEntries`, oldest first out.
 */
export class LastKnownPrincipals {
  private readonly entries = new Map<string, { principal: Principal; at: number }>();

  constructor(
    readonly maxAgeMs = 10 * 60_000,
    readonly maxEntries = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  remember(hash: string, principal: Principal): void {
    this.entries.delete(hash);
    this.entries.set(hash, { principal, at: this.clock() });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  recall(hash: string): Principal | undefined {
    const entry = this.entries.get(hash);
    return entry && this.clock() - entry.at <= this.maxAgeMs ? entry.principal : undefined;
  }
}

export async function authenticate(req: Request, c: Collections, platformApiKey: string | undefined, lastKnown: LastKnownPrincipals): Promise<Principal> {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError({ code: 'unauthenticated', message: 'send Authorization: Bearer <key>' });
  const key = match[1]!;
  if (platformApiKey && sameSecret(key, platformApiKey)) return { kind: 'platform' };

  const hash = hashApiKey(key);
  let principal: Principal;
  try {
    principal = await lookUp(c, hash);
  } catch (error) {
    const recalled = isMongoUnreachable(error) ? lastKnown.recall(hash) : undefined;
    if (recalled) return recalled;
    throw error;
  }
  lastKnown.remember(hash, principal);
  return principal;
}

async function lookUp(c: Collections, hash: string): Promise<Principal> {
  const stored = await c.apiKeys.findOne({ _id: hash });
  if (!stored) throw new ApiError({ code: 'unauthenticated', message: 'unknown API key' });
  if (stored.kind === 'service') return { kind: 'service', accountId: stored.accountId, name: stored.name };

  const user = await c.users.findOne({ _id: `${stored.accountId}/${stored.userId}` });
  if (!user || !user.active) throw new ApiError({ code: 'unauthenticated', message: 'this user is not active' });
  return { kind: 'user', accountId: user.accountId, userId: user.userId, role: user.role };
}

/**
 * Lets the principal act on `accountId` if the route admits it. Another account's key learns nothing,
 * not even that the account exists: 404, as for a missing resource.
 */
export function authorize(principal: Principal, allow: readonly Access[], accountId: string | undefined): void {
  if (principal.kind !== 'platform' && accountId !== undefined && principal.accountId !== accountId) throw notFound('account');
  const access: Access = principal.kind === 'user' ? principal.role : principal.kind;
  if (!allow.includes(access)) throw new ApiError({ code: 'forbidden', message: `a ${access} key cannot do this` });
}
