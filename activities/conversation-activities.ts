import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { collections, conditionalWritesOf, insertOnce, isDuplicateKeyError } from '../store/collections';
import type { Collections, ConditionalWrites } from '../store/collections';
import type { Delivery, MessageRecord, TransitionEvent } from '../workflows/conversation/lifecycle';
import type { Policy } from '../workflows/conversation/policy';
import { StreamAppender, streamCollections } from '../store/stream-log';
import { defaultPolicy } from '../workflows/conversation/policy';
import type { ConversationView } from '../workflows/conversation/view';
import type { RouterClient, RoutingNotice } from './routing-activities';

/** One flush of a conversation's decided effects: the view after them, and what they recorded or sent. */
export interface PersistBatch {
  view: ConversationView;
  messages: MessageRecord[];
  events: TransitionEvent[];
  /** Delivery changes of the conversation's business messages, oldest first. */
  deliveries?: { messageId: string; delivery: Delivery }[];
  /** Requests and assignment reports for the account's router, in decision order. */
  routing?: RoutingNotice[];
}

export interface ConversationActivities {
  /** The account's current policy; an account the API never created runs the default one. */
  loadPolicy(accountId: string): Promise<Policy>;
  /** Writes a batch idempotently: retried or reordered batches never move a view backwards. */
  persist(batch: PersistBatch): Promise<void>;
}

export interface ConversationActivityDeps {
  db: Db;
  log: Logger;
  /** Absent only where routing cannot happen (the time-skipping tests of the default policy). */
  router?: RouterClient;
  /** How conditional view writes reach the server; asked of the server at the first write when absent. */
  conditionalWrites?: ConditionalWrites;
}

/**
 * Moves the view forwards to `view.version`, never backwards (see `ConditionalWrites` for the two
 * ways). With `filter`, the upsert matches only an older version; when it does not match, its insert
 * half collides on `_id`. That collision means "stale" only if the stored version really is newer or
 * equal (a concurrent first insert can cause it too), so the stored version is read and the write tried
 * again until one of the two holds. With `read-then-write`, each attempt reads first, and a collision of
 * its insert (a concurrent first write) sends it round again.
 */
async function writeViewForwards(c: Collections, view: ConversationView, mode: ConditionalWrites, log: Logger): Promise<void> {
  const { id, ...fields } = view;
  const stale = (stored: { version: number } | null) => {
    if (!stored || stored.version < view.version) return false;
    log.debug({ conversationId: id, version: view.version, stored: stored.version }, 'skipped a stale conversation view');
    return true;
  };
  const storedVersion = () => c.conversations.findOne({ _id: id }, { projection: { version: 1 } });
  for (let attempt = 0; attempt <= 5; attempt++) {
    try {
      if (mode === 'filter') {
        await c.conversations.updateOne({ _id: id, version: { $lt: view.version } }, { $set: fields }, { upsert: true });
        return;
      }
      const stored = await storedVersion();
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

export function createConversationActivities({ db, log, router, conditionalWrites }: ConversationActivityDeps): ConversationActivities {
  const c = collections(db);
  const stream = new StreamAppender(streamCollections(db));
  let writes: Promise<ConditionalWrites> | undefined = conditionalWrites && Promise.resolve(conditionalWrites);
  const writeMode = () => {
    writes ??= conditionalWritesOf(db).catch((error: unknown) => {
      writes = undefined; // asked again at the next write
      throw error;
    });
    return writes;
  };

  return {
    async loadPolicy(accountId) {
      const account = await c.accounts.findOne({ _id: accountId }, { projection: { policy: 1 } });
      return account?.policy ?? defaultPolicy;
    },

    async persist({ view, messages, events, deliveries = [], routing = [] }) {
      const conversationId = view.id;
      const { accountId, channel, customer } = view;
      await insertOnce(c.messages, messages.map((m) => ({ _id: `${conversationId}/${m.messageId}`, ...m, conversationId, accountId })));
      // This workflow is the one writer of its messages' delivery, and its batches are written in
      // order, so a plain set by `_id` never moves a delivery backwards (the rule decided it).
      if (deliveries.length > 0) {
        const latest = new Map(deliveries.map((d) => [d.messageId, d.delivery]));
        await c.messages.bulkWrite(
          [...latest].map(([messageId, delivery]) => ({ updateOne: { filter: { _id: `${conversationId}/${messageId}` }, update: { $set: { delivery } } } })),
          { ordered: false },
        );
      }
      await insertOnce(c.events, events.map((e) => ({ _id: `${conversationId}/${e.seq}`, ...e, conversationId, accountId })));
      await writeViewForwards(c, view, await writeMode(), log);
      // After the view, messages and events: a stream reader that reads them on seeing the entry finds
      // them written. One entry per batch, in this workflow's batch order (store/STREAM.md).
      await stream.append(accountId, { conversationId, at: new Date(), conversation: view, messages, deliveries, events });
      if (messages.some((m) => m.seq === 1)) {
        // The customer wrote for the first time: no longer "not contacted" (seed 002).
        await c.contacts.updateOne(
          { _id: `${accountId}/${channel}/${customer}` },
          { $set: { contacted: true }, $setOnInsert: { accountId, channel, customer, createdAt: new Date(view.lastActivityAt ?? Date.now()) } },
          { upsert: true },
        );
      }
      // After the view: a router that reads views at its start then never misses this change.
      for (const notice of routing) {
        if (!router) throw new Error('routing notice without a router client: configure the worker with one');
        await router.notify(accountId, notice);
      }
    },
  };
}
