import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import type { PersistBatch } from '../../activities/conversation-activities';
import { createConversationActivities } from '../../activities/conversation-activities';
import { collections, ensureIndexes } from '../../store/collections';
import { editContact, newestContact } from '../../store/contact-profiles';
import { termPostings } from '../../store/search-index';
import { nameOf } from '../../workflows/conversation/core/contact-profile';
import { decide, initialState } from '../../workflows/conversation/core/lifecycle';
import type { ConversationState } from '../../workflows/conversation/core/lifecycle';
import { toBatch } from '../../workflows/conversation/core/batch';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import { quietLog } from '../support/stack';
import { testServers } from '../support/test-servers';

/**
 * What `persist` writes for SPEC 11 against the embedded FerretDB: the search postings of a batch's
 * messages, and the contact, which is not one writer's document: a customer's conversations on two
 * channels persist at the same moment, on their own connections, while a user edits the contact. Every
 * trial must end with one profile holding what all of them told (store/DESIGN.md, "Contacts").
 */
describe('persist keeps search postings and the contact', () => {
  let mongo: MongoClient;
  let db: Db;
  const clients: MongoClient[] = [];

  beforeAll(async () => {
    mongo = await MongoClient.connect(testServers().mongoUri);
    db = mongo.db(`contact_persist_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(db);
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await Promise.all([mongo, ...clients].map((c) => c?.close()));
  });

  /** Activities on their own connection, as two workers (or two runs of persist) would be. */
  async function ownActivities() {
    const client = await MongoClient.connect(testServers().mongoUri, { maxPoolSize: 2 });
    clients.push(client);
    return createConversationActivities({ db: client.db(db.databaseName), log: quietLog, conditionalWrites: 'read-then-write' });
  }

  /** The batch of one customer message on a channel, at `at`. */
  function customerBatch(channel: string, customer: string, at: number, message: { text: string; customerName?: string; attributes?: Record<string, string> }): PersistBatch {
    const state: ConversationState = initialState({ conversationId: `conv:acc:${channel}:${customer}`, accountId: 'acc', channel, customer });
    const d = decide(state, { type: 'customerMessage', message: { messageId: `wamid.${randomUUID()}`, ...message } }, { kind: 'customer' }, defaultPolicy, at);
    if (!d.ok) throw new Error(d.message);
    return toBatch(d.state, defaultPolicy, d.effects);
  }

  test('the messages of a batch are found by each word prefix, newest first', async () => {
    const persist = (await ownActivities()).persist;
    await persist(customerBatch('wa-1', '491700', 1_000, { text: 'Meu pedido não chegou' }));
    await persist(customerBatch('wa-2', '491701', 2_000, { text: 'Pedidos atrasados' }));
    const page = await termPostings(collections(db).searchTerms, 'acc', 'pedido', undefined, 10);
    expect(page.map((p) => p.conversationId)).toEqual(['conv:acc:wa-2:491701', 'conv:acc:wa-1:491700']);
  });

  test('two conversations of one customer and an edit, racing, leave one contact that holds all of it', async () => {
    const [a, b, api] = await Promise.all([ownActivities(), ownActivities(), MongoClient.connect(testServers().mongoUri, { maxPoolSize: 2 })]);
    clients.push(api);
    const editor = collections(api.db(db.databaseName)).contactProfiles;
    for (let trial = 0; trial < 15; trial++) {
      const customer = `4918${String(trial).padStart(4, '0')}`;
      await Promise.all([
        a.persist(customerBatch('wa-1', customer, 1_000, { text: 'oi', customerName: 'Ana', attributes: { plan: 'silver', city: 'Porto' } })),
        b.persist(customerBatch('wa-2', customer, 2_000, { text: 'oi', customerName: 'Ana', attributes: { plan: 'gold' } })),
        // The edit may come before the customer is known (then it changes nothing: 404) or after.
        editContact(editor, 'acc', customer, { at: 1_500, attributes: { vip: 'yes' } }),
      ]);
      await editContact(editor, 'acc', customer, { at: 1_600, attributes: { vip: 'yes' } });
      // The copy readers list from, read before anything could repair it: every writer copied forwards.
      const copy = await collections(db).contactProfiles.profiles.findOne({ _id: `acc/${customer}` });
      const contact = await newestContact(collections(db).contactProfiles, 'acc', customer);
      expect({ trial, name: nameOf(contact), attributes: contact.attributes, channels: contact.channels, firstSeenAt: contact.firstSeenAt }).toEqual({
        trial,
        name: 'Ana',
        attributes: { plan: 'gold', city: 'Porto', vip: 'yes' },
        channels: ['wa-1', 'wa-2'],
        firstSeenAt: 1_000,
      });
      expect(copy?.rev).toBe(contact.rev);
    }
  });

  test('renames racing on separate connections leave exactly the newest name’s words and pairs, each carrying its list item', async () => {
    const persist = (await ownActivities()).persist;
    const editors = await Promise.all([0, 1, 2].map(() => MongoClient.connect(testServers().mongoUri, { maxPoolSize: 2 })));
    clients.push(...editors);
    const [x, y, z] = editors.map((e) => collections(e.db(db.databaseName)).contactProfiles);
    const c = collections(db).contactProfiles;
    for (let trial = 0; trial < 15; trial++) {
      const customer = `4919${String(trial).padStart(4, '0')}`;
      await persist(customerBatch('wa-1', customer, 1_000, { text: 'oi', customerName: 'Primeiro Nome' }));
      await Promise.all([
        editContact(x!, 'acc', customer, { at: 2_000, name: 'Beatriz Costa' }),
        editContact(y!, 'acc', customer, { at: 2_001, name: 'Carolina Dias', attributes: { plan: 'gold' } }),
        editContact(z!, 'acc', customer, { at: 2_002, name: 'Daniela Costa Reis' }),
      ]);
      // The words as the writers left them, read before anything could repair them.
      const words = await c.nameTerms.find({ accountId: 'acc', customer }).toArray();
      const pairs = await c.namePairs.find({ accountId: 'acc', customer }).toArray();
      const contact = await newestContact(c, 'acc', customer);
      expect({ trial, name: nameOf(contact) }).toEqual({ trial, name: 'Daniela Costa Reis' });
      expect({ trial, words: words.map((w) => w.word).sort() }).toEqual({ trial, words: ['costa', 'daniela', 'reis'] });
      expect({ trial, pairs: pairs.map((p) => `${p.first} ${p.second}`).sort() }).toEqual({
        trial,
        pairs: ['costa daniela', 'costa reis', 'daniela costa', 'daniela reis', 'reis costa', 'reis daniela'],
      });
      for (const w of [...words, ...pairs]) expect(w).toMatchObject({ name: 'Daniela Costa Reis', rev: contact.rev, attributes: { plan: 'gold' }, firstSeenAt: 1_000 });
    }
  });
});
