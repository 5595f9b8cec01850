import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Db } from 'mongodb';
import { listContacts } from '../../api/contacts';
import type { ApiDeps } from '../../api/deps';
import { ApiError } from '../../api/errors';
import { collections } from '../../store/collections';
import type { Collections } from '../../store/collections';
import { markPairsComplete, recordContactMessages, refreshContactWords } from '../../store/contact-profiles';
import { decisiveWords, listingPair, planPairSearch } from '../../workflows/conversation/core/contact-search';
import { matchesAll, parseContactQuery, wordsOf } from '../../workflows/conversation/core/search-words';
import type { ListedContact } from '../support/contact-pages';
import { followContactPages, storeNamedContacts } from '../support/contact-pages';
import { useStoreDatabase } from '../support/store-database';

/**
 * The contacts search of several words by name pairs (api/contacts.ts `pairSearch`) on the embedded
 * FerretDB: followed page by page it lists exactly the contacts whose current name has every query word
 * (a brute-force filter over all of them), each once, in the documented order; renames leave no stale
 * hit; names too long to pair, contacts written before pairs, and words too common to expand are all
 * still answered exactly.
 */
describe('contacts search by name pairs equals the rule computed over every contact', () => {
  const env = useStoreDatabase('contact_pairs');
  let db: Db;
  let c: Collections;
  let deps: ApiDeps;
  beforeAll(() => {
    ({ db, c } = env);
    deps = { collections: c } as unknown as ApiDeps;
  });

  const followPages = (accountId: string, q: string, limit: number) => followContactPages(deps, accountId, q, limit);
  const storeContacts = (accountId: string, contacts: readonly { name: string; rename?: string | undefined }[]) => storeNamedContacts(c.contactProfiles, accountId, contacts);

  /** What the SPEC's rule gives over all contacts, in the order the API documents for a pair search (or by customer when it reads words). */
  function expectedListing(current: Map<string, string>, written: readonly string[], q: string, pairs: boolean): { listed: ListedContact[]; ordered: boolean } {
    // Digits and spaces alone ("4 4") are a phone number's prefix, not name words (SPEC 11).
    const parsed = parseContactQuery(q);
    if (parsed.kind === 'phone') {
      const byPhone = [...current].filter(([customer]) => customer.startsWith(parsed.digits)).map(([customer, name]) => ({ customer, name }));
      return { listed: byPhone.sort((a, b) => a.customer.localeCompare(b.customer)), ordered: false };
    }
    const words = [...new Set(wordsOf(q))];
    const matching = [...current].filter(([, name]) => matchesAll(words, wordsOf(name))).map(([customer, name]) => ({ customer, name }));
    const decisive = decisiveWords(words);
    const vocabulary = new Set(written.flatMap((n) => wordsOf(n)));
    const plan = pairs
      ? planPairSearch(
          decisive,
          decisive.map((d) => [...vocabulary].filter((w) => w.startsWith(d)).length),
          20,
        )
      : null;
    if (plan === null) return { listed: matching.sort((a, b) => a.customer.localeCompare(b.customer)), ordered: false };
    const key = (l: ListedContact) => {
      const at = listingPair(l.name, plan)!;
      return `${at.first}/${at.second}/${l.customer}`;
    };
    return { listed: matching.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)), ordered: true };
  }

  /** `pairs`: whether the account's contacts all have their pairs (else its searches read name words). */
  async function expectExact(accountId: string, current: Map<string, string>, written: readonly string[], q: string, limit: number, pairs = true) {
    const found = await followPages(accountId, q, limit);
    const { listed, ordered } = expectedListing(current, written, q, pairs);
    const byCustomer = (a: ListedContact, b: ListedContact) => a.customer.localeCompare(b.customer);
    expect({ q, limit, found: ordered ? found : [...found].sort(byCustomer) }).toEqual({ q, limit, found: listed });
  }

  const nameWords = ['Ana', 'ANA', 'Anabela', 'Ánã', 'Silva', 'Silvana', 'Souza', 'João', 'Joana', 'Maria', 'Mariana', 'de', 'Íris', 'x', '42'];
  const generatedName = fc.array(fc.constantFrom(...nameWords), { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
  /** Now and then a name of more than eight distinct words (a long row, not pairs). */
  const longName = fc.constant('Ana Maria de Souza Silva Joana Íris Mariana Anabela x');

  it('a query of two or three words followed page by page lists exactly the matching contacts, once each, in the documented order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: fc.oneof({ weight: 9, arbitrary: generatedName }, { weight: 1, arbitrary: longName }), rename: fc.option(generatedName, { nil: undefined }) }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.constantFrom('an', 'ana', 'anab', 'anã', 'silva', 'silvan', 'so', 'jo', 'joa', 'mari', 'de', 'iris', 'x', '4', 'zz'), { minLength: 2, maxLength: 3 }),
        fc.integer({ min: 1, max: 5 }),
        async (contacts, queryWords, limit) => {
          const accountId = `acc${randomUUID().slice(0, 8)}`;
          const { current, written } = await storeContacts(accountId, contacts);
          await expectExact(accountId, current, written, queryWords.join(' '), limit);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('a long name is merged in at its listing pair, between paired names, across pages', async () => {
    const accountId = `acc${randomUUID().slice(0, 8)}`;
    const names = ['Ana Silva', 'Ana Silvana Reis', 'Zeca Ana Silva Um Dois Tres Quatro Cinco Seis', 'Anabela Silva', 'Ana Souza', 'Silva Ana Anabela Um Dois Tres Quatro Cinco Seis'];
    const { current, written } = await storeContacts(
      accountId,
      names.map((name) => ({ name })),
    );
    for (const limit of [1, 2, 3, 10]) await expectExact(accountId, current, written, 'silva ana', limit);
    // "silva" and "ana" each prefix two words of the account: the longer is expanded, so by (silva…, ana…, customer).
    expect((await followPages(accountId, 'ana silva', 10)).map((l) => l.name)).toEqual([
      'Ana Silva',
      'Zeca Ana Silva Um Dois Tres Quatro Cinco Seis',
      'Silva Ana Anabela Um Dois Tres Quatro Cinco Seis',
      'Anabela Silva',
      'Ana Silvana Reis',
    ]);
  });

  it('a name with several words each query word prefixes is listed once, at its smallest of each', async () => {
    const accountId = `acc${randomUUID().slice(0, 8)}`;
    const names = ['Ana Anabela Silva', 'Silva Silvana Ana', 'Anabela Silvana Ana Silva', 'Ana Silva', 'Silvana Anabela'];
    const { current, written } = await storeContacts(
      accountId,
      names.map((name) => ({ name })),
    );
    for (const q of ['silva an', 'an silva', 'si ana', 'silvana an']) for (const limit of [1, 2, 10]) await expectExact(accountId, current, written, q, limit);
    expect((await followPages(accountId, 'silva an', 10)).map((l) => l.name)).toEqual(['Ana Anabela Silva', 'Silva Silvana Ana', 'Anabela Silvana Ana Silva', 'Ana Silva', 'Silvana Anabela']);
  });

  it('words too common to expand, and contacts written before pairs, are answered by name words, exactly; the backfill writes the pairs', async () => {
    const accountId = `acc${randomUUID().slice(0, 8)}`;
    // 24 distinct words starting with "a" and with "b": neither expands under the probe of 20.
    const contacts = Array.from({ length: 24 }, (_, i) => ({ name: `a${i} b${i}${i % 3 === 0 ? ' cc' : ''}` }));
    const { current, written } = await storeContacts(accountId, contacts);
    await expectExact(accountId, current, written, 'a b', 5);
    await expectExact(accountId, current, written, 'a cc', 4);

    // An account from before pairs: its contacts have no pairs, it has no vocabulary and no mark.
    const old = `acc${randomUUID().slice(0, 8)}`;
    const stored = await storeNamedContacts(c.contactProfiles, old, contacts, { pairsComplete: false });
    await c.contactProfiles.namePairs.deleteMany({ accountId: old });
    await c.contactProfiles.nameWords.deleteMany({ accountId: old });
    const before = await followPages(old, 'cc a1', 3);
    expect(before.map((l) => l.name).sort()).toEqual(['a12 b12 cc', 'a15 b15 cc', 'a18 b18 cc']);
    // A contact written since shares their words (its pairs and the account's words written): the older
    // contacts are still all found, by name words, until the backfill.
    const olderContacts = [...stored.current.keys()];
    // (In a process of its own, which has not seen these words: store/contact-profiles.ts knownWords.)
    await recordContactMessages(collections(db).contactProfiles, { accountId: old, channel: 'wa', customer: '49179999' }, 'cc a1', [{ at: 9_000, attributes: null }]);
    stored.current.set('49179999', 'cc a1');
    stored.written.push('cc a1');
    expect(await c.contactProfiles.nameWords.countDocuments({ accountId: old })).toBe(2);
    await expectExact(old, stored.current, stored.written, 'cc a1', 3, false);
    // The backfill, in a process of its own too.
    const backfill = collections(db).contactProfiles;
    for (const customer of olderContacts) expect(await refreshContactWords(backfill, old, customer)).toBe(true);
    for (const customer of stored.current.keys()) expect(await refreshContactWords(backfill, old, customer)).toBe(false);
    await markPairsComplete(backfill, [old]);
    expect(await c.contactProfiles.namePairs.countDocuments({ accountId: old, customer: '49170000' })).toBe(6);
    expect(await c.contactProfiles.nameWords.countDocuments({ accountId: old })).toBe(24 * 2 + 1);
    await expectExact(old, stored.current, stored.written, 'cc a1', 2);
  });

  it('a renamed contact is found by its new name only; a cursor of another query answers 400 naming it', async () => {
    const accountId = `acc${randomUUID().slice(0, 8)}`;
    const { current, written } = await storeContacts(accountId, [
      { name: 'Ana Silva', rename: 'Beatriz Souza' },
      { name: 'Ana Silva' },
      { name: 'Ana Silveira', rename: 'Ana Silva Costa' },
    ]);
    await expectExact(accountId, current, written, 'ana silva', 1);
    await expectExact(accountId, current, written, 'souza bea', 1);
    const first = await listContacts(deps, accountId, { q: 'ana silva', limit: 1 });
    expect(first.nextCursor).not.toBeNull();
    await expect(listContacts(deps, accountId, { q: 'ana costa', limit: 1, cursor: first.nextCursor! })).rejects.toBeInstanceOf(ApiError);
    await expect(listContacts(deps, accountId, { q: 'ana', limit: 1, cursor: first.nextCursor! })).rejects.toMatchObject({ message: expect.stringContaining('cursor') });
  });
});
