import { z } from 'zod';
import { countsByStatusAndAssignee } from '../../store/conversation-views';
import { everyUser } from '../auth';
import { meOf } from '../me';
import { defineRoute } from '../route';

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
      const groups = await countsByStatusAndAssignee(deps.collections, params.accountId!);
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
