import { z } from 'zod';
import { userDocId } from '../../store/collections';
import { presenceCollection, withPresence } from '../../store/presence';
import type { Principal } from '../auth';
import { everyUser } from '../auth';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { defineRoute } from '../route';

/** What GET /v1/me answers; also the `me` of a new session (POST /v1/sessions). */
export async function meOf(deps: ApiDeps, principal: Principal) {
  if (principal.kind === 'platform') return { kind: 'platform' };
  if (principal.kind === 'service') return { kind: 'service', accountId: principal.accountId, name: principal.name };
  const stored = await deps.collections.users.findOne({ _id: userDocId(principal.accountId, principal.userId) });
  if (!stored) throw notFound('user');
  const [user] = await withPresence(presenceCollection(deps.db), [stored]);
  if (!user) throw notFound('user');
  return { kind: 'user', accountId: user.accountId, userId: user.userId, name: user.name, role: user.role, presence: user.presence ?? 'offline' };
}

/**
 * Reads the inbox page needs and nothing else had: who a key belongs to (the page signs in with a key
 * alone) and how many conversations each tab holds.
 */
export const inboxRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/me',
    summary: 'Who this key is: `{ kind, accountId, userId, name, role, presence }` for a user key, `{ kind, accountId, name }` for a service key',
    allow: ['platform', 'service', ...everyUser],
    handler: async ({ deps, principal }) => meOf(deps, principal),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/conversation-counts',
    summary:
      'How many conversations (not archived) are in each status, and how many the caller holds: `{ items: [{ status, count, mine }], nextCursor: null }`',
    allow: everyUser,
    query: z.strictObject({}),
    handler: async ({ deps, params, principal }) => {
      const me = principal.kind === 'user' ? principal.userId : null;
      // One pass over the account's conversations (FerretDB reads the collection once for it either way).
      const groups = await deps.collections.conversations
        .aggregate<{ _id: { status: string; assigneeId: string | null }; count: number }>([
          { $match: { accountId: params.accountId!, archived: { $ne: true } } },
          { $group: { _id: { status: '$status', assigneeId: '$assigneeId' }, count: { $sum: 1 } } },
        ])
        .toArray();
      const byStatus = new Map<string, { status: string; count: number; mine: number }>();
      for (const g of groups) {
        const row = byStatus.get(g._id.status) ?? { status: g._id.status, count: 0, mine: 0 };
        row.count += g.count;
        if (me !== null && g._id.assigneeId === me) row.mine += g.count;
        byStatus.set(g._id.status, row);
      }
      return { items: [...byStatus.values()].sort((a, b) => a.status.localeCompare(b.status)), nextCursor: null };
    },
  }),
];
