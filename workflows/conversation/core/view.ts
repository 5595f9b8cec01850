import type { ConversationState, MessageKind, Status } from './lifecycle';
import { autoCloseAt, windowExpiresAt } from './lifecycle';
import type { Policy } from './policy';
import { effective } from './policy';
import { slaContextOf } from './conversation-sla';
import type { SlaMetric, SlaPriority } from './sla';
import { slaView } from './sla';

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
  /** The newest timeline message in one line (`text`: at most 120 characters, or a word for its kind). */
  lastMessage: { direction: 'inbound' | 'outbound'; kind: MessageKind; text: string; at: string } | null;
  /** When the oldest customer message no user has answered yet was sent; null when nobody waits. */
  waitingSince: string | null;
  /** The team holding the conversation (a transfer's or flow's, else the routing rules'); null under manual routing. */
  team: string | null;
  /** Customer messages recorded so far (the state's counter); `unreadForMe` subtracts a read mark's from it. */
  inboundCount: number;
  /** Whether `inboundCount` covers the whole timeline (false for a conversation counted from an upgrade on). */
  inboundCountFromStart: boolean;
  /** SPEC 9: chooses the SLA targets; `normal` unless a user set another. */
  priority: SlaPriority;
  /** SPEC 9: due times (null once met, while paused, or with no target), breached metrics, paused. */
  sla: ConversationSlaView;
  /** SPEC 9: when a snoozed conversation wakes; null when it is not snoozed. */
  snoozedUntil: string | null;
  updatedAt: string | null;
  version: number;
}

export interface ConversationSlaView {
  firstResponseDueAt: string | null;
  nextResponseDueAt: string | null;
  resolutionDueAt: string | null;
  breached: SlaMetric[];
  paused: boolean;
}

/** What a conversation without SLA clocks (a run before the `sla-clocks` patch) shows. */
export const noSla: ConversationSlaView = { firstResponseDueAt: null, nextResponseDueAt: null, resolutionDueAt: null, breached: [], paused: false };

function slaViewOf(state: ConversationState, policy: Policy): ConversationSlaView {
  if (state.sla === undefined) return noSla;
  const v = slaView(state.sla, slaContextOf(policy));
  return { firstResponseDueAt: iso(v.firstResponseDueAt), nextResponseDueAt: iso(v.nextResponseDueAt), resolutionDueAt: iso(v.resolutionDueAt), breached: v.breached, paused: v.paused };
}

/** Epoch ms as ISO-8601; null (or absent: FerretDB drops null fields on upsert) as null. */
export const iso = (ms: number | null | undefined): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);

export function toView(state: ConversationState, given: Policy): ConversationView {
  const policy = effective(given); // once for the deadlines and the SLA view below (policy.ts)
  const lastMessage = state.lastMessage ?? null;
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
    // `?? null`: a state carried from a run of older code may lack the newer fields.
    lastMessage: lastMessage ? { direction: lastMessage.direction, kind: lastMessage.kind, text: lastMessage.text, at: iso(lastMessage.at)! } : null,
    waitingSince: iso(state.waitingSince),
    team: state.team ?? null,
    inboundCount: state.inboundCount ?? 0,
    inboundCountFromStart: state.inboundCountFromStart ?? state.messageSeq === 0,
    priority: state.sla?.priority ?? 'normal',
    sla: slaViewOf(state, policy),
    snoozedUntil: iso(state.snoozedUntil),
    updatedAt: iso(state.updatedAt),
    version: state.version,
  };
}

/**
 * The state with a new version when `next` policy changes anything its view shows (a deadline, the
 * window's end, ...), so the view is written again and readers see a version move with it; null when
 * the view is the same under both. `version` and `updatedAt` are what the answer would change, not what
 * is compared.
 */
export function restampedForPolicy(state: ConversationState, before: Policy, next: Policy, now: number): ConversationState | null {
  const shown = (policy: Policy) => {
    const { version: _version, updatedAt: _updatedAt, ...rest } = toView(state, policy);
    return JSON.stringify(rest);
  };
  if (before === next || shown(before) === shown(next)) return null;
  return { ...state, version: state.version + 1, updatedAt: now };
}
