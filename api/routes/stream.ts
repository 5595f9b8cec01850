import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { StreamEntryDoc } from '../../store/stream-log';
import type { MessageRecord } from '../../workflows/conversation/core/model';
import { isNoticeEntry } from '../../store/stream-log';
import { userDocId } from '../../store/collections';
import type { Request } from 'express';
import type { Principal } from '../auth';
import { credentialOf, everyUser } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { hashApiKey } from '../keys';
import { defineRoute } from '../route';
import { openTab, tabIdSchema } from '../presence';
import { deliveryView, eventView, messageView, toConversationView } from '../conversation-views';
import type { StreamCredential, StreamEndReason } from '../stream-credentials';
import { endMessages } from '../stream-credentials';
import { claimTicket } from '../../store/stream-subscriptions';

/** At most this many unredeemed stream tickets per user (SPEC section 12); one more answers 429. */
export const maxTicketsPerUser = 20;

/** The credential behind a ticket-opened stream: the key or session that minted the ticket, kept per request. */
const ticketCredentials = new WeakMap<Request, StreamCredential>();

/** How long a stream ticket may wait before it opens a stream. */
export const streamTicketTtlMs = 60_000;

/**
 * One SSE event per item of an entry, numbered `{seq}.{index}`, so a client resumes mid-entry. `to`: the
 * one user the event is for (a `mention`, SPEC 10); the route leaves it out of everyone else's stream,
 * after numbering, so an event keeps its id whoever reads the entry.
 */
export function sseEvents(doc: StreamEntryDoc): { type: string; data: unknown; to?: string }[] {
  if (isNoticeEntry(doc)) {
    // A notice is one event whose type is the notice's: `read` or `presence` (docs/presence.md).
    const { type, ...data } = doc.notice;
    return [{ type, data }];
  }
  const { conversationId } = doc;
  return [
    ...doc.messages.map((m) => ({ type: 'message', data: messageView({ ...m, conversationId }) })),
    ...doc.deliveries.map((d) => ({
      type: 'delivery',
      data: {
        conversationId,
        messageId: d.messageId,
        delivery: deliveryView(d.delivery),
      },
    })),
    ...doc.events.map((e) => ({ type: 'transition', data: eventView({ ...e, conversationId }) })),
    { type: 'conversation', data: toConversationView(doc.conversation) },
    // Last, so the entry's other events keep the numbers they had before mentions existed.
    ...mentionEvents(doc.messages, conversationId),
  ];
}

/**
 * SPEC 10: a `mention` event `{ conversationId, messageId, by, text }` for each user a note of the entry
 * mentions, to that user only. Derived from the note the entry already carries, so a mention reaches the
 * stream exactly when its note does, with no second write. (The note's own `message` event goes to
 * every user: every user of the account reads its conversations.)
 */
function mentionEvents(messages: readonly MessageRecord[], conversationId: string): { type: string; data: unknown; to: string }[] {
  return messages.flatMap((m) =>
    m.kind === 'note' && m.mentions && m.authorId
      ? m.mentions.map((userId) => ({ type: 'mention', data: { conversationId, messageId: m.messageId, by: m.authorId, text: m.text ?? '' }, to: userId }))
      : [],
  );
}

/** Whether an event of the account's stream is for this caller: everything is, but another user's mention. */
export function isFor(event: { to?: string }, principal: Principal): boolean {
  return event.to === undefined || (principal.kind === 'user' && principal.userId === event.to);
}

/** `Last-Event-ID`: `{seq}.{index}` as sent, or a bare `{seq}` (everything of that entry was seen). */
export function parseLastEventId(text: string | undefined): { seq: number; index: number } | undefined {
  const match = text === undefined ? null : /^(\d{1,15})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!match) return undefined;
  return { seq: Number(match[1]), index: match[2] === undefined ? Number.MAX_SAFE_INTEGER : Number(match[2]) };
}

