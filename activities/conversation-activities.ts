import type { Collection, Db, Filter, UpdateFilter } from 'mongodb';
import type { Logger } from 'pino';
import { collections, isDuplicateKeyError } from '../store/collections';
import type { Collections } from '../store/collections';
import type { MessageRecord, TransitionEvent } from '../workflows/conversation/lifecycle';
import type { Policy } from '../workflows/conversation/policy';
import { defaultPolicy } from '../workflows/conversation/policy';
import type { ConversationView } from '../workflows/conversation/view';
import type { ChannelProvider } from './channel-provider';
import type { RouterClient, RoutingNotice } from './routing-activities';

/** One flush of a conversation's decided effects: the view after them, and what they recorded or sent. */
export interface PersistBatch {
  view: ConversationView;
  messages: MessageRecord[];
  events: TransitionEvent[];
  sends: MessageRecord[];
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
  provider: ChannelProvider;
  log: Logger;
  /** Absent only where routing cannot happen (the time-skipping tests of the default policy). */
  router?: RouterClient;
}

/** Inserts each document unless one with its `_id` exists: a retried batch records nothing twice. */
async function insertOnce<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await collection.bulkWrite(
      docs.map(({ _id, ...doc }) => ({
        updateOne: { filter: { _id } as Filter<T>, update: { $setOnInsert: doc } as UpdateFilter<T>, upsert: true },
      })),
      { ordered: false },
    );
  } catch (error) {
    // Two attempts of one batch can race (a retry while a slow first attempt still runs): the loser's
    // upsert collides on `_id`, which means the document is there — exactly what this write wants.
    if (!onlyDuplicateKeys(error)) throw error;
  }
}

function onlyDuplicateKeys(error: unknown): boolean {
  if (isDuplicateKeyError(error)) return true;
  const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e) => e.code === 11000);
}

/**
 * Moves the view forwards to `view.version`, never backwards. The upsert's filter matches only an
 * older version; when it does not match, the insert half collides on `_id`. That collision means
 * "stale" only if the stored version really is newer or equal — a concurrent first insert can cause
 * it too — so the stored version is read and the update tried again until one of the two holds.
 */
async function writeViewForwards(c: Collections, view: ConversationView, log: Logger): Promise<void> {
  const { id, ...fields } = view;
  for (let attempt = 0; ; attempt++) {
    try {
      await c.conversations.updateOne({ _id: id, version: { $lt: view.version } }, { $set: fields }, { upsert: true });
      return;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const stored = await c.conversations.findOne({ _id: id }, { projection: { version: 1 } });
    if (stored && stored.version >= view.version) {
      log.debug({ conversationId: id, version: view.version, stored: stored.version }, 'skipped a stale conversation view');
      return;
    }
    if (attempt >= 5) throw new Error(`view ${id} could not be moved to version ${view.version}`);
  }
}

export function createConversationActivities({ db, provider, log, router }: ConversationActivityDeps): ConversationActivities {
  const c = collections(db);

  return {
    async loadPolicy(accountId) {
      const account = await c.accounts.findOne({ _id: accountId }, { projection: { policy: 1 } });
      return account?.policy ?? defaultPolicy;
    },

    async persist({ view, messages, events, sends, routing = [] }) {
      const conversationId = view.id;
      const { accountId, channel, customer } = view;
      // Send first: a send that fails is retried with the whole batch, and the provider dedupes by id.
      for (const message of sends) {
        await provider.send({
          _id: `${conversationId}/${message.messageId}`,
          accountId,
          channel,
          customer,
          conversationId,
          campaignId: null,
          kind: message.kind,
          text: message.text,
          template: message.template,
        });
      }
      await insertOnce(c.messages, messages.map((m) => ({ _id: `${conversationId}/${m.messageId}`, ...m, conversationId, accountId })));
      await insertOnce(c.events, events.map((e) => ({ _id: `${conversationId}/${e.seq}`, ...e, conversationId, accountId })));
      await writeViewForwards(c, view, log);
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
