import type { Filter } from 'mongodb';
import type { ConversationDoc } from '../store/collections';
import { notContacted } from '../store/contacts';
import { eventsAfter, eventsBefore, findView, listViews, messagesAfter, messagesBefore } from '../store/conversation-views';
import type { Principal } from './auth';
import { conversationOf } from './conversation-actions';
import { eventView, messageView, toConversationView } from './conversation-views';
import type { ApiDeps } from './deps';
import { ApiError, notFound } from './errors';
import { withReadMarks } from './read-marks';

/** Reading conversations (api/DESIGN.md): one view, a list page, a timeline page; every view mapped by api/conversation-views.ts. */

/**
 * A list cursor: the sort it belongs to (`s`; absent in cursors from before `sort` existed: newest), the
 * last item's sort key (`a`: `lastActivityAt` or `waitingSince`) and its `_id`, the tie-breaker.
 */
type ListSort = 'newest' | 'oldest_waiting';
type Cursor = { s?: ListSort; a: string | null; i: string };
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');
function decodeCursor(text: string, sort: ListSort = 'newest'): Cursor {
  let c: Cursor | undefined;
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as Cursor;
    if (typeof parsed.i === 'string' && (typeof parsed.a === 'string' || parsed.a === null)) c = parsed;
  } catch {
    // fall through
  }
  if (!c) throw new ApiError({ code: 'validation_failed', message: 'cursor: not a cursor this API returned' });
  if ((c.s ?? 'newest') !== sort) throw new ApiError({ code: 'validation_failed', message: `cursor: it pages sort=${c.s ?? 'newest'}, not sort=${sort}` });
  return c;
}

/**
 * Each sort's order, its cursor's key and the filter that continues after a cursor. `oldest_waiting`
 * lists only conversations where a customer waits: `waitingSince` is an ISO string, so string order is
 * time order, and a `$gt` on it also leaves out views without one (null, or absent in older views).
 */
const listSorts: { [S in ListSort]: { order: Record<string, 1 | -1>; key: (doc: ConversationDoc) => string | null; after: (c: Cursor) => Filter<ConversationDoc> } } = {
  newest: {
    order: { lastActivityAt: -1, _id: -1 },
    key: (doc) => doc.lastActivityAt,
    after: (c) => ({ $or: [{ lastActivityAt: { $lt: c.a } }, { lastActivityAt: c.a, _id: { $lt: c.i } }] }) as Filter<ConversationDoc>,
  },
  oldest_waiting: {
    order: { waitingSince: 1, _id: 1 },
    key: (doc) => doc.waitingSince ?? null,
    after: (c) => ({ $or: [{ waitingSince: { $gt: c.a } }, { waitingSince: c.a, _id: { $gt: c.i } }] }) as Filter<ConversationDoc>,
  },
};

export interface ListQuery {
  sort: ListSort;
  limit: number;
  cursor?: string | undefined;
  status?: ConversationDoc['status'] | 'not_contacted' | undefined;
  archived: 'true' | 'false' | 'any';
  tag?: string | undefined;
  channel?: string | undefined;
  team?: string | undefined;
  assignee?: string | undefined;
}

/** Contacts a campaign reached who never wrote: seed 002's "not contacted", in the same page shape. */
async function notContactedPage(deps: ApiDeps, accountId: string, limit: number, cursor: string | undefined) {
  const docs = await notContacted(deps.collections, accountId, cursor ? decodeCursor(cursor).i : undefined, limit + 1);
  const page = docs.slice(0, limit);
  const last = page.at(-1);
  return {
    conversations: page.map((c) => ({ id: null, accountId, channel: c.channel, customer: c.customer, status: 'not_contacted', createdAt: c.createdAt })),
    nextCursor: docs.length > limit && last ? encodeCursor({ a: null, i: last._id }) : null,
  };
}

/** A page of the account's conversations (or of its not-contacted contacts), with the caller's read marks. */
export async function listConversations(deps: ApiDeps, principal: Principal, accountId: string, query: ListQuery) {
  if (query.status === 'not_contacted') {
    // Contacts who never wrote have no team and nobody waiting on them.
    if (query.team) throw new ApiError({ code: 'validation_failed', message: 'team: not_contacted contacts belong to no team' });
    if (query.sort !== 'newest') throw new ApiError({ code: 'validation_failed', message: 'sort: not_contacted contacts have nobody waiting' });
    return notContactedPage(deps, accountId, query.limit, query.cursor);
  }
  const sort = listSorts[query.sort];
  const filter: Filter<ConversationDoc> = { accountId };
  if (query.status) filter.status = query.status;
  // Archived conversations leave the default lists but stay readable and filterable (seed 002).
  if (query.archived !== 'any') filter.archived = query.archived === 'true' ? true : { $ne: true };
  if (query.tag) filter.tags = query.tag;
  if (query.channel) filter.channel = query.channel;
  if (query.team) filter.team = query.team;
  if (query.assignee) filter.assigneeId = query.assignee === 'me' && principal.kind === 'user' ? principal.userId : query.assignee;
  if (query.sort === 'oldest_waiting') filter.waitingSince = { $type: 'string' };
  if (query.cursor) Object.assign(filter, sort.after(decodeCursor(query.cursor, query.sort)));
  const docs = await listViews(deps.collections, filter, sort.order, query.limit + 1);
  const page = docs.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor = docs.length > query.limit && last ? encodeCursor({ ...(query.sort === 'newest' ? {} : { s: query.sort }), a: sort.key(last), i: last._id }) : null;
  return { conversations: await withReadMarks(deps, principal, page.map(toConversationView)), nextCursor };
}

/** The conversation of the path's account, or 404. */
export async function findConversation(deps: ApiDeps, params: Record<string, string>): Promise<ConversationDoc> {
  const doc = await findView(deps.collections, conversationOf(params));
  if (!doc) throw notFound('conversation');
  return doc;
}

/** One conversation, with the caller's read mark. */
export async function readConversation(deps: ApiDeps, principal: Principal, params: Record<string, string>) {
  return (await withReadMarks(deps, principal, [toConversationView(await findConversation(deps, params))]))[0];
}

/**
 * A page of the conversation's timeline (`messages`) or transitions (`events`), in `seq` order: the first
 * `limit` after `after`, or with `before`, the last `limit` below it (`end`: the newest), as the inbox
 * opens a conversation and then shows earlier records.
 */
export async function timelinePage(deps: ApiDeps, params: Record<string, string>, name: 'messages' | 'events', q: { after: number; before?: number | 'end' | undefined; limit: number }) {
  if (q.before !== undefined && q.after > 0) throw new ApiError({ code: 'validation_failed', message: 'before: not with after (one pages forwards, the other backwards)', details: [{ path: 'before', message: 'not with after' }] });
  const conversationId = (await findConversation(deps, params))._id;
  const before = q.before === 'end' ? Infinity : q.before;
  if (name === 'messages') {
    const docs = before === undefined ? await messagesAfter(deps.collections, conversationId, q.after, q.limit) : await messagesBefore(deps.collections, conversationId, before, q.limit);
    return { messages: docs.map(messageView) };
  }
  const docs = before === undefined ? await eventsAfter(deps.collections, conversationId, q.after, q.limit) : await eventsBefore(deps.collections, conversationId, before, q.limit);
  return { events: docs.map(eventView) };
}
