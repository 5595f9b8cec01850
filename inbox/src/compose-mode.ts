import type { Conversation, Me } from './api';

/** Who may write here now, from the conversation alone (the API has the last word). */
export type ComposeMode = { kind: 'reply' } | { kind: 'closed' } | { kind: 'held'; by: string | null } | { kind: 'automation' } | { kind: 'parked'; status: string };

export function composeMode(me: Me, c: Conversation): ComposeMode {
  switch (c.status) {
    case 'closed':
    case 'resolved':
      return { kind: 'closed' };
    case 'in_flow':
      return { kind: 'automation' };
    case 'open':
      return { kind: 'reply' };
    case 'waiting':
    case 'wrap_up':
    case 'snoozed':
      return c.assigneeId === me.userId ? { kind: 'parked', status: c.status } : { kind: 'held', by: c.assigneeId };
    default:
      return c.assigneeId === me.userId ? { kind: 'reply' } : { kind: 'held', by: c.assigneeId };
  }
}
