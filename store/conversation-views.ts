import type { Filter } from 'mongodb';
import type { Collections, ConversationDoc, EventDoc, MessageDoc } from './collections';
import { messageDocId } from './ids';
import type { BucketCounts } from '../workflows/conversation/core/conversation-counts';
import { bucketOf } from '../workflows/conversation/core/conversation-counts';
import type { Status } from '../workflows/conversation/core/model';
import { timelineAfter, timelineNewest } from './timeline';

/**
 * The conversation views and their timelines as the API reads them (store/DESIGN.md). Written only by
 * each conversation's workflow (`persist`); every read here is by `_id` or by one of the indexes of
 * `ensureIndexes`, and answers plain documents.
 */
type Views = Pick<Collections, 'conversations' | 'messages' | 'events'>;

export function findView(c: Views, conversationId: string): Promise<ConversationDoc | null> {
  return c.conversations.findOne({ _id: conversationId });
}

/** One page of views: `filter` (the account and what the list asks), in `order`, at most `limit`. */
export function listViews(c: Views, filter: Filter<ConversationDoc>, order: Record<string, 1 | -1>, limit: number): Promise<ConversationDoc[]> {
  return c.conversations.find(filter).sort(order).limit(limit).toArray();
}

/** The ids of the conversations the user is assigned (the views say; each conversation checks again). */
export async function conversationsHeldBy(c: Views, accountId: string, userId: string): Promise<string[]> {
  const held = await c.conversations.find({ accountId, status: 'assigned', assigneeId: userId }, { projection: { _id: 1 } }).toArray();
  return held.map((conv) => conv._id);
}

/** SPEC 9: the conversations snoozed with this user as their assignee (they hold no capacity, so `conversationsHeldBy` misses them). */
export async function conversationsSnoozedFor(c: Views, accountId: string, userId: string): Promise<string[]> {
  const snoozed = await c.conversations.find({ accountId, status: 'snoozed', assigneeId: userId }, { projection: { _id: 1 } }).toArray();
  return snoozed.map((conv) => conv._id);
}

/** The ids of the account's conversations with this status, at most `limit`. */
export async function conversationIdsWithStatus(c: Views, accountId: string, status: ConversationDoc['status'], limit: number): Promise<string[]> {
  const docs = await c.conversations.find({ accountId, status }, { projection: { _id: 1 } }).limit(limit).toArray();
  return docs.map((d) => d._id);
}

/**
 * One page of the ids of the account's conversations that are not closed, in `_id` order after `after`
 * (policy propagation: closed ones follow at their next input). Served by `account_status_newest` on
 * MongoDB; FerretDB reads the collection for each page, as for every filtered read.
 */
export async function notClosedConversationIds(c: Views, accountId: string, after: string | null, limit: number): Promise<string[]> {
  const filter: Filter<ConversationDoc> = { accountId, status: { $ne: 'closed' }, ...(after === null ? {} : { _id: { $gt: after } }) };
  const docs = await c.conversations.find(filter, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(limit).toArray();
  return docs.map((d) => d._id);
}

/**
 * How many conversations (not archived) are in each bucket (core/conversation-counts.ts), counted with one
 * pass over the account's views: for an account without a count baseline yet, and to check the kept counts.
 */
export async function countsByStatusAndAssignee(c: Views, accountId: string): Promise<BucketCounts> {
  const groups = await c.conversations
    .aggregate<{ _id: { status: Status; assigneeId: string | null }; count: number }>([
      { $match: { accountId, archived: { $ne: true } } },
      { $group: { _id: { status: '$status', assigneeId: '$assigneeId' }, count: { $sum: 1 } } },
    ])
    .toArray();
  const counts: BucketCounts = {};
  for (const g of groups) {
    const bucket = bucketOf(g._id);
    if (bucket !== null) counts[bucket] = (counts[bucket] ?? 0) + g.count;
  }
  return counts;
}

/** A conversation's messages after `after` (a seq), in seq order: the `conversation_pos` index (store/timeline.ts). */
export function messagesAfter(c: Views, conversationId: string, after: number, limit: number): Promise<MessageDoc[]> {
  return timelineAfter(c.messages, conversationId, after, limit);
}

/** The newest `limit` messages with seq below `before` (none: the newest), in seq order. */
export async function messagesBefore(c: Views, conversationId: string, before: number, limit: number): Promise<MessageDoc[]> {
  return (await timelineNewest(c.messages, conversationId, limit, { before })).reverse();
}

/** The newest `limit` transitions with seq below `before` (none: the newest), in seq order. */
export async function eventsBefore(c: Views, conversationId: string, before: number, limit: number): Promise<EventDoc[]> {
  return (await timelineNewest(c.events, conversationId, limit, { before })).reverse();
}

/** A conversation's transitions after `after` (a seq), in seq order. */
export function eventsAfter(c: Views, conversationId: string, after: number, limit: number): Promise<EventDoc[]> {
  return timelineAfter(c.events, conversationId, after, limit);
}

/**
 * Where a read mark may move to: a message's `seq` and, when that message has one, its `inboundCount`
 * (both from one document, so the count is the one at that seq even while the view lags the timeline).
 * A message recorded by older code has no count: the mark is then kept without one.
 */
export interface ReadPoint {
  seq: number;
  inboundCount?: number;
}

const pointFrom = (m: { seq: number; inboundCount?: number | null }): ReadPoint => (typeof m.inboundCount === 'number' ? { seq: m.seq, inboundCount: m.inboundCount } : { seq: m.seq });

/** The timeline's last message as a read point (seq 0, count 0 when it has none yet), from the `conversation_pos` index. */
export async function latestReadPoint(c: Views, conversationId: string): Promise<ReadPoint> {
  const [last] = await timelineNewest(c.messages, conversationId, 1, { projection: { seq: 1, inboundCount: 1 } });
  return last ? pointFrom(last) : { seq: 0, inboundCount: 0 };
}

/** One message of the timeline as a read point, by its `_id`; undefined when the conversation has no such message. */
export async function readPointOf(c: Views, conversationId: string, messageId: string): Promise<ReadPoint | undefined> {
  const message = await c.messages.findOne({ _id: messageDocId(conversationId, messageId) }, { projection: { seq: 1, inboundCount: 1 } });
  return message ? pointFrom(message) : undefined;
}

/**
 * Customer messages after `seq` (a read mark), counted: only for data from before the counters (views or
 * marks without `inboundCount`). MongoDB answers it from the `conversation_seq` index; FerretDB reads the
 * whole messages collection (a count is never served by its index: store/timeline.ts), which is why the
 * normal flow never gets here.
 */
export function inboundAfter(c: Views, conversationId: string, seq: number): Promise<number> {
  return c.messages.countDocuments({ conversationId, seq: { $gt: seq }, direction: 'inbound' });
}
