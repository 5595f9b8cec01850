import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { ensureIndexes } from '../../store/collections';
import type { MentionDoc } from '../../store/mentions';
import { mentionDocsOf, mentionsPage } from '../../store/mentions';
import { testServers } from '../support/test-servers';

/**
 * SPEC 10's `GET .../mentions` on the embedded FerretDB: a user's page and the next are read from the
 * `account_user_newest` index in its order (the top-N pushdown, dev/ferretdb-pushdown/README.md), not by
 * reading the collection, and come newest first with the cursor continuing where the page ended.
 */
describe('mentions on FerretDB', () => {
  it('pages a user’s mentions newest first from the index, without a table scan or a sort', async () => {
    const client = await MongoClient.connect(testServers().mongoUri);
    const db = client.db(`mentions_${randomUUID().slice(0, 8)}`);
    try {
      await ensureIndexes(db);
      const mentions = db.collection<MentionDoc>('mentions');
      const t0 = Date.UTC(2026, 11, 6, 12, 0, 0);
      const note = (i: number, userIds: string[]) => ({
        seq: i,
        messageId: `note-${i}`,
        direction: 'internal' as const,
        kind: 'note' as const,
        text: `note ${i}`,
        template: null,
        content: null,
        delivery: null,
        authorId: 'ana',
        at: t0 + i * 1000,
        sentAt: null,
        episode: 1,
        replyTo: null,
        attributes: null,
        mentions: userIds,
      });
      const docs = Array.from({ length: 40 }, (_, i) => mentionDocsOf('acc', `conv:acc:wa:${1000 + (i % 3)}`, [note(i, i % 2 ? ['bo', 'cy'] : ['bo'])])).flat();
      await mentions.insertMany(docs);

      const first = await mentionsPage(mentions, 'acc', 'bo', undefined, 5);
      expect(first.map((d) => d.messageId)).toEqual(['note-39', 'note-38', 'note-37', 'note-36', 'note-35', 'note-34']);
      const next = await mentionsPage(mentions, 'acc', 'bo', first[4]!._id, 5);
      expect(next.map((d) => d.messageId)).toEqual(['note-34', 'note-33', 'note-32', 'note-31', 'note-30', 'note-29']);
      expect((await mentionsPage(mentions, 'acc', 'cy', undefined, 100)).every((d) => d.userId === 'cy' && Number(d.messageId.slice(5)) % 2 === 1)).toBe(true);

      for (const filter of [{ accountId: 'acc', userId: 'bo' }, { accountId: 'acc', userId: 'bo', _id: { $lt: first[4]!._id } }]) {
        const explained = await db.command({ explain: { find: 'mentions', filter, sort: { _id: -1 }, limit: 6 } });
        const plan = explained.queryPlanner.Plan as string[];
        expect(plan.at(-1)).toMatch(/USING INDEX \S+_account_user_newest /);
        expect(plan.filter((line) => /TEMP B-TREE|^SCAN \S+$/.test(line))).toEqual([]);
      }
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});
