/**
 * A conversation whose run was terminated or failed continues from what the store knows (SPEC section
 * 12): its next run starts from the stored view and timeline instead of from nothing, so its sequence
 * numbers, outbound message ids and view version go on from where they were, and the lifecycle rules
 * decide the next input as they would have in the old run. Pure: the activity reads, this maps.
 *
 * What the views do not keep is approximated from the events (when the status and the assignment
 * began) or started afresh (the outbox, early receipts, a pending survey, a disconnection): a message
 * the old run queued and never sent stays unsent, as it already was when the run ended.
 */
import type { ClosedReason, ConversationState, MessageKind, Status, TransitionEvent } from './model';
import { dedupeWindow, initialState } from './model';
import type { SlaPriority } from './sla';

/** The stored view as the activity reads it (FerretDB drops null fields on upsert: any may be absent). */
export interface StoredView {
  customerName?: string | null;
  status: Status;
  assigneeId?: string | null;
  episode: number;
  unreadCount?: number | null;
  lastCustomerMessageAt?: string | null;
  closedReason?: string | null;
  closedAt?: string | null;
  campaignId?: string | null;
  tags?: string[] | null;
  archived?: boolean | null;
  csatScore?: number | null;
  heldBy?: string | null;
  lastActivityAt?: string | null;
  lastMessage?: { direction: 'inbound' | 'outbound'; kind: MessageKind; text: string; at: string } | null;
  waitingSince?: string | null;
  team?: string | null;
  inboundCount?: number | null;
  inboundCountFromStart?: boolean | null;
  /** SPEC 9: the stored priority, which a recovered run's SLA state starts from (`withSlaState`). */
  priority?: SlaPriority | null;
  /** SPEC 9: a snoozed conversation's wake-up (ISO); a recovered run keeps it (`withSnoozeState` keeps a set one). */
  snoozedUntil?: string | null;
  updatedAt?: string | null;
  version: number;
}

/** Everything a run that starts from nothing needs to know of an existing conversation. */
export interface StoredConversation {
  view: StoredView;
  /** The highest message seq of the timeline (0: none). */
  lastMessageSeq: number;
  /** The newest transition events, newest first (at most a few dozen). */
  recentEvents: Pick<TransitionEvent, 'seq' | 'at' | 'from' | 'to' | 'reason' | 'assigneeBefore' | 'assigneeAfter'>[];
  /** The highest `n` of the business messages' ids `out-{n}` (0: none). */
  lastOutboundNumber: number;
  /** The provider ids of the newest customer messages, oldest first (at most the dedupe window). */
  recentMessageIds: string[];
}

const ms = (value: string | null | undefined): number | null => {
  if (typeof value !== 'string') return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
};

/** The number `n` of an outbound message id `out-{n}`, else 0. */
export function outboundNumber(messageId: string): number {
  const match = /^out-(\d+)$/.exec(messageId);
  return match ? Number(match[1]) : 0;
}

/** The state a run continues from: the stored conversation, with every counter at or past what was stored. */
export function recoveredState(ids: { conversationId: string; accountId: string; channel: string; customer: string }, stored: StoredConversation): ConversationState {
  const { view } = stored;
  const events = [...stored.recentEvents].sort((a, b) => b.seq - a.seq);
  const statusSince = events.find((e) => e.from !== e.to && e.to === view.status)?.at ?? ms(view.updatedAt);
  const assignedAt = view.status === 'assigned' ? (events.find((e) => e.to === 'assigned' && e.from !== 'assigned')?.at ?? statusSince) : null;
  const lastAssignee = view.assigneeId ?? events.map((e) => e.assigneeAfter ?? e.assigneeBefore).find((id) => id !== null && id !== undefined) ?? null;
  const lastCustomerMessageAt = ms(view.lastCustomerMessageAt);
  // A window expiry already recorded for this customer message is not recorded again.
  const expiryRecorded = events.some((e) => e.reason === 'window_expired' && lastCustomerMessageAt !== null && e.at >= lastCustomerMessageAt);
  const lastMessageAt = view.lastMessage ? ms(view.lastMessage.at) : null;
  return {
    ...initialState(ids),
    customerName: view.customerName ?? null,
    status: view.status,
    assigneeId: view.assigneeId ?? null,
    episode: view.episode,
    unreadCount: view.unreadCount ?? 0,
    lastCustomerMessageAt,
    assignedAt,
    statusSince,
    lastActivityAt: ms(view.lastActivityAt),
    updatedAt: ms(view.updatedAt),
    closedReason: (view.closedReason ?? null) as ClosedReason | null,
    closedAt: ms(view.closedAt),
    lastAssigneeId: lastAssignee,
    heldBy: view.heldBy ?? null,
    campaignId: view.campaignId ?? null,
    tags: view.tags ?? [],
    archived: view.archived ?? false,
    csatScore: view.csatScore ?? null,
    windowExpiryRecordedFor: expiryRecorded ? lastCustomerMessageAt : null,
    version: view.version,
    // Every id the old run gave stays taken: a new message gets seq (and `out-{seq}`) above all of them.
    messageSeq: Math.max(stored.lastMessageSeq, stored.lastOutboundNumber),
    eventSeq: events[0]?.seq ?? 0,
    recentMessageIds: stored.recentMessageIds.slice(-dedupeWindow),
    lastMessage: view.lastMessage && lastMessageAt !== null ? { ...view.lastMessage, at: lastMessageAt } : null,
    waitingSince: ms(view.waitingSince),
    team: view.team ?? null,
    inboundCount: view.inboundCount ?? 0,
    inboundCountFromStart: view.inboundCountFromStart ?? false,
    // Present only for a snoozed view, so a run without the `snooze` patch recovers a state without the field.
    ...(view.status === 'snoozed' ? { snoozedUntil: ms(view.snoozedUntil) } : {}),
  };
}
