import type { ConversationState, Status } from './lifecycle';
import { autoCloseAt, windowExpiresAt } from './lifecycle';
import type { Policy } from './policy';

/**
 * The conversation as readers see it (SPEC section 5): what the workflow query returns and what the
 * MongoDB `conversations` collection holds. Times are ISO-8601 strings; `version` orders writes.
 */
export interface ConversationView {
  id: string;
  accountId: string;
  channel: string;
  customer: string;
  customerName: string | null;
  status: Status;
  assigneeId: string | null;
  episode: number;
  unreadCount: number;
  lastCustomerMessageAt: string | null;
  windowExpiresAt: string | null;
  autoCloseAt: string | null;
  closedReason: string | null;
  closedAt: string | null;
  campaignId: string | null;
  tags: string[];
  archived: boolean;
  csatScore: number | null;
  /** Whose capacity the conversation consumes (assigned, and wrap-up as the policy says). */
  heldBy: string | null;
  lastActivityAt: string | null;
  updatedAt: string | null;
  version: number;
}

/** Epoch ms as ISO-8601; null (or absent: FerretDB drops null fields on upsert) as null. */
export const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

export function toView(state: ConversationState, policy: Policy): ConversationView {
  return {
    id: state.conversationId,
    accountId: state.accountId,
    channel: state.channel,
    customer: state.customer,
    customerName: state.customerName,
    status: state.status,
    assigneeId: state.assigneeId,
    episode: state.episode,
    unreadCount: state.unreadCount,
    lastCustomerMessageAt: iso(state.lastCustomerMessageAt),
    windowExpiresAt: iso(windowExpiresAt(state, policy)),
    autoCloseAt: iso(autoCloseAt(state, policy)),
    closedReason: state.closedReason,
    closedAt: iso(state.closedAt),
    campaignId: state.campaignId,
    tags: state.tags,
    archived: state.archived,
    csatScore: state.csatScore,
    heldBy: state.heldBy,
    lastActivityAt: iso(state.lastActivityAt),
    updatedAt: iso(state.updatedAt),
    version: state.version,
  };
}
