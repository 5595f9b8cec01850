import { z } from 'zod';
import { readCounts } from '../../store/conversation-counts';
import { countsByStatusAndAssignee } from '../../store/conversation-views';
import { tabCounts } from '../../workflows/conversation/core/conversation-counts';
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
      // The account's newest count pack and the moves since (store/conversation-counts.ts); an account
      // from before the counts were kept, until `npm run backfill:counts`, is counted with one pass over
      // its conversations (FerretDB reads the whole collection for it).
      const counts = (await readCounts(deps.collections.counts, params.accountId!)) ?? (await countsByStatusAndAssignee(deps.collections, params.accountId!));
      return { items: tabCounts(counts, me), nextCursor: null };
    },
  }),
];
