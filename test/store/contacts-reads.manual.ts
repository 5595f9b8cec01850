import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { MongoClient } from 'mongodb';
import { listContacts } from '../../api/contacts';
import type { ApiDeps } from '../../api/deps';
import { collections, ensureIndexes } from '../../store/collections';
import { contactCopyDocs, insertContactCopies, namePairsPage, nameTermsPage } from '../../store/contact-profiles';
import { applyContactChange, unknownContact } from '../../workflows/conversation/core/contact-profile';
import { benchContactName } from '../../bench/phases/search';
import { testServers } from '../support/test-servers';

/**
 * A measure, not a test (by hand: `npx jest --testMatch '**\/contacts-reads.manual.ts' test/store/contacts-reads.manual.ts`):
 * where a contacts name search page's time goes on the embedded FerretDB at CONTACTS contacts (default
 * 100,000, the bench's names, inserted as the documents `recordContactMessages` writes): one indexed
 * read of `contact_name_terms` returning 0, 1, 25, 100 and 200 documents (per-query overhead against
 * per-document cost), and the API's pages for the bench's queries.
 */
const count = Number(process.env.CONTACTS ?? 100_000);

test(`contact name reads over ${count} contacts`, async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`contacts_reads_${randomUUID().slice(0, 8)}`);
  try {
    await ensureIndexes(db);
    const c = collections(db).contactProfiles;
    for (let start = 0; start < count; start += 1_000) {
      const copies: ReturnType<typeof contactCopyDocs>[] = [];
      for (let i = start; i < Math.min(count, start + 1_000); i++) {
        const customer = `55${String(11_900_000_000 + i * 7919)}`;
        const profile = { ...applyContactChange(unknownContact, { kind: 'messages', channel: 'wa', providerName: benchContactName(i), messages: [{ at: 1_000 + i, attributes: { plan: 'basic' } }] })!, rev: 1 };
        copies.push(contactCopyDocs('acc', customer, profile, new Date()));
      }
      await insertContactCopies(c, copies);
    }
    const time = async (label: string, fn: () => Promise<unknown>, n = 60) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        await fn();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return `${label}: p50 ${times[Math.floor(n / 2)]!.toFixed(1)} p90 ${times[Math.floor(n * 0.9)]!.toFixed(1)}`;
    };
    const range = { from: 'acc/silva', to: 'acc/silvb' };
    const lines: string[] = [];
    lines.push(await time('terms 0 docs (empty range)', () => nameTermsPage(c, 'acc', { from: 'acc/zz', to: 'acc/zz0' }, undefined, 26)));
    for (const n of [1, 26, 100, 200]) lines.push(await time(`terms ${n} docs`, () => nameTermsPage(c, 'acc', range, undefined, n)));
    lines.push(await time('terms 200 docs, _id only', () => c.nameTerms.find({ accountId: 'acc', _id: { $gte: range.from, $lt: range.to } }, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(200).toArray()));
    const deps = { collections: collections(db) } as unknown as ApiDeps;
    lines.push(await time('pairs 26 docs', () => namePairsPage(c, 'acc', { from: 'acc/silva/ana', to: 'acc/silva/anb' }, undefined, 26)));
    for (const q of ['silva ana', 'ana silva', 'an', 'zuleika']) lines.push(await time(`page "${q}"`, () => listContacts(deps, 'acc', { q, limit: 25 })));
    console.log(JSON.stringify({ contacts: count, load: os.loadavg(), lines }, null, 1));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}, 1_800_000);
