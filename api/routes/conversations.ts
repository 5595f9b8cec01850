import { randomUUID } from 'node:crypto';
import type { UpdateDefinition } from '@temporalio/client';
import type { Collection, Filter } from 'mongodb';
import type { ContactDoc, ConversationDoc, EventDoc, MessageDoc } from '../../store/collections';
import { userDocId } from '../../store/collections';
import type { ActionBase, ActionResult } from '../../workflows/conversation/messages';
import { storedPolicyVersion } from './accounts';
import { iso } from '../../workflows/conversation/core/view';
import {
  assignUpdate,
  endUpdate,
  flowUpdate,
  leaveUpdate,
  parseConversationId,
  releaseToQueueUpdate,
  replyUpdate,
  resolveUpdate,
  reviveUpdate,
  tagsUpdate,
  takeOverUpdate,
  templateUpdate,
  transferUpdate,
} from '../../workflows/conversation/messages';
import type { Actor } from '../../workflows/conversation/core/lifecycle';
import type { Principal } from '../auth';
import { everyUser, supervisors } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound, toApiError } from '../errors';
import type { RouteContext } from '../route';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';
import type { z } from 'zod';
import { principalScope } from '../idempotency';
import { markRead, readAnswer, readBody, withReadMarks } from '../read-marks';

const base = '/v1/accounts/{accountId}/conversations';

/** Every field of SPEC's view is there: FerretDB drops null fields an upsert inserts, so they are put back. */
const conversationView = ({ _id, ...rest }: ConversationDoc) => ({
  id: _id,
  ...rest,
  customerName: rest.customerName ?? null,
  assigneeId: rest.assigneeId ?? null,
  lastCustomerMessageAt: rest.lastCustomerMessageAt ?? null,
  windowExpiresAt: rest.windowExpiresAt ?? null,
  autoCloseAt: rest.autoCloseAt ?? null,
  closedReason: rest.closedReason ?? null,
  closedAt: rest.closedAt ?? null,
  campaignId: rest.campaignId ?? null,
  tags: rest.tags ?? [],
  archived: rest.archived ?? false,
  csatScore: rest.csatScore ?? null,
  heldBy: rest.heldBy ?? null,
  lastActivityAt: rest.lastActivityAt ?? null,
  // Views written before these fields existed lack them until their next change.
  lastMessage: rest.lastMessage ?? null,
  waitingSince: rest.waitingSince ?? null,
  team: rest.team ?? null,
  updatedAt: rest.updatedAt ?? null,
});

// FerretDB leaves out null fields that an upsert inserts, so nullable fields are named here explicitly.

export const messageView = (m: Omit<MessageDoc, '_id' | 'accountId'>) => ({
  seq: m.seq,
  messageId: m.messageId,
  conversationId: m.conversationId,
  episode: m.episode,
  direction: m.direction,
  kind: m.kind,
  text: m.text ?? null,
  template: m.template ?? null,
  content: m.content ?? null,
  delivery: m.delivery
    ? {
        status: m.delivery.status,
        providerMessageId: m.delivery.providerMessageId ?? null,
        error: m.delivery.error ?? null,
        updatedAt: iso(m.delivery.updatedAt),
      }
    : null,
  authorId: m.authorId ?? null,
  at: iso(m.at),
  sentAt: iso(m.sentAt),
  replyTo: m.replyTo ?? null,
  attributes: m.attributes ?? null,
});

export const eventView = (e: Omit<EventDoc, '_id' | 'accountId'>) => ({
  seq: e.seq,
  conversationId: e.conversationId,
  episode: e.episode,
  at: iso(e.at),
  from: e.from ?? null,
  to: e.to,
  reason: e.reason,
  actor: { kind: e.actor.kind, id: e.actor.id ?? null, role: e.actor.role ?? null },
  assigneeBefore: e.assigneeBefore ?? null,
  assigneeAfter: e.assigneeAfter ?? null,
  rule: e.rule ?? null,
  details: e.details ?? null,
});

