import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import type { ApiDeps } from '../../api/deps';
import { searchMessages } from '../../api/search';
import { collections, ensureIndexes } from '../../store/collections';
import type { Collections } from '../../store/collections';
import { messageDocId } from '../../store/ids';
import { searchTermDocsOf, termMembership, termPostings } from '../../store/search-index';
import type { MessageRecord } from '../../workflows/conversation/core/model';
import { matchesAll, wordsOf } from '../../workflows/conversation/core/search-words';
import { followContactPages, storeNamedContacts } from '../support/contact-pages';
import { textRecord } from '../support/message-records';
import { testServers } from '../support/test-servers';

/**
 * Exactness of SPEC 11's search and contacts search as the API runs them (api/search.ts, api/contacts.ts)
 * on the embedded FerretDB, whatever shortcuts they take for speed (the rarest word driving, a range read
 * deciding a batch's candidates, list items carried on name words, an older name's words deleted): every
 * page, followed to the end, gives exactly what the SPEC's rule gives when computed over all the data.
 */
describe('search and contact search pages equal the rule computed over everything', () => {
  let client: MongoClient;
  let db: Db;
  let c: Collections;
  let deps: ApiDeps;
  beforeAll(async () => {
    client = await MongoClient.connect(testServers().mongoUri);
    db = client.db(`search_pages_${randomUUID().slice(0, 8)}`);
    await ensureIndexes(db);
    c = collections(db);
    deps = { collections: c } as unknown as ApiDeps;
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  const t0 = Date.UTC(2026, 11, 7, 9, 0, 0);
  const message = (i: number, text: string): MessageRecord => textRecord(i, text, t0 + i * 1000);

  /** Stores messages with their postings, as `persist` does, in an account of their own. */
  async function storeMessages(accountId: string, texts: readonly string[]) {
    const stored = texts.map((text, i) => ({ conversationId: `conv:${accountId}:wa:49${100 + (i % 3)}`, m: message(i, text) }));
    await c.messages.insertMany(stored.map(({ conversationId, m }) => ({ _id: messageDocId(conversationId, m.messageId), ...m, conversationId, accountId })));
    const postings = stored.flatMap(({ conversationId, m }) => searchTermDocsOf(accountId, conversationId, [m]));
    if (postings.length > 0) await c.searchTerms.insertMany(postings);
    return stored;
  }

  /** Every page of a search, followed to the end: the message ids in order. */
  async function allPages(accountId: string, q: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 500; pages++) {
      const page = await searchMessages(deps, accountId, { q, limit, cursor });
      expect(page.items.length).toBeLessThanOrEqual(limit);
      ids.push(...page.items.map((i) => i.messageId));
      if (page.nextCursor === null) return ids;
      cursor = page.nextCursor;
    }
    throw new Error('search: more than 500 pages');
  }

  const vocabulary = ['pedido', 'pedra', 'peixe', 'alfa', 'beta', 'zebra', 'olá', 'ÁGUA', 'o'];

  it('a search followed page by page finds exactly the messages with every word, newest first', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.constantFrom('pe', 'ped', 'pedido', 'alfa', 'beta', 'ze', 'agua', 'o', 'ol'), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 7 }),
        async (messages, queryWords, limit) => {
          const accountId = `acc${randomUUID().slice(0, 8)}`;
          const stored = await storeMessages(
            accountId,
            messages.map((words) => words.join(' ')),
          );
          const q = queryWords.join(' ');
          if (!queryWords.some((w) => w.length >= 2)) return;
          const expected = stored
            .filter(({ m }) => matchesAll([...new Set(wordsOf(q))], wordsOf(m.text!)))
            .map(({ m }) => m.messageId)
            .reverse();
          expect({ q, ids: await allPages(accountId, q, limit) }).toEqual({ q, ids: expected });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('two common words that seldom meet: every meeting found, each page from a few reads', async () => {
    // 600 messages: "alfa" in even ones, "beta" in odd ones, both in every 150th.
    const accountId = `acc${randomUUID().slice(0, 8)}`;
    await storeMessages(
      accountId,
      Array.from({ length: 600 }, (_, i) => (i % 150 === 75 ? 'alfa beta' : i % 2 === 0 ? 'alfa' : 'beta')),
    );
    expect(await allPages(accountId, 'alfa beta', 2)).toEqual(['wamid.525', 'wamid.375', 'wamid.225', 'wamid.75']);
    expect(await allPages(accountId, 'beta alfa', 10)).toEqual(['wamid.525', 'wamid.375', 'wamid.225', 'wamid.75']);
  });

  it('termMembership decides each candidate by one range read, and by _id beyond what it read', async () => {
    // "aa" in every 10th message, "bb" in every message but a few: far more "bb" than the range read takes.
    const accountId = `acc${randomUUID().slice(0, 8)}`;
    await storeMessages(
      accountId,
      Array.from({ length: 400 }, (_, i) => [i % 10 === 0 ? 'aa' : '', i % 30 === 0 ? '' : 'bb'].join(' ')),
    );
    const candidates = await termPostings(c.searchTerms, accountId, 'aa', undefined, 40);
    expect(candidates).toHaveLength(40);
    const has = await termMembership(c.searchTerms, accountId, 'bb', candidates);
    expect(has).toEqual(candidates.map((p) => Number(p.messageId.slice('wamid.'.length)) % 30 !== 0));
    expect(await termMembership(c.searchTerms, accountId, 'bb', [])).toEqual([]);
    expect(await termMembership(c.searchTerms, accountId, 'zz', candidates)).toEqual(candidates.map(() => false));
  });

  const names = ['Ana Silva', 'Ana Souza', 'Anabela Silva', 'Mariana Santos', 'Maria Mariana', 'Silvana Ana', 'João Alves', 'José Álvarez'];

  it('a name search followed page by page lists exactly the contacts whose name now has every word, once each', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: fc.constantFrom(...names), rename: fc.option(fc.constantFrom(...names), { nil: undefined }) }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.constantFrom('an', 'ana', 'silva', 'mari', 'jo', 's', 'alv', 'souza'), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 5 }),
        async (contacts, queryWords, limit) => {
          const accountId = `acc${randomUUID().slice(0, 8)}`;
          const { current } = await storeNamedContacts(c.contactProfiles, accountId, contacts);
          const q = queryWords.join(' ');
          if (!queryWords.some((w) => w.length >= 2)) return;
          const words = [...new Set(wordsOf(q))];
          const expected = [...current].filter(([, name]) => matchesAll(words, wordsOf(name))).map(([customer, name]) => ({ customer, name }));
          const found = await followContactPages(deps, accountId, q, limit);
          const byCustomer = (a: { customer: string }, b: { customer: string }) => a.customer.localeCompare(b.customer);
          expect({ q, found: [...found].sort(byCustomer) }).toEqual({ q, found: expected.sort(byCustomer) });
        },
      ),
      { numRuns: 30 },
    );
  });
});
