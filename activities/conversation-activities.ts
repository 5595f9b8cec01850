import type { Collection, Db, Filter, UpdateFilter } from 'mongodb';
import type { Logger } from 'pino';
import { collections, isDuplicateKeyError } from '../store/collections';
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
  await collection.bulkWrite(
    docs.map(({ _id, ...doc }) => ({
      updateOne: { filter: { _id } as Filter<T>, update: { $setOnInsert: doc } as UpdateFilter<T>, upsert: true },
    })),
    { ordered: false },
  );
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
      const { id, ...fields } = view;
      try {
        // Only a newer version replaces the view; an older one finds no match and its upsert collides.
        await c.conversations.updateOne({ _id: id, version: { $lt: view.version } }, { $set: fields }, { upsert: true });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        log.debug({ conversationId, version: view.version }, 'skipped a stale conversation view');
      }
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
