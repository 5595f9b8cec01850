import { everyUser } from '../auth';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';
import { addNote, listMentions } from '../notes';

/** SPEC 10: notes on a conversation and the caller's mentions (api/notes.ts). */
export const noteRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/conversations/{conversationId}/notes',
    summary:
      'Add an internal note (any user, any status, closed included): a timeline entry `{ kind: "note", direction: "internal", author, text, mentions }` that is never sent and changes no status, unread count, window, SLA clock or list preview. Each of `mentions` must be an active user of the account (else 400 naming `mentions[i]`); each gets a `mention` stream event and an entry in `GET .../mentions`. Answers the note\'s `messageId`',
    allow: everyUser,
    body: s.note,
    response: r.actionResult,
    status: 201,
    handler: async (ctx) =>
      addNote({ deps: ctx.deps, principal: ctx.principal, params: ctx.params, idempotencyKey: ctx.req.header('idempotency-key') }, ctx.body),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/mentions',
    summary: "The caller's mentions in notes, newest first, cursor-paginated: `{ items: [{ conversationId, messageId, by, at, text }], nextCursor }`",
    allow: everyUser,
    query: s.listMentions,
    response: r.mentionList,
    handler: async ({ deps, params, principal, query }) => listMentions(deps, principal, params.accountId!, query),
  }),
];
