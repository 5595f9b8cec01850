import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { StreamEntryDoc } from '../../store/stream-log';
import { isNoticeEntry } from '../../store/stream-log';
import { userDocId } from '../../store/collections';
import type { Principal } from '../auth';
import { everyUser } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { hashApiKey } from '../keys';
import { defineRoute } from '../route';
import { openTab, tabIdSchema } from '../presence';
import { deliveryView, eventView, messageView, toConversationView } from '../conversation-views';

/** How long a stream ticket may wait before it opens a stream. */
export const streamTicketTtlMs = 60_000;

/** One SSE event per item of an entry, numbered `{seq}.{index}`, so a client resumes mid-entry. */
export function sseEvents(doc: StreamEntryDoc): { type: string; data: unknown }[] {
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
  ];
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

async function redeemTicket(deps: ApiDeps, token: string): Promise<Principal> {
  const _id = hashApiKey(token);
  const ticket = await deps.streams.c.tickets.findOne({ _id });
  // Single use: of two requests racing with one ticket, only the one whose delete removed it opens.
  const removed = ticket ? (await deps.streams.c.tickets.deleteOne({ _id })).deletedCount : 0;
  if (!ticket || removed !== 1 || ticket.expiresAt.getTime() <= Date.now()) {
    throw new ApiError({ code: 'unauthenticated', message: 'this stream ticket is unknown, used or expired: ask for a new one' });
  }
  const user = await deps.collections.users.findOne({ _id: userDocId(ticket.accountId, ticket.userId) });
  if (!user || !user.active) throw new ApiError({ code: 'unauthenticated', message: 'this user is not active' });
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
    // The token is a credential: an Idempotency-Key's stored answer is sealed (api/idempotency.ts).
    answersSecret: true,
    handler: async ({ deps, principal }) => {
      if (principal.kind !== 'user') throw new ApiError({ code: 'forbidden', message: 'stream tickets are for users' });
      const token = `cf_t_${randomBytes(24).toString('base64url')}`;
      const expiresAt = new Date(Date.now() + streamTicketTtlMs);
      await deps.streams.c.tickets.insertOne({ _id: hashApiKey(token), accountId: principal.accountId, userId: principal.userId, expiresAt });
      return { token, expiresAt: expiresAt.toISOString() };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/stream',
    summary:
      'Server-Sent Events: every conversation change (`conversation`), timeline message (`message`), delivery status (`delivery`), transition (`transition`), read mark (`read`) and presence change (`presence`) of the account, each with an id; `Last-Event-ID` resumes (48 h kept); `tabId` makes the caller present while the stream is open (docs/presence.md)',
    allow: everyUser,
    query: streamQuery,
    authenticate: async ({ deps, req, query }) => (!req.headers.authorization && query.token ? redeemTicket(deps, query.token) : undefined),
    handler: async ({ deps, req, res, params, query, principal }) => {
      const accountId = params.accountId!;
      const last = parseLastEventId(req.header('last-event-id') ?? query.lastEventId);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      res.flushHeaders();
      req.socket.setNoDelay(true);
      const send = (type: string, id: string, data: unknown) => res.write(`event: ${type}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`);
      let closed = false;
      const done = new Promise<void>((resolve) => {
        res.on('close', () => {
          closed = true;
          resolve();
        });
      });
      const subscription = await deps.streams.subscribe(accountId, last ? last.seq - (last.index === Number.MAX_SAFE_INTEGER ? 0 : 1) : undefined, {
        entry(doc) {
          if (closed) return;
          sseEvents(doc).forEach((event, index) => {
            if (last && doc.seq === last.seq && index <= last.index) return;
            send(event.type, `${doc.seq}.${index}`, event.data);
          });
        },
        reset(seq) {
          if (!closed) send('reset', `${seq}`, { reason: 'the events after your Last-Event-ID are no longer kept: reload' });
        },
        end() {
          res.end();
        },
      });
      // Every client gets an id at once, so even one that saw no event resumes from here.
      send('ready', `${subscription.at}`, { at: subscription.at });
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), deps.streams.heartbeatMs);
      const closeTab = query.tabId && principal.kind === 'user' ? await tabOpened(deps, principal.accountId, principal.userId, query.tabId) : undefined;
      await done;
      clearInterval(heartbeat);
      subscription.unsubscribe();
      await closeTab?.().catch((error: unknown) => deps.log.warn({ err: error }, 'tab close not written; the tab goes stale instead'));
    },
  }),
];
