import { ApplicationFailure } from '@temporalio/activity';
import { BSON, MongoInvalidArgumentError, MongoServerError } from 'mongodb';
import type { Db } from 'mongodb';
import { persistRefusedType } from '../workflows/conversation/core/errors';
import type { Logger } from 'pino';
import { collections, conditionalWritesOf, insertOnce, isDuplicateKeyError } from '../store/collections';
import type { Collections, ConditionalWrites, PersistFailureDoc } from '../store/collections';
import type { Delivery, MessageRecord, TransitionEvent } from '../workflows/conversation/core/lifecycle';
import type { Policy } from '../workflows/conversation/core/policy';
import { StreamAppender } from '../store/stream-log';
import { newestAccountPolicy } from '../store/policy-versions';
import { mentionDocsOf } from '../store/mentions';
import { searchTermDocsOf } from '../store/search-index';
import { recordContactMessages } from '../store/contact-profiles';
import { contactDocId, eventDocId, messageDocId, persistFailureDocId } from '../store/ids';
import { posOf, timelineNewest } from '../store/timeline';
import { defaultPolicy } from '../workflows/conversation/core/policy';
import type { ConversationView } from '../workflows/conversation/core/view';
import type { BucketFields } from '../workflows/conversation/core/conversation-counts';
import { bucketOf, isTransition } from '../workflows/conversation/core/conversation-counts';
import { moveInsertWithinMs, recordCountMove } from '../store/conversation-counts';
import type { StoredConversation } from '../workflows/conversation/core/recover';
import { outboundNumber } from '../workflows/conversation/core/recover';
import { dedupeWindow } from '../workflows/conversation/core/model';
import type { RouterClient, RoutingNotice } from './router-client';
import { cachedPolicies, createEpisodeRows } from './episode-rows';

/** One flush of a conversation's decided effects: the view after them, and what they recorded or sent. */
export interface PersistBatch {
  view: ConversationView;
  messages: MessageRecord[];
  events: TransitionEvent[];
  /** Delivery changes of the conversation's business messages, oldest first. */
  deliveries?: { messageId: string; delivery: Delivery }[];
  /** Requests and assignment reports for the account's router, in decision order. */
  routing?: RoutingNotice[];
  /**
   * Deliveries only, at a version whose view is already written (a light delivery decision,
   * core/light-delivery.ts): the deliveries and a stream entry are written; the view, its episode row
   * and everything derived from messages are not.
   */
  light?: boolean;
}

/** What a run that starts from nothing (not continued as new) reads first: the policy, and the conversation if the store knows it. */
export interface RunStart {
  policy: Policy;
  /** Null for a conversation the store has no view of (a new one): the run starts from the initial state. */
  stored: StoredConversation | null;
}

export interface ConversationActivities {
  /** The account's current policy; an account the API never created runs the default one. */
  loadPolicy(accountId: string): Promise<Policy>;
  /**
   * The policy and, when its view exists, what the store knows of the conversation (SPEC section 12: a
   * run that was terminated or failed is followed by one that continues from the views). One read by
   * `_id` for a new conversation, beside the policy's.
   */
  loadRunStart(input: { accountId: string; conversationId: string }): Promise<RunStart>;
  /**
   * Which of these provider message ids the conversation recorded as customer messages, ever: one read
   * by `_id` each (the `messages` collection's unique `_id`, core/dedupe.ts).
   */
  recordedMessageIds(input: { conversationId: string; messageIds: string[] }): Promise<string[]>;
  /**
   * Writes a batch idempotently: retried or reordered batches never move a view backwards. Throws a
   * non-retryable `persist_refused` failure when the database refused part of it for good (what it
   * could write is written).
   */
  persist(batch: PersistBatch): Promise<void>;
  /** Makes a refused batch visible: an error log line, the worker's counter, and a `persist_failures` document. */
  recordPersistFailure(failure: PersistFailure): Promise<void>;
}

/** A batch the database refused for good, as the workflow reports it (`version`: the one the view would have reached). */
export type PersistFailure = Omit<PersistFailureDoc, '_id' | 'at'>;

export { persistRefusedType };

/**
 * Server error codes that no retry can fix: the document itself is wrong for the store (bad or dotted
 * or `$` keys, too large, failing validation). Everything else (network, elections, timeouts, auth) may
 * pass, so it is retried.
 */
const permanentCodes = new Set([2, 9, 22, 52, 55, 57, 121, 10334, 17280, 17419, 17420]);

export function isPermanentWriteError(error: unknown): boolean {
  if (error instanceof BSON.BSONError || error instanceof RangeError || error instanceof MongoInvalidArgumentError) return true;
  const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length > 0) return list.every((e) => e.code === 11000 || permanentCodes.has(e.code ?? -1)) && list.some((e) => e.code !== 11000);
  return error instanceof MongoServerError && permanentCodes.has(Number(error.code));
}

