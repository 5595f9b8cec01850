import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { collections, ensureIndexes } from '../../store/collections';
import type { MessageDoc } from '../../store/collections';
import { messagesAfter } from '../../store/conversation-views';
import { posOf } from '../../store/timeline';
import { textRecord } from '../support/message-records';
import { testServers } from '../support/test-servers';

/**
 * A measure, not a test (run by hand: `MESSAGES=20000 npx jest --testMatch '**\/timeline-scale.manual.ts' test/store/timeline-scale.manual.ts`):
 * one conversation's first page of 500 messages (as the inbox opens it) among MESSAGES messages of 300
 * conversations on the embedded FerretDB, written with `pos` (as `persist` writes them now) and without
 * (as before): the page's time should not grow with the collection (store/timeline.ts).
 */
const count = Number(process.env.MESSAGES ?? 20_000);

test(`a conversation's timeline page among ${count} messages`, async () => {
  const client = await MongoClient.connect(testServers().mongoUri);
  const db = client.db(`timeline_scale_${randomUUID().slice(0, 8)}`);
  await ensureIndexes(db);
  const c = collections(db);
  for (let start = 0; start < count; start += 1000) {
    const docs: MessageDoc[] = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      const conversationId = `conv:acc:wa:${49000 + (i % 300)}`;
      const m = textRecord(Math.floor(i / 300) + 1, `message ${i}`, Date.UTC(2026, 0, 1) + i * 1000, { messageId: `wamid.${i}` });
      // Every other conversation as written before `pos`.
      docs.push({ _id: `${conversationId}/${m.messageId}`, ...m, conversationId, accountId: 'acc', ...(i % 2 === 0 ? { pos: posOf(m.seq) } : {}) });
    }
    await c.messages.insertMany(docs);
  }
  const measure = async (conversationId: string) => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const page = await messagesAfter(c, conversationId, 0, 500);
      times.push(performance.now() - t);
      expect(page.map((m) => m.seq)).toEqual(Array.from({ length: page.length }, (_, k) => k + 1));
    }
    times.sort((a, b) => a - b);
    return `p50 ${times[10]!.toFixed(1)} ms, max ${times[19]!.toFixed(1)} ms`;
  };
  console.log(`first page of a conversation among ${count} messages: with pos ${await measure('conv:acc:wa:49008')}; without ${await measure('conv:acc:wa:49007')}`);
  await db.dropDatabase();
  await client.close();
}, 600_000);
