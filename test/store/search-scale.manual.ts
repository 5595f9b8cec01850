import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { ApiDeps } from '../../api/deps';
import { searchMessages } from '../../api/search';
import { collections, ensureIndexes } from '../../store/collections';
import { searchTermDocsOf } from '../../store/search-index';
import type { MessageRecord } from '../../workflows/conversation/core/model';
import { testServers } from '../support/test-servers';
import { benchMessageText } from '../../bench/phases/search';

/**
 * A measure, not a test (run by hand: `npx jest --testMatch '**\/search-scale.manual.ts' test/store/search-scale.manual.ts`):
 * `GET .../search` as the API runs it (api/search.ts) on the embedded FerretDB, with MESSAGES messages of
 * one account (default 5,000), with the bench's texts (bench/phases/search.ts `benchMessageText`), for the bench's queries (or QUERIES, comma-separated).
 * Prints p50 and p99 of 100 pages each, and how many postings the messages made. The bench (later) runs the
 * 1,000,000-message goal; this checks that a page's cost is the page's, not the collection's.
 */
const count = Number(process.env.MESSAGES ?? 5_000);

test(`search pages over ${count} messages`, async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`search_scale_${randomUUID().slice(0, 8)}`);
  try {
    await ensureIndexes(db);
    const c = collections(db);
    const t0 = Date.UTC(2026, 0, 1);
    let postings = 0;
    for (let start = 0; start < count; start += 500) {
      const messages: (MessageRecord & { _id: string; conversationId: string; accountId: string })[] = [];
      const terms = [];
      for (let i = start; i < Math.min(count, start + 500); i++) {
        const conversationId = `conv:acc:wa:49${1000 + (i % 300)}`;
        const m: MessageRecord = { seq: i, messageId: `wamid.${i}`, direction: 'inbound', kind: 'text', text: benchMessageText(i), template: null, content: null, delivery: null, authorId: null, at: t0 + i * 1000, sentAt: null, episode: 1, replyTo: null, attributes: null };
        messages.push({ _id: `${conversationId}/${m.messageId}`, ...m, conversationId, accountId: 'acc' });
        terms.push(...searchTermDocsOf('acc', conversationId, [m]));
      }
      await c.messages.insertMany(messages);
      await c.searchTerms.insertMany(terms);
      postings += terms.length;
    }
    const deps = { collections: c } as unknown as ApiDeps;
    const measure = async (q: string) => {
      const times: number[] = [];
      let items = 0;
      for (let i = 0; i < 100; i++) {
        const started = performance.now();
        const page = await searchMessages(deps, 'acc', { q, limit: 25 });
        times.push(performance.now() - started);
        items = page.items.length;
      }
      times.sort((a, b) => a - b);
      return { q, items, p50: times[49]!.toFixed(1), p99: times[98]!.toFixed(1) };
    };
    const results = [];
    for (const q of (process.env.QUERIES ?? 'pe,zebra,pedido zebra,alfa beta').split(',')) results.push(await measure(q));
    console.log(JSON.stringify({ messages: count, postings, results }, null, 1));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}, 1_800_000);
