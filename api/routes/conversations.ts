import type { z } from 'zod';
import {
  assignUpdate,
  endUpdate,
  flowUpdate,
  leaveUpdate,
  releaseToQueueUpdate,
  replyUpdate,
  resolveUpdate,
  reviveUpdate,
  tagsUpdate,
  takeOverUpdate,
  templateUpdate,
  transferUpdate,
  priorityUpdate,
  snoozeUpdate,
  unsnoozeUpdate,
} from '../../workflows/conversation/messages';
import { everyUser, supervisors } from '../auth';
import type { ActionCaller } from '../conversation-actions';
import { cannedReplyText } from '../canned-responses';
import { act, actorOf, conversationOf, requireActiveUser } from '../conversation-actions';
import { listConversations, readConversation, timelinePage } from '../conversation-lists';
import type { RouteContext } from '../route';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';
import { markRead, readAnswer, readBody } from '../read-marks';
import { checkTemplate } from '../templates';
import { markReadAfter, typing, typingAnswer } from '../provider-reads';
import { replyContentOf } from '../media';

const base = '/v1/accounts/{accountId}/conversations';

const callerOf = (ctx: RouteContext<unknown, unknown>): ActionCaller => ({ deps: ctx.deps, principal: ctx.principal, params: ctx.params, idempotencyKey: ctx.req.header('idempotency-key') });