const streamQuery = z.strictObject({
  /** A stream ticket (`POST .../stream-tickets`), for clients that cannot send headers (EventSource). */
  token: z.string().min(1).max(200).optional(),
  /** The same as the `Last-Event-ID` header, for a client that reconnects by itself with a new URL. */
  lastEventId: z.string().max(40).optional(),
  /**
   * The inbox's tab (docs/presence.md): a stream opened with it keeps its user's presence following the
   * tab. Without it (API clients, the bench) reading the stream says nothing about presence.
   */
  tabId: tabIdSchema.optional(),
});

async function redeemTicket(deps: ApiDeps, req: Request, token: string): Promise<Principal> {
  const _id = hashApiKey(token);
  const ticket = await deps.streams.c.tickets.findOne({ _id });
  // Single use: of two requests racing with one ticket, only the one whose delete removed it opens.
  const removed = ticket ? (await deps.streams.c.tickets.deleteOne({ _id })).deletedCount : 0;
  if (!ticket || removed !== 1 || ticket.expiresAt.getTime() <= Date.now()) {
    throw new ApiError({ code: 'unauthenticated', message: 'this stream ticket is unknown, used or expired: ask for a new one' });
  }
  const user = await deps.collections.users.findOne({ _id: userDocId(ticket.accountId, ticket.userId) });
  if (!user || !user.active) throw new ApiError({ code: 'unauthenticated', message: 'this user is not active' });
  // A ticket minted before tickets recorded their minter: only its user is checked (it lived 60 s at most).
  if (ticket.mintedWith) ticketCredentials.set(req, ticket.mintedWith);
  return { kind: 'user', accountId: user.accountId, userId: user.userId, role: user.role };
}

/** Presence follows the tab; a failure costs the presence, not the stream (the sweep and the next tab catch up). */
async function tabOpened(deps: ApiDeps, accountId: string, userId: string, tabId: string): Promise<(() => Promise<void>) | undefined> {
  try {
    const user = await deps.collections.users.findOne({ _id: userDocId(accountId, userId) });
    return user ? await openTab(deps, user, tabId) : undefined;
  } catch (error) {
    deps.log.warn({ err: error, userId }, 'tab not recorded; presence does not follow this stream');
    return undefined;
  }
}