export interface ConversationActivityDeps {
  db: Db;
  log: Logger;
  /** Absent only where routing cannot happen (the time-skipping tests of the default policy). */
  router?: RouterClient;
  /** How conditional view writes reach the server; asked of the server at the first write when absent. */
  conditionalWrites?: ConditionalWrites;
  /** Counts refused batches (the worker's metrics). */
  onPersistRefused?: () => void;
  /** SPEC 11: keep the episode rows on every persist (activities/episode-rows.ts); on unless false. */
  episodeRows?: boolean;
}

/**
 * Moves the view forwards to `view.version`, never backwards (see `ConditionalWrites` for the two
 * ways). The same version is written again, not skipped: a workflow task that is executed a second
 * time (its first attempt wrote the view, then timed out, e.g. on a sticky queue lost with a matching
 * service) computes the same version at a later workflow time, and that attempt's state is the one its
 * history keeps; skipping it left the view's timestamps off the workflow's for good (found by the
 * cluster tier's matching kill, test/cluster/faults.test.ts). With `filter`, the upsert matches only an
 * older or equal version; when it does not match, its insert half collides on `_id`. That collision
 * means "stale" only if the stored version really is newer (a concurrent first insert can cause it
 * too), so the stored version is read and the write tried again until one of the two holds. With `read-then-write`, each attempt reads first, and a collision of
 * its insert (a concurrent first write) sends it round again.
 */