/** A conversation's messages or events, in `seq` order, paged with `after`. */
function timelineRoute(name: 'messages' | 'events', summary: string, response: z.ZodType) {
  return defineRoute({
    method: 'get',
    path: `${base}/{conversationId}/${name}`,
    summary,
    allow: everyUser,
    query: s.listTimeline,
    response,
    handler: async ({ deps, params, query }) => timelinePage(deps, params, name, query),
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
    handler: async ({ deps, params, query, principal }) => listConversations(deps, principal, params.accountId!, query),
  }),
  defineRoute({
    method: 'get',
    path: `${base}/{conversationId}`,
    summary: 'Read one conversation',
    allow: everyUser,
    response: r.conversationView,
    handler: async ({ deps, params, principal }) => readConversation(deps, principal, params),
  }),
  timelineRoute('messages', "The conversation's timeline, oldest first; page forwards with `after` (a seq), or read the newest with `before=end` and earlier ones with `before` (the first seq shown): the last `limit` below it, still oldest first", r.messagesPage),
  timelineRoute('events', 'Every transition of the conversation: when, from, to, why, who; paged as the messages (`after`, or `before`)', r.eventsPage),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/replies`,
    summary:
      'Send a free-form reply (assignee only, inside the 24h window); replying from open claims it. `cannedResponse` instead of `text` sends that canned response with {{customer.name}}, {{agent.name}} and {{attributes.<key>}} filled in (400 naming cannedResponse when the caller has no such response or a variable has no value). `interactive` sends reply buttons (up to 3) or a list (up to 10 rows); `media` a file stored with POST .../media, `text` beside it being its caption (images, videos, documents). A reply by a user may mark the message of the customer read on WhatsApp (policy `markRead`)',
    allow: everyUser,
    body: s.reply,
    response: r.actionResult,
    handler: async (ctx) => {
      const body = ctx.body;
      const content = body.interactive
        ? { kind: 'interactive' as const, interactive: body.interactive }
        : body.cannedResponse !== undefined
          ? { kind: 'text' as const, text: await cannedReplyText(ctx.deps, ctx.principal, ctx.params, body.cannedResponse) }
          : await replyContentOf(ctx.deps, ctx.params.accountId!, body);
      const result = await act(callerOf(ctx), 'reply', replyUpdate, { actor: actorOf(ctx.principal), content, replyTo: body.replyTo });
      // SPEC 10: a user's accepted reply is the assignee's; `markRead` may mark the customer's message read (not awaited).
      if (ctx.principal.kind === 'user') markReadAfter(ctx.deps, 'on_reply', conversationOf(ctx.params));
      return result;
    },
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/templates`,
    summary: 'Send a template message (allowed outside the window and when closed)',
    allow: everyUser,
    body: s.template,
    response: r.actionResult,
    handler: async (ctx) => {
      // SPEC 10: a template the registry knows is checked (409 template_unavailable, 400 naming params) before the conversation hears of it.
      await checkTemplate(ctx.deps, ctx.params.accountId!, ctx.body);
      return act(callerOf(ctx), 'template', templateUpdate, { actor: actorOf(ctx.principal), content: { kind: 'template', template: ctx.body } });
    },
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
      return act(callerOf(ctx), 'assign', assignUpdate, { actor: actorOf(ctx.principal), assigneeId: ctx.body.assigneeId });
    },
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/take-over`,
    summary: 'A supervisor takes the conversation over',
    allow: supervisors,
    body: s.noBody,
    response: r.actionResult,
    handler: async (ctx) => act(callerOf(ctx), 'takeOver', takeOverUpdate, { actor: actorOf(ctx.principal) }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/resolve`,
    summary: 'Mark as resolved (assignee or supervisor)',
    allow: everyUser,
    body: s.noBody,
    response: r.actionResult,
    handler: async (ctx) => act(callerOf(ctx), 'resolve', resolveUpdate, { actor: actorOf(ctx.principal) }),
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
      handler: async (ctx) => act(callerOf(ctx), operation, update, { actor: actorOf(ctx.principal) }),
    }),
  ),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/transfer`,
    summary: "Transfer to another team's queue: back to open, routed within that team",
    allow: everyUser,
    body: s.transfer,
    response: r.actionResult,
    handler: async (ctx) => act(callerOf(ctx), 'transfer', transferUpdate, { actor: actorOf(ctx.principal), team: ctx.body.team }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/priority`,
    summary: 'Set the priority (urgent, high, normal, low), which chooses the SLA targets; the due times follow (any user)',
    allow: everyUser,
    body: s.priority,
    response: r.actionResult,
    handler: async (ctx) => act(callerOf(ctx), 'priority', priorityUpdate, { actor: actorOf(ctx.principal), priority: ctx.body.priority }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/snooze`,
    summary:
      'Snooze until a time (ISO), for a duration ("2h") or until "window" (`snoozeWakeBeforeWindow` before the 24-hour window closes): the assignee or a supervisor, from assigned (or open, a supervisor). Snoozed keeps its assignee, holds no capacity, pauses the inactivity close and the SLA; it wakes at `until` (reason `snooze_ended`) or at the next customer message, to assigned (or open when nobody holds it)',
    allow: everyUser,
    body: s.snooze,
    response: r.actionResult,
    handler: async (ctx) => act(callerOf(ctx), 'snooze', snoozeUpdate, { actor: actorOf(ctx.principal), until: ctx.body.until }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/unsnooze`,
    summary: 'Wake a snoozed conversation now (reason `unsnoozed`): the assignee or a supervisor',
    allow: everyUser,
    body: s.noBody,
    response: r.actionResult,
    handler: async (ctx) => act(callerOf(ctx), 'unsnooze', unsnoozeUpdate, { actor: actorOf(ctx.principal) }),
  }),
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/tags`,
    summary: 'Add or remove tags; once closed, tags are locked when the policy says so (409)',
    allow: everyUser,
    body: s.tags,
    response: r.actionResult,
    handler: async (ctx) => act(callerOf(ctx), 'tags', tagsUpdate, { actor: actorOf(ctx.principal), add: ctx.body.add, remove: ctx.body.remove }),
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
      if (body.action === 'start') return act(callerOf(ctx), 'flow', flowUpdate, { actor, action: 'start', priority: body.priority });
      if (body.assignTo && 'userId' in body.assignTo) await requireActiveUser(ctx.deps, ctx.params.accountId!, body.assignTo.userId);
      return act(callerOf(ctx), 'flow', flowUpdate, { actor, action: 'end', assignTo: body.assignTo ?? null });
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
  defineRoute({
    method: 'post',
    path: `${base}/{conversationId}/typing`,
    summary:
      "Show WhatsApp's typing indicator to the customer (the assignee): at most once every 20 s per conversation, a call within that answers `sent: false`; the indicator also marks the customer's latest message read, and ends at the next message or after 25 s",
    allow: everyUser,
    body: s.noBody,
    response: typingAnswer,
    handler: async ({ deps, params, principal }) => typing(deps, principal, conversationOf(params)),
  }),
];