/** The conversation id must name a conversation of the account in the path, or it does not exist here. */
export function conversationOf(params: Record<string, string>): string {
  const id = params.conversationId!;
  if (parseConversationId(id)?.accountId !== params.accountId) throw notFound('conversation');
  return id;
}

async function findConversation(deps: ApiDeps, params: Record<string, string>): Promise<ConversationDoc> {
  const doc = await deps.collections.conversations.findOne({ _id: conversationOf(params) });
  if (!doc) throw notFound('conversation');
  return doc;
}

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

export function actorOf(principal: Principal): Actor {
  if (principal.kind === 'service') return { kind: 'service', serviceId: principal.name };
  if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'only users and services act on conversations' });
  return { kind: 'user', userId: principal.userId, role: principal.role };
}

/** Contacts a campaign reached who never wrote: seed 002's "not contacted", in the same page shape. */
async function notContacted(deps: ApiDeps, accountId: string, limit: number, cursor: string | undefined) {
  const filter: Filter<ContactDoc> = { accountId, contacted: false };
  if (cursor) filter._id = { $gt: decodeCursor(cursor).i };
  const docs = await deps.collections.contacts.find(filter).sort({ _id: 1 }).limit(limit + 1).toArray();
  const page = docs.slice(0, limit);
  const last = page.at(-1);
  return {
    conversations: page.map((c) => ({ id: null, accountId, channel: c.channel, customer: c.customer, status: 'not_contacted', createdAt: c.createdAt })),
    nextCursor: docs.length > limit && last ? encodeCursor({ a: null, i: last._id }) : null,
  };
}

/**
 * Runs an agent action as a Workflow Update. The route's Idempotency-Key is kept across runs by
 * `withIdempotency` (mountRoutes); it also becomes the update id, scoped by principal, so two attempts
 * racing within one run (a retry after a lost claim) still act once.
 */
export async function act<A extends ActionBase>(
  ctx: RouteContext<unknown, unknown>,
  operation: string,
  update: UpdateDefinition<ActionResult, [A]>,
  unstamped: A,
): Promise<ActionResult> {
  const workflowId = conversationOf(ctx.params);
  const args: A = { ...unstamped, policyVersion: await storedPolicyVersion(ctx.deps, ctx.params.accountId!) };
  const key = ctx.req.header('idempotency-key');
  const updateId = key ? `${principalScope(ctx.principal)}:${key}`.slice(0, 400) : randomUUID();
  const handle = ctx.deps.temporal.workflow.getHandle(workflowId);
  try {
    return await ctx.deps.temporalCall(operation, () => handle.executeUpdate(update, { args: [args], updateId }));
  } catch (error) {
    // A refused action leaves no trace in the workflow's history (validators reject before it), so
    // the operator's trace is this line: which conversation, what, who, and the rule's code.
    const rejection = toApiError(error);
    if (rejection.status < 500) {
      const principal = ctx.principal.kind === 'user' ? { userId: ctx.principal.userId, role: ctx.principal.role } : { principal: ctx.principal.kind };
      ctx.deps.log.info({ conversationId: workflowId, action: operation, ...principal, code: rejection.code, reason: rejection.message }, 'action rejected');
    }
    throw error;
  }
}

async function requireActiveUser(deps: ApiDeps, accountId: string, userId: string): Promise<void> {
  const user = await deps.collections.users.findOne({ _id: userDocId(accountId, userId) });
  if (!user || !user.active) throw new ApiError({ code: 'validation_failed', message: `assigneeId: ${userId} is not an active user of the account` });
}

