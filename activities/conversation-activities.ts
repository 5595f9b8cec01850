import type { Collection, Db, OptionalUnlessRequiredId } from 'mongodb';
import type { Logger } from 'pino';
import { collections, conditionalWritesOf, isDuplicateKeyError } from '../store/collections';
import type { Collections, ConditionalWrites } from '../store/collections';
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
  /** How conditional view writes reach the server; asked of the server at the first write when absent. */
  conditionalWrites?: ConditionalWrites;
}

/** Inserts each document unless one with its `_id` exists: a retried batch records nothing twice. */
async function insertOnce<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    // Unordered: a document that is already there (an earlier attempt wrote it) does not stop the rest.
    await collection.insertMany(docs.map((doc) => doc as OptionalUnlessRequiredId<T>), { ordered: false });
  } catch (error) {
    // A duplicate `_id` means the document is there, which is exactly what this write wants.
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
async function writeViewForwards(c: Collections, view: ConversationView, mode: ConditionalWrites, log: Logger): Promise<void> {
  const { id, ...fields } = view;
  const stale = (stored: { version: number } | null) => {
    if (!stored || stored.version <= view.version) return false;
    log.debug({ conversationId: id, version: view.version, stored: stored.version }, 'skipped a stale conversation view');
    return true;
  };
  const storedVersion = () => c.conversations.findOne({ _id: id }, { projection: { version: 1 } });
  for (let attempt = 0; attempt <= 5; attempt++) {
    try {
      if (mode === 'filter') {
        await c.conversations.updateOne({ _id: id, version: { $lte: view.version } }, { $set: fields }, { upsert: true });
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

export function createConversationActivities({ db, provider, log, router, conditionalWrites }: ConversationActivityDeps): ConversationActivities {
  const c = collections(db);
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
      await writeViewForwards(c, view, await writeMode(), log);
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
