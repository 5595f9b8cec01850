import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db, Document } from 'mongodb';
import { ensureIndexes } from '../../store/collections';
import { contactCollections, customerNameTerms, longNameRows, namePairsPage, nameTermsPage, nameWordsPage, profilesPage } from '../../store/contact-profiles';
import { searchTermDocsOf, searchTerms, termPostings } from '../../store/search-index';
import { textRecord } from '../support/message-records';
import { testServers } from '../support/test-servers';

/**
 * SPEC 11's search and contact lists on the embedded FerretDB: every page is read from its index in the
 * index's order (the top-N pushdown, dev/ferretdb-pushdown/README.md), never by reading the collection or
 * sorting it, so its cost does not grow with the number of messages or contacts (store/DESIGN.md "Search").
 */
describe('search and contacts on FerretDB', () => {
  let client: MongoClient;
  let db: Db;
  beforeAll(async () => {
    client = await MongoClient.connect(testServers().mongoUri);
    db = client.db(`search_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(db);
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  /** SQLite's plan of a find, through FerretDB's explain: from the named index, no table scan, no sort. */
  async function expectIndexedPage(collection: string, filter: Document, sort: Document, limit: number, index: string) {
    const explained = await db.command({ explain: { find: collection, filter, sort, limit } });
    const plan = explained.queryPlanner.Plan as string[];
    expect(plan.at(-1)).toMatch(new RegExp(`USING INDEX \\S+_${index} `));
    expect(plan.filter((line) => /TEMP B-TREE|^SCAN \S+$/.test(line))).toEqual([]);
  }

  it('pages a term’s postings newest first from account_term_newest', async () => {
    const t0 = Date.UTC(2026, 11, 7, 9, 0, 0);
    const message = (i: number, text: string) => textRecord(i, text, t0 + i * 1000);
    const docs = Array.from({ length: 60 }, (_, i) => searchTermDocsOf('acc', `conv:acc:wa:${1000 + (i % 4)}`, [message(i, i % 3 === 0 ? 'Pedido atrasado' : 'Olá, tudo bem?')])).flat();
    const terms = searchTerms(db);
    await terms.insertMany(docs);

    const first = await termPostings(terms, 'acc', 'ped', undefined, 5);
    expect(first.map((d) => d.messageId)).toEqual(['wamid.57', 'wamid.54', 'wamid.51', 'wamid.48', 'wamid.45']);
    const next = await termPostings(terms, 'acc', 'ped', first.at(-1)!._id, 5);
    expect(next.map((d) => d.messageId)).toEqual(['wamid.42', 'wamid.39', 'wamid.36', 'wamid.33', 'wamid.30']);
    expect(await termPostings(terms, 'other', 'ped', undefined, 5)).toEqual([]);

    await expectIndexedPage('search_terms', { accountId: 'acc', term: 'ped' }, { _id: -1 }, 6, 'account_term_newest');
    await expectIndexedPage('search_terms', { accountId: 'acc', term: 'ped', _id: { $lt: first.at(-1)!._id } }, { _id: -1 }, 6, 'account_term_newest');
    // A batch's candidates checked for another term: one range of its postings, both ends bounded (termMembership).
    await expectIndexedPage('search_terms', { accountId: 'acc', term: 'tu', _id: { $gte: `acc/tu/${next.at(-1)!._id.split('/').slice(2).join('/')}`, $lte: `acc/tu/${first[0]!._id.split('/').slice(2).join('/')}` } }, { _id: -1 }, 11, 'account_term_newest');
  });

  it('reads a phone prefix and a name word prefix as ranges of _id from account_id', async () => {
    const c = contactCollections(db);
    const customers = Array.from({ length: 30 }, (_, i) => `49151${String(i).padStart(4, '0')}`);
    await c.profiles.insertMany(
      customers.map((customer) => ({
        _id: `acc/${customer}`,
        accountId: 'acc',
        customer,
        rev: 1,
        editedName: null,
        editedNameAt: null,
        providerName: 'Ana',
        providerNameAt: 1,
        attributes: {},
        attributeAt: {},
        firstSeenAt: 1,
        channels: ['wa'],
        name: 'Ana',
        updatedAt: new Date(),
      })),
    );
    await c.nameTerms.insertMany(customers.flatMap((customer, i) => [`ana`, i % 2 ? 'anabela' : 'silva'].map((word) => ({ _id: `acc/${word}/${customer}`, accountId: 'acc', word, customer }))));

    const phones = await profilesPage(c, 'acc', { from: 'acc/49151000', to: 'acc/49151001' }, undefined, 100);
    expect(phones.map((p) => p.customer)).toEqual(customers.slice(0, 10));
    const afterFirst = await profilesPage(c, 'acc', { from: 'acc/49151000', to: 'acc/49151001' }, phones[4]!._id, 3);
    expect(afterFirst.map((p) => p.customer)).toEqual(customers.slice(5, 8));

    const words = await nameTermsPage(c, 'acc', { from: 'acc/ana', to: 'acc/anb' }, undefined, 100);
    expect(words.map((w) => w.word)).toEqual([...Array(30).fill('ana'), ...Array(15).fill('anabela')]);
    const later = await nameTermsPage(c, 'acc', { from: 'acc/ana', to: 'acc/anb' }, words[29]!._id, 2);
    expect(later.map((w) => [w.word, w.customer])).toEqual([
      ['anabela', customers[1]],
      ['anabela', customers[3]],
    ]);

    await expectIndexedPage('contact_profiles', { accountId: 'acc', _id: { $gte: 'acc/49151000', $lt: 'acc/49151001' } }, { _id: 1 }, 11, 'account_id');
    await expectIndexedPage('contact_name_terms', { accountId: 'acc', _id: { $gt: words[29]!._id, $lt: 'acc/anb' } }, { _id: 1 }, 3, 'account_id');
    // A copy lists its customer's words to delete an older name's (store/contact-profiles.ts writeCopy).
    await expectIndexedPage('contact_name_terms', { accountId: 'acc', customer: customers[3] }, { _id: 1 }, 500, 'account_customer');
    expect((await customerNameTerms(c, 'acc', customers[3]!)).map((t) => t._id)).toEqual([`acc/ana/${customers[3]}`, `acc/anabela/${customers[3]}`]);
  });

  it('reads name pairs, long rows and the account’s words from their indexes in order (the search of several words)', async () => {
    const c = contactCollections(db);
    const customers = Array.from({ length: 40 }, (_, i) => `49152${String(i).padStart(3, '0')}`);
    const item = { name: 'x', rev: 1, attributes: {}, firstSeenAt: 1 };
    const pairs = customers.flatMap((customer, i) => (i % 10 === 9 ? [['', '']] : [['silva', i % 2 ? 'ana' : 'anabela'], [i % 2 ? 'ana' : 'anabela', 'silva']]).map(([first, second]) => ({ _id: `acc/${first}/${second}/${customer}`, accountId: 'acc', first: first!, second: second!, customer, ...item })));
    await c.namePairs.insertMany(pairs);
    await c.nameWords.insertMany(['ana', 'anabela', 'silva', 'silvana'].map((word) => ({ _id: `acc/${word}`, accountId: 'acc', word })));

    const page = await namePairsPage(c, 'acc', { from: 'acc/silva/ana', to: 'acc/silva/anb' }, undefined, 100);
    expect(page.map((p) => [p.second, p.customer])).toEqual([...customers.filter((_, i) => i % 10 !== 9 && i % 2 === 1).map((cu) => ['ana', cu]), ...customers.filter((_, i) => i % 10 !== 9 && i % 2 === 0).map((cu) => ['anabela', cu])]);
    expect((await longNameRows(c, 'acc', 200)).map((p) => p.customer)).toEqual(customers.filter((_, i) => i % 10 === 9));
    expect((await nameWordsPage(c, 'acc', { from: 'acc/an', to: 'acc/ao' }, undefined, 20)).map((w) => w.word)).toEqual(['ana', 'anabela']);

    await expectIndexedPage('contact_name_pairs', { accountId: 'acc', _id: { $gt: page[3]!._id, $lt: 'acc/silva/anb' } }, { _id: 1 }, 26, 'account_id');
    await expectIndexedPage('contact_name_pairs', { accountId: 'acc', customer: customers[3] }, { _id: 1 }, 500, 'account_customer');
    await expectIndexedPage('contact_name_words', { accountId: 'acc', _id: { $gte: 'acc/an', $lt: 'acc/ao' } }, { _id: 1 }, 20, 'account_id');
  });
});