export const streamRoutes = [
  defineRoute({
    method: 'post',
    path: '/v1/accounts/{accountId}/stream-tickets',
    summary: 'A single-use ticket, good for 60 s, that opens the stream with ?token= (for EventSource, which cannot send Authorization)',
    allow: everyUser,
    status: 201,
    refusals: { 429: `rate_limited: the user already holds ${maxTicketsPerUser} unused tickets` },
    // The token is a credential: an Idempotency-Key's stored answer is sealed (api/idempotency.ts).
    answersSecret: true,
    handler: async ({ deps, req, principal }) => {
      if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'stream tickets are for users' });
      const token = `cf_t_${randomBytes(24).toString('base64url')}`;
      const now = new Date();
      const expiresAt = new Date(now.getTime() + streamTicketTtlMs);
      const minter = credentialOf(req, deps.platformApiKey);
      const mintedWith = minter.kind === 'platform' ? undefined : minter;
      const doc = { _id: hashApiKey(token), accountId: principal.accountId, userId: principal.userId, expiresAt, ...(mintedWith ? { mintedWith } : {}) };
      if (!(await claimTicket(deps.streams.c.tickets, doc, maxTicketsPerUser, now))) {
        throw new ApiError({ code: 'rate_limited', message: `at most ${maxTicketsPerUser} unused stream tickets per user: open a stream with one first, or wait a minute` });
      }
      return { token, expiresAt: expiresAt.toISOString() };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/stream',
    summary:
      'Server-Sent Events: every conversation change (`conversation`), timeline message (`message`, notes included), delivery status (`delivery`), transition (`transition`), read mark (`read`) and presence change (`presence`) of the account, and the caller\'s own mentions (`mention` `{ conversationId, messageId, by, text }`, only to the mentioned user), each with an id; `Last-Event-ID` resumes (48 h kept; more than 10,000 entries back: `reset`); `tabId` makes the caller present while the stream is open (docs/presence.md). Ends with an `end` event `{ reason, message }` when its key, session or user ends; a client more than 1 MiB behind is disconnected',
    allow: everyUser,
    query: streamQuery,
    refusals: {
      401: 'unauthenticated: no valid key, session or ticket (also a ticket whose minting key or session ended since)',
      429: 'rate_limited: the user (or service key) already holds STREAM_MAX_PER_USER streams (default 5) across API processes',
    },
    authenticate: async ({ deps, req, query }) => (!req.headers.authorization && query.token ? redeemTicket(deps, req, query.token) : undefined),
    handler: async ({ deps, req, res, params, query, principal }) => {
      const accountId = params.accountId!;
      const last = parseLastEventId(req.header('last-event-id') ?? query.lastEventId);
      // Before any byte is sent: a credential ended since (a ticket's minter) answers 401, one stream too many 429.
      const admission = await deps.streamGuard.admit(principal, ticketCredentials.get(req) ?? credentialOf(req, deps.platformApiKey));
      let closed = false;
      const done = new Promise<void>((resolve) => {
        res.on('close', () => {
          closed = true;
          resolve();
        });
      });
      try {
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no',
          connection: 'keep-alive',
        });
        res.flushHeaders();
        req.socket.setNoDelay(true);
        // Backpressure: what the client has not taken stays buffered here (`writableLength`). Beyond
        // `maxBehindBytes` the client is cut off (it resumes with Last-Event-ID, or gets `reset`); while a
        // write waits for `drain`, heartbeats are skipped (the stream is not idle).
        let draining = false;
        res.on('drain', () => {
          draining = false;
        });
        const write = (chunk: string) => {
          if (closed) return;
          // What is already waiting decides, not the new chunk: a reader that keeps up is never cut off by one large event.
          if (res.writableLength > deps.streams.maxBehindBytes) {
            closed = true;
            deps.log.info({ accountId, reason: 'too_slow', buffered: res.writableLength }, 'stream ended by the server');
            res.destroy();
            return;
          }
          if (!res.write(chunk)) draining = true;
        };
        const send = (type: string, id: string | undefined, data: unknown) => write(`event: ${type}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
        // The server ends a stream with a last `end` event saying why, then closes it (README "The account stream").
        const end = (reason: StreamEndReason) => {
          if (closed) return;
          send('end', undefined, { reason, message: endMessages[reason] });
          closed = true;
          res.end();
        };
        admission.onEnd(end);
        const subscription = await deps.streams.subscribe(accountId, last ? last.seq - (last.index === Number.MAX_SAFE_INTEGER ? 0 : 1) : undefined, {
          entry(doc) {
            if (closed) return;
            sseEvents(doc).forEach((event, index) => {
              if (last && doc.seq === last.seq && index <= last.index) return;
              if (!isFor(event, principal)) return;
              send(event.type, `${doc.seq}.${index}`, event.data);
            });
          },
          reset(seq) {
            send('reset', `${seq}`, { reason: 'the events after your Last-Event-ID are no longer kept, or too many to replay: reload' });
          },
          end() {
            end('server_stopping');
          },
        });
        // Every client gets an id at once, so even one that saw no event resumes from here.
        send('ready', `${subscription.at}`, { at: subscription.at });
        const heartbeat = setInterval(() => {
          if (!draining) write(': heartbeat\n\n');
        }, deps.streams.heartbeatMs);
        const closeTab = query.tabId && principal.kind === 'user' ? await tabOpened(deps, principal.accountId, principal.userId, query.tabId) : undefined;
        await done;
        clearInterval(heartbeat);
        subscription.unsubscribe();
        await closeTab?.().catch((error: unknown) => deps.log.warn({ err: error }, 'tab close not written; the tab goes stale instead'));
      } finally {
        admission.release();
      }
    },
  }),
];
