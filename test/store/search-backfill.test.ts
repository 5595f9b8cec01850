import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { collections, ensureIndexes } from '../../store/collections';
import type { Collections } from '../../store/collections';
import { newestContact, pairsAreComplete } from '../../store/contact-profiles';
import { searchTermDocsOf, termPostings } from '../../store/search-index';
import { backfillSearchAndContacts } from '../../store/search-backfill';
import type { MessageRecord } from '../../workflows/conversation/core/model';
import { textRecord } from '../support/message-records';
import { testServers } from '../support/test-servers';

/**
 * `npm run backfill:search` (store/search-backfill.ts) on the embedded FerretDB: messages recorded before
 * SPEC 11's postings and profiles were kept become searchable and tell their contacts, a dry run writes
 * nothing, and a second run changes nothing.
 */
describe('the search and contacts backfill', () => {
  let client: MongoClient;
  let db: Db;
  let c: Collections;
  beforeAll(async () => {
    client = await MongoClient.connect(testServers().mongoUri);
    db = client.db(`backfill_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(db);
    c = collections(db);
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  const t0 = Date.UTC(2026, 10, 1, 12, 0, 0);
  const message = (seq: number, direction: 'inbound' | 'outbound', text: string, attributes: Record<string, string> | null = null): MessageRecord =>
    textRecord(seq, text, t0 + seq * 60_000, direction === 'inbound' ? { attributes } : { direction, messageId: `out-${seq}`, authorId: 'ana', attributes });

  test('a dry run writes nothing; a run indexes every message and makes the contacts with their name words; a second run changes nothing but words written before they carried the item', async () => {
    const conversations = {
      'conv:acc:wa-1:4911': [message(1, 'inbound', 'Olá, o pedido chegou?', { plan: 'silver' }), message(2, 'outbound', 'Ainda não, amanhã'), message(3, 'inbound', 'ok', { plan: 'gold' })],
      'conv:acc:wa-2:4911': [message(5, 'inbound', 'Outro número, mesmo pedido')],
    };
    for (const [conversationId, messages] of Object.entries(conversations)) {
      await c.messages.insertMany(messages.map((m) => ({ _id: `${conversationId}/${m.messageId}`, ...m, conversationId, accountId: 'acc' })));
    }
    await c.conversations.insertOne({ _id: 'conv:acc:wa-1:4911', customerName: 'Joana' } as never);
    // An account from before name pairs: a complete run marks it, so its searches of several words read them.
    await c.accounts.insertOne({ _id: 'acc', name: 'Acc' } as never);
    const expectedPostings = Object.entries(conversations).flatMap(([id, messages]) => searchTermDocsOf('acc', id, messages)).length;

    const dry = await backfillSearchAndContacts(c, { dryRun: true, chunk: 2 });
    expect(dry).toEqual({ messages: 4, postings: expectedPostings, conversations: 2, contactsChanged: 0 });
    expect(await c.searchTerms.countDocuments({})).toBe(0);
    expect((await newestContact(c.contactProfiles, 'acc', '4911')).rev).toBe(0);
    expect(await pairsAreComplete(c.contactProfiles, 'acc')).toBe(false);

    const run = await backfillSearchAndContacts(c, { dryRun: false, chunk: 2 });
    expect(await pairsAreComplete(c.contactProfiles, 'acc')).toBe(true);
    expect(run).toMatchObject({ messages: 4, postings: expectedPostings, conversations: 2 });
    expect((await termPostings(c.searchTerms, 'acc', 'pedido', undefined, 10)).map((p) => p.conversationId)).toEqual(['conv:acc:wa-2:4911', 'conv:acc:wa-1:4911']);
    const contact = await newestContact(c.contactProfiles, 'acc', '4911');
    expect(contact).toMatchObject({ providerName: 'Joana', attributes: { plan: 'gold' }, firstSeenAt: t0 + 60_000, channels: ['wa-1', 'wa-2'] });

    const words = () => c.contactProfiles.nameTerms.find({ accountId: 'acc', customer: '4911' }).sort({ _id: 1 }).toArray();
    expect(await words()).toEqual([{ _id: 'acc/joana/4911', accountId: 'acc', word: 'joana', customer: '4911', name: 'Joana', rev: contact.rev, attributes: { plan: 'gold' }, firstSeenAt: t0 + 60_000 }]);
    // Words as written before they carried the list item, and an older name's word: a run writes them again.
    await c.contactProfiles.nameTerms.replaceOne({ _id: 'acc/joana/4911' }, { accountId: 'acc', word: 'joana', customer: '4911', name: 'Joana' });
    await c.contactProfiles.nameTerms.insertOne({ _id: 'acc/velha/4911', accountId: 'acc', word: 'velha', customer: '4911' });

    const again = await backfillSearchAndContacts(c, { dryRun: false, chunk: 2 });
    expect((await words()).map((w) => [w._id, w.rev])).toEqual([['acc/joana/4911', contact.rev]]);
    expect(again.contactsChanged).toBe(0);
    expect((await newestContact(c.contactProfiles, 'acc', '4911')).rev).toBe(contact.rev);
  });
});
