import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { Document } from 'mongodb';
import type { MessageDoc } from '../../store/collections';
import { legacyLimit, posOf, timelineAfter, timelineNewest } from '../../store/timeline';
import { textRecord } from '../support/message-records';
import { useStoreDatabase } from '../support/store-database';

/**
 * A conversation's timeline in seq order on the embedded FerretDB (store/timeline.ts): pages and the
 * newest records read from `conversation_pos` in its order (never the whole collection), records written
 * before `pos` (without it) still read, in seq order, before those with it.
 */
const env = useStoreDatabase('timeline');

/**
 * A conversation's messages with seq 1..n: the first `legacy` written as before `pos` (without it), the
 * rest as `persist` writes them now; message ids in an order unlike seq's, so `_id` order is not seq order.
 */
async function conversation(n: number, legacy: number, inbound: (seq: number) => boolean = () => true): Promise<{ id: string; docs: MessageDoc[] }> {
  const id = `conv:acc:wa:${randomUUID().slice(0, 8)}`;
  const docs: MessageDoc[] = Array.from({ length: n }, (_, k) => {
    const seq = k + 1;
    const m = textRecord(seq, `message ${seq}`, Date.UTC(2026, 0, 1) + seq * 1000, { messageId: `wamid.${(seq * 7919) % 10007}.${seq}`, direction: inbound(seq) ? 'inbound' : 'outbound' });
    return { _id: `${id}/${m.messageId}`, ...m, conversationId: id, accountId: 'acc', ...(seq <= legacy ? {} : { pos: posOf(seq) }) };
  });
  if (docs.length > 0) await env.c.messages.insertMany(docs);
  return { id, docs };
}

const seqs = (docs: { seq: number }[]) => docs.map((d) => d.seq);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, k) => from + k);

test('pos is the seq as fixed-width decimal: string order is seq order', () => {
  expect(posOf(7)).toBe('0000000000000007');
  fc.assert(fc.property(fc.nat({ max: 2 ** 52 }), fc.nat({ max: 2 ** 52 }), (a, b) => expect(posOf(a) < posOf(b)).toBe(a < b)));
});

test.each([
  ['every record with pos', 0],
  ['every record from before pos', 23],
  ['older records without pos, newer with it', 9],
])('pages in seq order, after and before a seq, with a filter: %s', async (_name, legacy) => {
  const { c } = env;
  const { id } = await conversation(23, legacy, (seq) => seq % 3 !== 0);
  const pages: number[][] = [];
  let after = 0;
  for (;;) {
    const page = await timelineAfter(c.messages, id, after, 5);
    if (page.length === 0) break;
    pages.push(seqs(page));
    after = page.at(-1)!.seq;
  }
  expect(pages.flat()).toEqual(range(1, 23));
  expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
  expect(seqs(await timelineAfter(c.messages, id, 4, 100, { before: 12 }))).toEqual(range(5, 11));
  expect(seqs(await timelineAfter(c.messages, id, 0, 4, { filter: { direction: 'outbound' } }))).toEqual([3, 6, 9, 12]);
  expect(seqs(await timelineNewest(c.messages, id, 4))).toEqual([23, 22, 21, 20]);
  expect(seqs(await timelineNewest(c.messages, id, 3, { filter: { direction: 'outbound' } }))).toEqual([21, 18, 15]);
  expect(seqs(await timelineNewest(c.messages, id, 100))).toEqual(range(1, 23).reverse());
  // A projection keeps what it asks for (and what ordering needs).
  const [newest] = await timelineNewest(c.messages, id, 1, { projection: { messageId: 1 } });
  expect(Object.keys(newest!).sort()).toEqual(['_id', 'messageId', 'seq', ...(legacy === 23 ? [] : ['pos'])].sort());
});

test('any mix of records with and without pos reads as a brute-force sort would', async () => {
  const { c } = env;
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 30 }), fc.nat({ max: 30 }), fc.nat({ max: 31 }), fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 8 }), async (n, legacySeed, after, before, limit) => {
      const legacy = Math.min(n, legacySeed);
      const { id, docs } = await conversation(n, legacy, (seq) => seq % 2 === 0);
      const all = seqs(docs);
      expect(seqs(await timelineAfter(c.messages, id, after, limit))).toEqual(all.filter((s) => s > after).slice(0, limit));
      expect(seqs(await timelineAfter(c.messages, id, after, limit, { before }))).toEqual(all.filter((s) => s > after && s < before).slice(0, limit));
      expect(seqs(await timelineNewest(c.messages, id, limit, { filter: { direction: 'inbound' } }))).toEqual(all.filter((s) => s % 2 === 0).reverse().slice(0, limit));
      expect(seqs(await timelineNewest(c.messages, id, limit, { before }))).toEqual(all.filter((s) => s < before).reverse().slice(0, limit));
    }),
    { numRuns: 25 },
  );
});

test('a page and the newest records are read from conversation_pos in its order: no table scan, no sort', async () => {
  const { id } = await conversation(40, 0);
  const plan = async (filter: Document, sort: Document, limit: number) => {
    const explained = await env.db.command({ explain: { find: 'messages', filter, sort, limit } });
    const lines = explained.queryPlanner.Plan as string[];
    expect(lines.at(-1)).toMatch(/USING INDEX \S+_conversation_pos /);
    expect(lines.filter((line) => /TEMP B-TREE|^SCAN \S+$/.test(line))).toEqual([]);
  };
  await plan({ conversationId: id, pos: { $gt: posOf(10) } }, { pos: 1, _id: 1 }, 500);
  await plan({ conversationId: id, pos: { $exists: false }, seq: { $gt: 0 } }, { pos: 1, _id: 1 }, legacyLimit);
  await plan({ conversationId: id, direction: 'inbound' }, { pos: -1, _id: -1 }, 1);
  await plan({ conversationId: id, pos: { $lt: posOf(30) } }, { pos: -1, _id: -1 }, 500);
});
