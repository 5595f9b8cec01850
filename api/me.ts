import { userDocId } from '../store/collections';
import { withPresence } from '../store/presence';
import type { Principal } from './auth';
import type { ApiDeps } from './deps';
import { notFound } from './errors';

/** What GET /v1/me answers; also the `me` of a new session (POST /v1/sessions). */
export async function meOf(deps: ApiDeps, principal: Principal) {
  if (principal.kind === 'platform') return { kind: 'platform' };
  if (principal.kind === 'service') return { kind: 'service', accountId: principal.accountId, name: principal.name };
  const stored = await deps.collections.users.findOne({ _id: userDocId(principal.accountId, principal.userId) });
  if (!stored) throw notFound('user');
  const [user] = await withPresence(deps.collections.presence.presence, [stored]);
  if (!user) throw notFound('user');
  return { kind: 'user', accountId: user.accountId, userId: user.userId, name: user.name, role: user.role, presence: user.presence ?? 'offline' };
}

