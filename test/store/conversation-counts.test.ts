import { randomUUID } from 'node:crypto';
import type { ConversationDoc } from '../../store/collections';
import { backfillCounts, markMarginMs, readCounts, recordCountMove, repackAfterMoves, startCounts } from '../../store/conversation-counts';
import { countsByStatusAndAssignee } from '../../store/conversation-views';
import type { Bucket } from '../../workflows/conversation/core/conversation-counts';
import { bucketParts } from '../../workflows/conversation/core/conversation-counts';
import { useStoreDatabase } from '../support/store-database';

/**
 * The tab counts against FerretDB (store/conversation-counts.ts): moves chained by `_id`, packs read
 * with the moves since their mark, and the baseline of an account from before the counts were kept
 * equal to a scan of its views.
 */
describe('conversation counts in the store', () => {
  const env = useStoreDatabase('counts');
  const account = () => `acct-${randomUUID().slice(0, 8)}`;
  const inTime: { notAfter: number; now?: () => Date } = { notAfter: Number.MAX_SAFE_INTEGER };
  // A conversation's id holds its account, as the product's do (a move's `_id` starts with it).
  const move = (accountId: string, conversation: string, from: Bucket, to: Bucket, fromVersion: number, toVersion: number, options = inTime) =>
    recordCountMove(env.c.counts, { accountId, conversationId: conversation.startsWith('conv:') ? conversation : `conv:${accountId}:${conversation}` }, { from, to, fromVersion, toVersion }, options);
  /** A view as `persist` leaves it, in the bucket given (null: archived). */
  const view = (accountId: string, n: number, version: number, bucket: Bucket): ConversationDoc => {
    const { status, assigneeId } = bucket === null ? { status: 'closed', assigneeId: null } : bucketParts(bucket);
    return { _id: `conv:${accountId}:wa:${n}`, accountId, version, status, assigneeId, archived: bucket === null } as unknown as ConversationDoc;
  };

  test('an account without a baseline has no kept counts; a new one starts at zero and follows its moves', async () => {
    const a = account();
    expect(await readCounts(env.c.counts, a)).toBeNull();
    await startCounts(env.c.counts, a);
    expect(await readCounts(env.c.counts, a)).toEqual({});
    await move(a, 'c1', null, 'open/', 0, 1);
    await move(a, 'c2', null, 'open/', 0, 1);
    await move(a, 'c1', 'open/', 'assigned/agent-a', 1, 2);
    await move(a, 'c2', 'open/', null, 1, 3);
    expect(await readCounts(env.c.counts, a)).toEqual({ 'assigned/agent-a': 1 });
  });

  test('a move from a version already moved from continues from where the stored one ended', async () => {
    const a = account();
    await startCounts(env.c.counts, a);
    await move(a, 'c1', null, 'open/', 0, 1);
    // An attempt moved it to agent A at version 3 and died before its view; the retry, a larger batch,
    // takes it to agent B at version 5 from the same stored view (version 1).
    await move(a, 'c1', 'open/', 'assigned/agent-a', 1, 3);
    await move(a, 'c1', 'open/', 'assigned/agent-b', 1, 5);
    expect(await readCounts(env.c.counts, a)).toEqual({ 'assigned/agent-b': 1 });
    // The same batch again (a retry after the first attempt wrote its moves) changes nothing.
    await move(a, 'c1', 'open/', 'assigned/agent-b', 1, 5);
    // A batch that ends where the view started, with a transition in between: it looks and moves it back.
    await move(a, 'c1', 'assigned/agent-b', 'assigned/agent-b', 5, 7);
    expect(await readCounts(env.c.counts, a)).toEqual({ 'assigned/agent-b': 1 });
    expect(await env.c.counts.moves.countDocuments({ accountId: a })).toBe(3);
  });

  test('an attempt past its time inserts nothing and fails (its batch is retried)', async () => {
    const a = account();
    await startCounts(env.c.counts, a);
    await expect(move(a, 'c1', null, 'open/', 0, 1, { notAfter: Date.now() - 1 })).rejects.toThrow(/past its time/);
    expect(await readCounts(env.c.counts, a)).toEqual({});
  });

  test('a read that meets many moves packs them, and the reads after start from the pack and give the same', async () => {
    const a = account();
    await startCounts(env.c.counts, a);
    const t0 = Date.now() - 10 * markMarginMs;
    const at = (ms: number) => ({ notAfter: Number.MAX_SAFE_INTEGER, now: () => new Date(t0 + ms) });
    const n = repackAfterMoves + 20;
    for (let i = 0; i < n; i++) await move(a, `c${i}`, null, i % 3 === 0 ? 'open/' : 'assigned/agent-a', 0, 1, at(i));
    // Ten more after the new pack's mark: the next read takes them from the tail.
    for (let i = 0; i < 10; i++) await move(a, `c${i * 3}`, 'open/', null, 1, 2, at(9 * markMarginMs + i));
    const expected = { 'assigned/agent-a': n - Math.ceil(n / 3), 'open/': Math.ceil(n / 3) - 10 };
    expect(await readCounts(env.c.counts, a, () => new Date(t0 + 10 * markMarginMs))).toEqual(expected);
    const packs = await env.c.counts.packs.find({ accountId: a }).sort({ _id: 1 }).toArray();
    expect(packs.map((p) => p.mark)).toEqual([new Date(0).toISOString(), new Date(t0 + 9 * markMarginMs).toISOString()]);
    expect(await readCounts(env.c.counts, a)).toEqual(expected);
  });

  test('moves of the last minute never make a pack, however many (a busy account would pack at every read)', async () => {
    const a = account();
    await startCounts(env.c.counts, a);
    const now = Date.now();
    for (let i = 0; i < repackAfterMoves + 20; i++) await move(a, `c${i}`, null, 'open/', 0, 1, { notAfter: Number.MAX_SAFE_INTEGER, now: () => new Date(now - 1_000 + i) });
    expect(await readCounts(env.c.counts, a, () => new Date(now))).toEqual({ 'open/': repackAfterMoves + 20 });
    expect(await env.c.counts.packs.countDocuments({ accountId: a })).toBe(1);
  });

  test('the backfill counts an account from before, moves written before and during it included, equal to a scan of its views', async () => {
    const a = account();
    const views = [view(a, 1, 4, 'open/'), view(a, 2, 2, 'assigned/agent-a'), view(a, 3, 9, null), view(a, 4, 1, 'snoozed/agent-b')];
    await env.c.conversations.insertMany(views);
    // Conversation 1 moved after the workers wrote moves, before the scan: its view already shows it.
    await move(a, views[0]!._id, 'assigned/agent-a', 'open/', 3, 4);
    // Conversation 5 was created since: its first move is from version 0 and its view is there too.
    await move(a, `conv:${a}:wa:5`, null, 'open/', 0, 1);
    await env.c.conversations.insertOne(view(a, 5, 1, 'open/'));
    expect(await backfillCounts(env.c, a)).toEqual({ written: true, conversations: 5, moves: 2 });
    // Conversation 2 moves after the scan.
    await move(a, views[1]!._id, 'assigned/agent-a', 'closed/agent-a', 2, 3);
    await env.c.conversations.updateOne({ _id: views[1]!._id }, { $set: { version: 3, status: 'closed' } });
    expect(await readCounts(env.c.counts, a)).toEqual(await countsByStatusAndAssignee(env.c, a));
    expect(await readCounts(env.c.counts, a)).toEqual({ 'open/': 2, 'closed/agent-a': 1, 'snoozed/agent-b': 1 });
    expect((await backfillCounts(env.c, a)).written).toBe(false);
  });
});