/** A conversation's messages or events, in `seq` order, paged with `after`. */
function timelineRoute<D extends { conversationId: string; seq: number }>(
  name: 'messages' | 'events',
  summary: string,
  response: z.ZodType,
  collection: (deps: ApiDeps) => Collection<D>,
  view: (doc: D) => unknown,
) {
  return defineRoute({
    method: 'get',
    path: `${base}/{conversationId}/${name}`,
    summary,
    allow: everyUser,
    query: s.listTimeline,
    response,
    handler: async ({ deps, params, query }) => {
      const conversationId = (await findConversation(deps, params))._id;
      const filter = { conversationId, seq: { $gt: query.after } } as Filter<D>;
      const docs = await collection(deps).find(filter).sort({ seq: 1 }).limit(query.limit).toArray();
      return { [name]: (docs as D[]).map(view) };
    },
  });
}

export const conversationRoutes = [
  defineRoute({
    method: 'get',
    path: base,
    summary: 'List conversations, newest activity first (or `sort=oldest_waiting`: longest-waiting customer first), cursor-paginated',
    allow: everyUser,
    query: s.listConversations,
    response: r.conversationList,
    handler: async ({ deps, params, query, principal }) => {
      if (query.status === 'not_contacted') {
        // Contacts who never wrote have no team and nobody waiting on them.
        if (query.team) throw new ApiError({ code: 'validation_failed', message: 'team: not_contacted contacts belong to no team' });
        if (query.sort !== 'newest') throw new ApiError({ code: 'validation_failed', message: 'sort: not_contacted contacts have nobody waiting' });
        return notContacted(deps, params.accountId!, query.limit, query.cursor);
      }
      const sort = listSorts[query.sort];
      const filter: Filter<ConversationDoc> = { accountId: params.accountId! };
      if (query.status) filter.status = query.status;
      // Archived conversations leave the default lists but stay readable and filterable (seed 002).
      if (query.archived !== 'any') filter.archived = query.archived === 'true' ? true : { $ne: true };
      if (query.tag) filter.tags = query.tag;
      if (query.channel) filter.channel = query.channel;
      if (query.team) filter.team = query.team;
      if (query.assignee) filter.assigneeId = query.assignee === 'me' && principal.kind === 'user' ? principal.userId : query.assignee;
      if (query.sort === 'oldest_waiting') filter.waitingSince = { $type: 'string' };
      if (query.cursor) Object.assign(filter, sort.after(decodeCursor(query.cursor, query.sort)));
      const docs = await deps.collections.conversations
        .find(filter)
        .sort(sort.order)
        .limit(query.limit + 1)
        .toArray();
      const page = docs.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor = docs.length > query.limit && last ? encodeCursor({ ...(query.sort === 'newest' ? {} : { s: query.sort }), a: sort.key(last), i: last._id }) : null;
      return { conversations: await withReadMarks(deps, principal, page.map(conversationView)), nextCursor };
    },
  }),
  defineRoute({
    method: 'get',
    path: `${base}/{conversationId}`,
    summary: 'Read one conversation',
    allow: everyUser,
    response: r.conversationView,
    handler: async ({ deps, params, principal }) => (await withReadMarks(deps, principal, [conversationView(await findConversation(deps, params))]))[0],
  }),
  timelineRoute('messages', "The conversation's timeline, oldest first; page with `after` (a seq)", r.messagesPage, (deps) => deps.collections.messages, messageView),
  timelineRoute('events', 'Every transition of the conversation: when, from, to, why, who', r.eventsPage, (deps) => deps.collections.events, eventView),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/replies`,
    summary: 'Send a free-form reply (assignee only, inside the 24h window); replying from open claims it',
    allow: everyUser,
    body: s.reply,
    response: r.actionResult,
    handler: async (ctx) => act(ctx, 'reply', replyUpdate, { actor: actorOf(ctx.principal), text: ctx.body.text, replyTo: ctx.body.replyTo }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/templates`,
    summary: 'Send a template message (allowed outside the window and when closed)',
    allow: everyUser,
    body: s.template,
    response: r.actionResult,
    handler: async (ctx) => act(ctx, 'template', templateUpdate, { actor: actorOf(ctx.principal), template: ctx.body }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/assign`,
    summary: 'Assign to a user (supervisors: anyone; agents: claim for themselves; the assignee: reassign)',
    allow: everyUser,
    body: s.assign,
    response: r.actionResult,
    handler: async (ctx) => {
      await requireActiveUser(ctx.deps, ctx.params.accountId!, ctx.body.assigneeId);
      return act(ctx, 'assign', assignUpdate, { actor: actorOf(ctx.principal), assigneeId: ctx.body.assigneeId });
    },
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/take-over`,
    summary: 'A supervisor takes the conversation over',
    allow: supervisors,
    body: s.noBody,
    response: r.actionResult,
    handler: async (ctx) => act(ctx, 'takeOver', takeOverUpdate, { actor: actorOf(ctx.principal) }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/resolve`,
    summary: 'Mark as resolved (assignee or supervisor)',
    allow: everyUser,
    body: s.noBody,
    response: r.actionResult,
    handler: async (ctx) => act(ctx, 'resolve', resolveUpdate, { actor: actorOf(ctx.principal) }),
  }),
  ...(
    [
      ['release', 'releaseToQueue', releaseToQueueUpdate, 'Release to the queue: back to open, routed again (assignee or supervisor)'],
      ['end', 'end', endUpdate, 'End: assigned goes to wrap-up (or closes); ending wrap-up closes (seed 004)'],
      ['leave', 'leave', leaveUpdate, 'Leave without ending: the conversation waits and consumes no capacity (seed 004)'],
      ['revive', 'revive', reviveUpdate, 'Revive a waiting conversation back to assigned (seed 004)'],
    ] as const
  ).map(([suffix, operation, update, summary]) =>
    defineRoute({
      method: 'post',
      path: `${base}/{conversationId}/${suffix}`,
      summary,
      allow: everyUser,
      body: s.noBody,
      response: r.actionResult,
      handler: async (ctx) => act(ctx, operation, update, { actor: actorOf(ctx.principal) }),
    }),
  ),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/transfer`,
    summary: "Transfer to another team's queue: back to open, routed within that team",
    allow: everyUser,
    body: s.transfer,
    response: r.actionResult,
    handler: async (ctx) => act(ctx, 'transfer', transferUpdate, { actor: actorOf(ctx.principal), team: ctx.body.team }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/tags`,
    summary: 'Add or remove tags; once closed, tags are locked when the policy says so (409)',
    allow: everyUser,
    body: s.tags,
    response: r.actionResult,
    handler: async (ctx) => act(ctx, 'tags', tagsUpdate, { actor: actorOf(ctx.principal), add: ctx.body.add, remove: ctx.body.remove }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/flow`,
    summary: 'Start or end an automation (in_flow); ending assigns a user or a team, or closes (seed 002)',
    allow: ['service', ...supervisors],
    body: s.flow,
    response: r.actionResult,
    handler: async (ctx) => {
      const actor = actorOf(ctx.principal);
      const body = ctx.body;
      if (body.action === 'start') return act(ctx, 'flow', flowUpdate, { actor, action: 'start', priority: body.priority });
      if (body.assignTo && 'userId' in body.assignTo) await requireActiveUser(ctx.deps, ctx.params.accountId!, body.assignTo.userId);
      return act(ctx, 'flow', flowUpdate, { actor, action: 'end', assignTo: body.assignTo ?? null });
    },
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/read`,
    summary:
      'Mark read up to the latest message, or `upTo` (a messageId): the assignee, or a supervisor for themself; only moves forwards; a `read` stream event follows. Conversation answers for users carry `readUpToSeq` and `unreadForMe`',
    allow: everyUser,
    body: readBody,
    response: readAnswer,
    handler: async ({ deps, params, principal, body }) => markRead(deps, principal, conversationOf(params), body.upTo),
  }),
];