async function writeViewForwards(
  c: Collections,
  view: ConversationView,
  mode: ConditionalWrites,
  log: Logger,
  firstRead?: Promise<StoredVersion>,
): Promise<void> {
  const { id, ...fields } = view;
  const stale = (stored: { version: number } | null) => {
    if (!stored || stored.version <= view.version) return false;
    log.debug({ conversationId: id, version: view.version, stored: stored.version }, 'skipped a stale conversation view');
    return true;
  };
  const storedVersion = () => readStoredVersion(c, id);
  for (let attempt = 0; attempt <= 5; attempt++) {
    try {
      if (mode === 'filter') {
        await c.conversations.updateOne({ _id: id, version: { $lte: view.version } }, { $set: fields }, { upsert: true });
        return;
      }
      const stored = attempt === 0 && firstRead ? await firstRead : await storedVersion();
      if (stale(stored)) return;
      if (stored) await c.conversations.updateOne({ _id: id }, { $set: fields });
      else await c.conversations.insertOne({ _id: id, ...fields });
      return;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // read-then-write reads again at the top of the loop; filter reads only after a collision.
    if (mode === 'filter' && stale(await storedVersion())) return;
  }
  throw new Error(`view ${id} could not be moved to version ${view.version}`);
}

/** The stored view's version, and its bucket's fields for the tab counts (store/conversation-counts.ts). */
type StoredVersion = ({ version: number } & BucketFields) | null;

const readStoredVersion = (c: Collections, id: string): Promise<StoredVersion> =>
  c.conversations.findOne({ _id: id }, { projection: { version: 1, status: 1, assigneeId: 1, archived: 1 } });

export function createConversationActivities({ db, log, router, conditionalWrites, onPersistRefused, episodeRows = true }: ConversationActivityDeps): ConversationActivities {
  const c = collections(db);
  const stream = new StreamAppender(c.stream, undefined, (error) => log.warn({ err: error }, 'stream head hint not written; the next append corrects it'));
  let writes: Promise<ConditionalWrites> | undefined = conditionalWrites && Promise.resolve(conditionalWrites);
  const writeMode = () => {
    writes ??= conditionalWritesOf(db).catch((error: unknown) => {
      writes = undefined; // asked again at the next write
      throw error;
    });
    return writes;
  };

  const loadPolicy = async (accountId: string): Promise<Policy> => (await newestAccountPolicy(c.accounts, c.policyVersions, accountId)) ?? defaultPolicy;
  const episodes = episodeRows ? createEpisodeRows({ c, log, policyOf: cachedPolicies(loadPolicy) }) : undefined;

  return {
    loadPolicy,

    async loadRunStart({ accountId, conversationId }) {
      const [policy, stored] = await Promise.all([loadPolicy(accountId), readStoredConversation(c, conversationId)]);
      return { policy, stored };
    },

    async recordedMessageIds({ conversationId, messageIds }) {
      // By `_id` alone, one id at a time: the only filter FerretDB serves from its index (store/DESIGN.md).
      const found = await Promise.all(messageIds.map((id) => c.messages.findOne({ _id: messageDocId(conversationId, id) }, { projection: { direction: 1 } })));
      return messageIds.filter((_, i) => found[i]?.direction === 'inbound');
    },

    async persist({ view, messages, events, deliveries = [], routing = [], light = false }) {
      const startedAt = Date.now();
      const conversationId = view.id;
      const { accountId, channel, customer } = view;
      // Each write goes on even when an earlier one was refused for good, so one document the store
      // will never take (a key it does not allow, a size over its limit) costs only itself; an outage
      // throws at once and the whole batch is retried (every write is idempotent).
      const refused: string[] = [];
      const write = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        try {
          await fn();
        } catch (error) {
          if (!isPermanentWriteError(error)) throw error;
          refused.push(`${what}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500));
        }
      };
      // The customer wrote for the first time: no longer "not contacted" (seed 002). After the view, so
      // the customer is never in neither list.
      const firstContact = async (): Promise<void> => {
        if (!messages.some((m) => m.seq === 1)) return;
        await c.contacts.updateOne(
          { _id: contactDocId(accountId, channel, customer) },
          { $set: { contacted: true }, $setOnInsert: { accountId, channel, customer, createdAt: new Date(view.lastActivityAt ?? Date.now()) } },
          { upsert: true },
        );
      };
      // Three steps, each one round trip when nothing collides (this is an agent's reply's wait, issue 13):
      // 1. the timeline (messages, deliveries, events) and the reads the later steps need (the view's
      //    stored version, the stream's head), all at once: none of them depends on another;
      // 2. the view, once the timeline is written: a reader never sees a view ahead of its timeline;
      // 3. the stream entry, once the view is written (a stream reader that reads the REST routes on
      //    seeing the entry finds what it says), and beside it what only has to follow the view.
      const mode = await writeMode();
      // The stored view: for its conditional write (read-then-write) and for the tab counts' move.
      const viewRead = light ? undefined : settle(readStoredVersion(c, conversationId));
      const headHint = stream.readHint(accountId);
      // SPEC 11: the episode rows' reads and fold run beside the timeline's writes (activities/episode-rows.ts).
      // A delivery never moves a row (activities/episode-rows.ts), so a light batch has none.
      const rows = episodes && !light ? settle(episodes.prepare({ view, messages, events })) : undefined;
      const sent = new Set(messages.map((m) => m.messageId));
      const latest = new Map(deliveries.map((d) => [d.messageId, d.delivery]));
      const writeDeliveries = () =>
        write('deliveries', () =>
          c.messages.bulkWrite(
            [...latest].map(([messageId, delivery]) => ({ updateOne: { filter: { _id: messageDocId(conversationId, messageId) }, update: { $set: { delivery } } } })),
            { ordered: false },
          ),
        );
      const writeMessages = write('messages', () => insertOnce(c.messages, messages.map((m) => ({ _id: messageDocId(conversationId, m.messageId), ...m, conversationId, accountId, pos: posOf(m.seq) }))));
      await allWritten([
        // This workflow is the one writer of its messages' delivery, and its batches are written in
        // order, so a plain set by `_id` never moves a delivery backwards (the rule decided it). A
        // delivery of a message recorded in this same batch waits for its insert (no such batch is
        // decided today: a send's outcome follows the flush of its message).
        latest.size === 0 ? writeMessages : [...latest.keys()].some((id) => sent.has(id)) ? writeMessages.then(writeDeliveries) : allWritten([writeMessages, writeDeliveries()]),
        write('events', () => insertOnce(c.events, events.map((e) => ({ _id: eventDocId(conversationId, e.seq), ...e, conversationId, accountId, pos: posOf(e.seq) })))),
        // SPEC 10: one record per user a note mentions, with the note (insert-once: a retry writes nothing twice).
        write('mentions', () => insertOnce(c.mentions, mentionDocsOf(accountId, conversationId, messages))),
        // Before the view: a view at this version means its move is recorded (store/conversation-counts.ts).
        ...(viewRead ? [write('count move', async () => countMove(c, view, events, unsettle(await viewRead), startedAt))] : []),
      ]);
      await allWritten([
        // A light batch's view is the one already written at its version.
        ...(light ? [] : [write('view', () => writeViewForwards(c, view, mode, log, mode === 'read-then-write' ? viewRead?.then(unsettle) : undefined))]),
        ...(episodes && rows ? [write('episodes', async () => episodes.write(unsettle(await rows), mode))] : []),
      ]);
      const hint = await headHint;
      await allWritten([
        // One entry per batch, in this workflow's batch order (store/STREAM.md).
        write('stream', () => stream.append(accountId, { conversationId, at: new Date(), conversation: view, messages, deliveries, events }, hint)),
        firstContact(),
        // SPEC 11, after the view and the timeline: the search postings of the batch's messages (insert-once;
        // a posting's message is always there to be read) and what customer messages tell the contact (a
        // claimed revision, only when they tell something new: store/DESIGN.md "Contacts" and "Search").
        write('search terms', () => insertOnce(c.searchTerms, searchTermDocsOf(accountId, conversationId, messages))),
        write('contact', () =>
          recordContactMessages(
            c.contactProfiles,
            { accountId, channel, customer },
            view.customerName,
            messages.filter((m) => m.direction === 'inbound').map((m) => ({ at: m.at, attributes: m.attributes })),
          ),
        ),
        // After the view: a router that reads views at its start then never misses this change. In
        // decision order, one after another.
        (async () => {
          for (const notice of routing) {
            if (!router) throw new Error('routing notice without a router client: configure the worker with one');
            await router.notify(accountId, notice);
          }
        })(),
      ]);
      if (refused.length > 0) {
        // Retrying cannot help: the workflow records the failure where operators look and goes on.
        throw ApplicationFailure.create({ type: persistRefusedType, nonRetryable: true, message: refused.join('; ') });
      }
    },

    async recordPersistFailure(failure) {
      log.error({ ...failure }, 'conversation batch refused by the database for good; kept in persist_failures');
      onPersistRefused?.();
      // A light batch shares its version with the batch before it: its deliveries tell it apart.
      const id = persistFailureDocId(failure.conversationId, failure.version) + (failure.deliveries ? `/d/${failure.deliveries.join(',')}` : '');
      await insertOnce(c.persistFailures, [{ _id: id, ...failure, at: new Date() }]);
    },
  };
}

/**
 * The tab counts' move of a batch (store/conversation-counts.ts): from the stored view's bucket to the new
 * view's. None when the stored view is already at this version or newer (whoever wrote it recorded the
 * move first). When the bucket stays but the batch holds a transition, an earlier attempt may have moved
 * the conversation elsewhere and died before its view: `recordCountMove` then looks, and moves it back.
 */
async function countMove(c: Collections, view: ConversationView, events: TransitionEvent[], stored: StoredVersion, startedAt: number): Promise<void> {
  if (stored !== null && stored.version >= view.version) return;
  const move = { from: bucketOf(stored), to: bucketOf(view), fromVersion: stored?.version ?? 0, toVersion: view.version };
  if (move.from === move.to && !events.some(isTransition)) return;
  await recordCountMove(c.counts, { accountId: view.accountId, conversationId: view.id }, move, { notAfter: startedAt + moveInsertWithinMs });
}

/** How many of the newest events a recovering run reads (when its status and assignment began). */
const recoveryEvents = 30;

/**
 * What the store knows of a conversation, for a run that starts from nothing; null when it has no view.
 * Only a conversation whose run ended without continuing (terminated, failed) gets past the first read.
 */
async function readStoredConversation(c: Collections, conversationId: string): Promise<StoredConversation | null> {
  const found = await c.conversations.findOne({ _id: conversationId });
  if (!found) return null;
  const { _id, ...view } = found;
  // Newest first, from the `conversation_pos` indexes (store/timeline.ts).
  const [lastMessage, lastOutbound, inbound, events] = await Promise.all([
    timelineNewest(c.messages, conversationId, 1, { projection: { seq: 1 } }),
    timelineNewest(c.messages, conversationId, 1, { filter: { direction: 'outbound' }, projection: { messageId: 1 } }),
    timelineNewest(c.messages, conversationId, dedupeWindow, { filter: { direction: 'inbound' }, projection: { messageId: 1 } }),
    timelineNewest(c.events, conversationId, recoveryEvents, { projection: { seq: 1, at: 1, from: 1, to: 1, reason: 1, assigneeBefore: 1, assigneeAfter: 1 } }),
  ]);
  return {
    view,
    lastMessageSeq: lastMessage[0]?.seq ?? 0,
    lastOutboundNumber: lastOutbound[0] ? outboundNumber(lastOutbound[0].messageId) : 0,
    recentMessageIds: inbound.map((m) => m.messageId).reverse(),
    recentEvents: events.map(({ seq, at, from, to, reason, assigneeBefore, assigneeAfter }) => ({
      seq,
      at,
      from: from ?? null,
      to,
      reason,
      assigneeBefore: assigneeBefore ?? null,
      assigneeAfter: assigneeAfter ?? null,
    })),
  };
}

/**
 * Waits for every one of the writes (never leaving one running behind a failed one: a retry of the batch
 * must not race this attempt's stragglers), then throws the first failure, if any.
 */
async function allWritten(writes: Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(writes);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A read started early, kept from rejecting unobserved until it is awaited. */
const settle = <T>(p: Promise<T>): Promise<Settled<T>> => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));

const unsettle = <T>(s: Settled<T>): T => {
  if (!s.ok) throw s.error;
  return s.value;
};
