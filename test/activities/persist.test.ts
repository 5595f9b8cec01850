import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import type { PersistBatch } from '../../activities/conversation-activities';
import { createConversationActivities } from '../../activities/conversation-activities';
import { collections, conditionalWritesOf, ensureIndexes } from '../../store/collections';
import { readCounts, startCounts } from '../../store/conversation-counts';
import { countsByStatusAndAssignee } from '../../store/conversation-views';
import { bucketOf } from '../../workflows/conversation/core/conversation-counts';
import { decide, initialState } from '../../workflows/conversation/core/lifecycle';
import type { Actor, ConversationState, Input } from '../../workflows/conversation/core/lifecycle';
import { toBatch } from '../../workflows/conversation/core/batch';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import { quietLog } from '../support/stack';
import { testServers } from '../support/test-servers';

/**
 * The persist activity against a real MongoDB-wire server (FerretDB): idempotent under retries,
 * never moving a view backwards, and correct when two attempts of a batch race. Both ways of writing
 * a view conditionally run here: FerretDB serves the `filter` way too (slowly), so the way MongoDB
 * takes is tested as well as the one FerretDB takes.
 */
describe.each(['filter', 'read-then-write'] as const)('persisting a conversation batch (%s)', (conditionalWrites) => {
  let mongo: MongoClient;
  let db: Db;

  beforeAll(async () => {
    mongo = await MongoClient.connect(testServers().mongoUri);
    db = mongo.db(`persist_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(db);
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await mongo?.close();
  });

  const activities = () => createConversationActivities({ db, log: quietLog, conditionalWrites });

  /** A conversation with `n` customer messages, and the batch each message's decision produced. */
  function conversation(n: number): { states: ConversationState[]; batches: PersistBatch[] } {
    let state = initialState({ conversationId: `conv:a:wa:${randomUUID().slice(0, 8)}`, accountId: 'a', channel: 'wa', customer: '4912345' });
    const states: ConversationState[] = [];
    const batches: PersistBatch[] = [];
    for (let i = 1; i <= n; i++) {
      const d = decide(state, { type: 'customerMessage', message: { messageId: `m${i}`, text: `t${i}` } }, { kind: 'customer' }, defaultPolicy, 1_000 * i);
      if (!d.ok) throw new Error(d.message);
      state = d.state;
      states.push(state);
      batches.push(toBatch(state, defaultPolicy, d.effects));
    }
    return { states, batches };
  }

  test('a batch written twice records its messages and events once', async () => {
    const { batches } = conversation(1);
    await activities().persist(batches[0]!);
    await activities().persist(batches[0]!);
    const id = batches[0]!.view.id;
    expect(await db.collection('messages').countDocuments({ conversationId: id })).toBe(1);
    expect(await db.collection('events').countDocuments({ conversationId: id })).toBe(1);
  });

  test('an older batch arriving after a newer one never moves the view backwards', async () => {
    const { batches } = conversation(3);
    await activities().persist(batches[2]!);
    await activities().persist(batches[0]!);
    const view = await db.collection('conversations').findOne({ _id: batches[0]!.view.id as never });
    expect(view).toMatchObject({ version: 3, unreadCount: 3 });
  });

  test('a batch of the same version computed again at a later time (a re-executed workflow task) replaces the view', async () => {
    const { batches } = conversation(2);
    await activities().persist(batches[1]!);
    const again = { ...batches[1]!, view: { ...batches[1]!.view, lastActivityAt: '2030-01-01T00:00:05.000Z' } };
    await activities().persist(again);
    const view = await db.collection('conversations').findOne({ _id: again.view.id as never });
    expect(view).toMatchObject({ version: 2, lastActivityAt: again.view.lastActivityAt });
  });

  // The workflow writes its batches one after another; what can race is two attempts of the *same*
  // batch (a retry while a slow first attempt still runs), and a late attempt of an older batch.
  // (Different versions written at the same instant are not a case the workflow produces, and
  // FerretDB 1.x does not apply a filtered update as one atomic compare-and-set anyway.)
  test('racing attempts of each batch, then a late attempt of the first, leave every record once and the newest view', async () => {
    for (let round = 0; round < 5; round++) {
      const { batches } = conversation(3);
      const a = activities();
      for (const batch of batches) await Promise.all([a.persist(batch), a.persist(batch), a.persist(batch)]);
      await a.persist(batches[0]!);
      const id = batches[0]!.view.id;
      expect(await db.collection('conversations').findOne({ _id: id as never })).toMatchObject({ version: 3, unreadCount: 3 });
      expect(await db.collection('messages').countDocuments({ conversationId: id })).toBe(3);
      expect(await db.collection('events').countDocuments({ conversationId: id })).toBe(1);
    }
  });

  test('the timeline is written before the view, and the stream entry after both', async () => {
    // The server's own command events, in the order the driver saw them: which write had succeeded
    // before another one was sent.
    const watched = await MongoClient.connect(testServers().mongoUri, { monitorCommands: true });
    try {
      const log: string[] = [];
      const collectionOf = new Map<number, string>();
      watched.on('commandStarted', (e) => {
        const collection = String((e.command as Record<string, unknown>)[e.commandName] ?? '');
        collectionOf.set(e.requestId, collection);
        if (['insert', 'update'].includes(e.commandName)) log.push(`start ${e.commandName} ${collection}`);
      });
      watched.on('commandSucceeded', (e) => {
        if (['insert', 'update'].includes(e.commandName)) log.push(`done ${e.commandName} ${collectionOf.get(e.requestId)}`);
      });
      const a = createConversationActivities({ db: watched.db(db.databaseName), log: quietLog, conditionalWrites });
      const { batches } = conversation(1);
      await a.persist(batches[0]!);
      const at = (line: string) => {
        expect(log).toContain(line);
        return log.indexOf(line);
      };
      const viewWrite = Math.min(...log.flatMap((line, i) => (line.startsWith('start') && line.endsWith(' conversations') ? [i] : [])));
      expect(at('done insert messages')).toBeLessThan(viewWrite);
      expect(at('done insert events')).toBeLessThan(viewWrite);
      const viewDone = log.findIndex((line) => line.startsWith('done') && line.endsWith(' conversations'));
      expect(viewDone).toBeGreaterThan(viewWrite);
      expect(at('start insert stream_entries')).toBeGreaterThan(viewDone);
    } finally {
      await watched.close();
    }
  });

  test("a delivery decided in the same batch as its message is the one stored", async () => {
    const { batches } = conversation(1);
    const batch = batches[0]!;
    const message = batch.messages[0]!;
    const delivery = { status: 'delivered' as const, providerMessageId: 'wamid.1', error: null, updatedAt: 5_000 };
    await activities().persist({ ...batch, deliveries: [{ messageId: message.messageId, delivery }] });
    expect(await db.collection('messages').findOne({ _id: `${batch.view.id}/${message.messageId}` as never })).toMatchObject({ delivery });
  });

  test('a light batch writes its delivery and a stream entry, and neither reads nor writes the view or an episode row', async () => {
    const { batches } = conversation(1);
    const batch = batches[0]!;
    await activities().persist(batch);
    const message = batch.messages[0]!;
    const watched = await MongoClient.connect(testServers().mongoUri, { monitorCommands: true });
    try {
      const touched: string[] = [];
      watched.on('commandStarted', (e) => {
        if (['find', 'insert', 'update', 'aggregate'].includes(e.commandName)) touched.push(`${e.commandName} ${String((e.command as Record<string, unknown>)[e.commandName])}`);
      });
      const a = createConversationActivities({ db: watched.db(db.databaseName), log: quietLog, conditionalWrites });
      const delivery = { status: 'read' as const, providerMessageId: 'wamid.9', error: null, updatedAt: 9_000 };
      // The same version with a view that differs: a light batch must leave the stored one as it is.
      const light: PersistBatch = { view: { ...batch.view, unreadCount: 99 }, messages: [], events: [], deliveries: [{ messageId: message.messageId, delivery }], light: true };
      await a.persist(light);
      expect(touched.filter((line) => / (conversations|episodes|episode_months)$/.test(line))).toEqual([]);
      expect(touched).toContain('update messages');
      expect(touched).toContain('insert stream_entries');
    } finally {
      await watched.close();
    }
    expect(await db.collection('messages').findOne({ _id: `${batch.view.id}/${message.messageId}` as never })).toMatchObject({ delivery: { status: 'read' } });
    expect(await db.collection('conversations').findOne({ _id: batch.view.id as never })).toMatchObject({ version: 1, unreadCount: 1 });
    const entries = await db.collection('stream_entries').find({ conversationId: batch.view.id }).toArray();
    expect(entries.map((e) => [e.conversation.version, e.deliveries.length])).toEqual([
      [1, 0],
      [1, 1],
    ]);
  });

  // Issue 28: each batch that moves the conversation's bucket records a move before its view
  // (store/conversation-counts.ts); racing, repeated and late attempts count it once.
  test('the tab counts follow the batches, whatever attempts race or come late', async () => {
    const accountId = `counts-${randomUUID().slice(0, 8)}`;
    const db_ = collections(db);
    await startCounts(db_.counts, accountId);
    let state = initialState({ conversationId: `conv:${accountId}:wa:4912345`, accountId, channel: 'wa', customer: '4912345' });
    const batches: PersistBatch[] = [];
    const steps: [Input, Actor][] = [
      [{ type: 'customerMessage', message: { messageId: 'm1', text: 'hi' } }, { kind: 'customer' }],
      [{ type: 'assign', assigneeId: 'agent-1' }, { kind: 'user', userId: 'manager-1', role: 'manager' }],
      [{ type: 'resolve' }, { kind: 'user', userId: 'manager-1', role: 'manager' }],
      [{ type: 'customerMessage', message: { messageId: 'm2', text: 'again' } }, { kind: 'customer' }],
    ];
    for (const [i, [input, actor]] of steps.entries()) {
      const d = decide(state, input, actor, defaultPolicy, 1_000 * (i + 1));
      if (!d.ok) throw new Error(d.message);
      state = d.state;
      batches.push(toBatch(state, defaultPolicy, d.effects));
    }
    const counted = () => readCounts(db_.counts, accountId);
    await activities().persist(batches[0]!);
    expect(await counted()).toEqual({ 'open/': 1 });
    await Promise.all([activities().persist(batches[1]!), activities().persist(batches[1]!)]);
    expect(await counted()).toEqual({ 'assigned/agent-1': 1 });
    await activities().persist(batches[2]!);
    await activities().persist(batches[1]!); // a late attempt of an older batch
    expect(await counted()).toEqual(await countsByStatusAndAssignee(db_, accountId));
    await activities().persist(batches[3]!);
    expect(await counted()).toEqual({ [bucketOf(batches[3]!.view)!]: 1 });
    expect(await counted()).toEqual(await countsByStatusAndAssignee(db_, accountId));
  });
});

test('FerretDB is asked to write views by reading, then writing by `_id`', async () => {
  const mongo = await MongoClient.connect(testServers().mongoUri);
  try {
    expect(await conditionalWritesOf(mongo.db('admin'))).toBe('read-then-write');
  } finally {
    await mongo.close();
  }
});
