import { z } from 'zod';
import { mapLimit } from '../infra/map-limit';
import type { ConversationDoc } from '../store/collections';
import type { ReadMark } from '../store/read-marks';
import { advanceReadMark, newestReadMarks } from '../store/read-marks';
import type { ReadPoint } from '../store/conversation-views';
import { findView, inboundAfter, latestReadPoint, readPointOf } from '../store/conversation-views';
import type { Principal } from './auth';
import { isSupervisorPrincipal } from './auth';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';
import { markReadAfter } from './provider-reads';

/**
 * "Read up to" per conversation per user (issue 22, item 5; SPEC section 10's `POST .../read`), and the
 * two fields it adds to the conversation answers for a user caller. The mark is stored by
 * store/read-marks.ts; this module is what the routes call, so the conversation routes change by one
 * line each.
 */

/** `POST .../conversations/{conversationId}/read`: nothing, or up to which message (a `messageId` of its timeline). */
export const readBody = z.strictObject({ upTo: z.string().min(1).max(256).optional() });

export const readAnswer = z.object({
  conversationId: z.string(),
  userId: z.string(),
  /** The `seq` of the last message read: the timeline's `seq`, so `unreadForMe` counts inbound messages above it. */
  readUpToSeq: z.number().int(),
  readAt: z.iso.datetime(),
});

/**
 * How many conversations of a page count their unread messages at once, when the view or the mark
 * predates the counters (a count of the messages after the mark each).
 */
const countConcurrency = 8;

/** What `withReadMarks` needs of a conversation view: its id and counter (absent on views written before the counter). */
export interface CountedView {
  id: string | null;
  unreadCount: number;
  inboundCount?: number;
  inboundCountFromStart?: boolean;
}

/**
 * Adds `readUpToSeq` (null if the user never marked it) and `unreadForMe` (inbound messages after the
 * mark) to each conversation view, for a user caller; other callers (service keys, the platform) have no
 * mark and get the views as they are. No query reads messages in the normal flow: `unreadForMe` is
 * the view's `inboundCount` minus the mark's `inboundCountAtRead` (docs/presence.md, "Read marks").
 */
export async function withReadMarks<V extends CountedView>(deps: ApiDeps, principal: Principal, views: V[]): Promise<(V | (V & ReadFields))[]> {
  if (principal.kind !== 'user') return views;
  const marks = await newestReadMarks(deps.collections.readMarks, views.flatMap((view) => (view.id === null ? [] : [view.id])), principal.userId);
  return mapLimit(views, countConcurrency, async (view) => {
    if (view.id === null) return view; // seed 002's "not contacted" rows have no timeline
    const mark = marks.get(view.id) ?? null;
    const readUpToSeq = mark?.readUpToSeq ?? null;
    const unreadForMe = unreadFromCounts(view, mark) ?? (await inboundAfter(deps.collections, view.id, readUpToSeq ?? 0));
    return { ...view, readUpToSeq, unreadForMe };
  });
}

/**
 * `unreadForMe` from the counters, or null when the view or the mark predates them.
 * - a mark with a count, a view with a count: the difference. Both count from the same origin (the
 *   workflow's state, carried across runs), so it is exact even for a conversation whose counting began
 *   at an upgrade. Never below 0: the mark may be a few ms ahead of the view (persist writes the
 *   timeline before the view), and then the view is about to say the same count.
 * - no mark: every inbound message, when the view has counted them all from the start.
 */
export function unreadFromCounts(view: CountedView, mark: ReadMark | null): number | null {
  if (view.inboundCount === undefined || view.inboundCount === null) return null;
  if (mark === null) return view.inboundCountFromStart === true ? view.inboundCount : null;
  if (mark.inboundCountAtRead === undefined) return null;
  return Math.max(0, view.inboundCount - mark.inboundCountAtRead);
}

export interface ReadFields {
  readUpToSeq: number | null;
  unreadForMe: number;
}

/**
 * What happens when the assignee reads a conversation, beyond their own mark: with policy
 * `markRead: "on_open"` (SPEC section 10) the customer's latest message is marked read at WhatsApp
 * (api/provider-reads.ts; started, not awaited, never failing the read). Supervisors' reads never
 * reach the customer.
 */
export type AssigneeRead = (deps: ApiDeps, conversation: ConversationDoc, readUpToSeq: number) => Promise<void>;
export const onAssigneeRead: AssigneeRead = async (deps, conversation) => markReadAfter(deps, 'on_open', conversation._id);

/**
 * Records that the caller has read the conversation up to its latest message, or up to `upTo`. The
 * assignee may; an agent who is not the assignee gets 403 `not_assignee`; a supervisor (owner, admin,
 * manager) marks their own reading of any conversation, since they watch conversations they do not hold
 * and their `unreadForMe` would otherwise never clear. A mark only moves forwards: an older `upTo` answers
 * the mark as it is. A move goes on the account's stream as a `read` event, so the user's other tabs
 * clear the badge.
 */
export async function markRead(deps: ApiDeps, principal: Principal, conversationId: string, upTo: string | undefined): Promise<z.output<typeof readAnswer>> {
  if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'read marks are kept for users' });
  const conversation = await findView(deps.collections, conversationId);
  if (!conversation) throw notFound('conversation');
  const isAssignee = conversation.assigneeId === principal.userId;
  if (!isAssignee && !isSupervisorPrincipal(principal)) {
    throw new ApiError({ code: 'not_assignee', message: 'only the assignee (or a supervisor, for themself) marks this conversation read' });
  }
  const point = upTo === undefined ? await latestReadPoint(deps.collections, conversationId) : await pointOf(deps, conversationId, upTo);
  const { mark, moved } = await advanceReadMark(deps.collections.readMarks, { accountId: conversation.accountId, conversationId, userId: principal.userId }, point, new Date());
  if (moved) {
    await deps.streams.publish(conversation.accountId, { type: 'read', conversationId, userId: principal.userId, readUpToSeq: mark.readUpToSeq });
    if (isAssignee) await onAssigneeRead(deps, conversation, mark.readUpToSeq);
  }
  return { conversationId, userId: principal.userId, readUpToSeq: mark.readUpToSeq, readAt: mark.readAt.toISOString() };
}

async function pointOf(deps: ApiDeps, conversationId: string, messageId: string): Promise<ReadPoint> {
  const point = await readPointOf(deps.collections, conversationId, messageId);
  if (!point) throw new ApiError({ code: 'validation_failed', message: `upTo: no message ${messageId} in this conversation` });
  return point;
}
