import fc from 'fast-check';
import { advanceReadMark, newestReadMark, newestReadMarks, readMarkId, readMarkRevisionId } from '../../store/read-marks';
import { useStoreDatabase } from '../support/store-database';

/**
 * A page's read marks in two reads (`newestReadMarks`) answer what a read of each conversation alone
 * answers, and that is its newest revision, whatever state the copies are in: missing while
 * revisions exist (a writer died between its claim and its copy), lagging by several revisions, set back
 * by two copies landing out of order, or current.
 */
describe('read marks of a page', () => {
  const env = useStoreDatabase('read_marks');
  const userId = 'agent-1';
  let run = 0;

  /** One conversation's marks: `revisions` claimed, and the copy at `copyAt` (0: no copy). */
  const marks = fc.array(
    fc.integer({ min: 0, max: 4 }).chain((revisions) => fc.record({ revisions: fc.constant(revisions), copyAt: fc.integer({ min: 0, max: revisions }) })),
    { minLength: 1, maxLength: 12 },
  );

  it('answers each conversation as a read of its own would', async () => {
    await fc.assert(
      fc.asyncProperty(marks, async (conversations) => {
        const prefix = `conv-${run++}`;
        const ids = conversations.map((_, i) => `${prefix}-${i}`);
        const mark = (conversationId: string, rev: number) => ({ accountId: 'acct', conversationId, userId, rev, readUpToSeq: rev * 10, inboundCountAtRead: rev * 3, readAt: new Date(Date.UTC(2026, 0, 1, 0, 0, rev)) });
        const c = env.c.readMarks;
        const revisionDocs = conversations.flatMap(({ revisions }, i) => Array.from({ length: revisions }, (_, r) => ({ _id: readMarkRevisionId(ids[i]!, userId, r + 1), ...mark(ids[i]!, r + 1) })));
        const copyDocs = conversations.flatMap(({ copyAt }, i) => (copyAt === 0 ? [] : [{ _id: readMarkId(ids[i]!, userId), ...mark(ids[i]!, copyAt) }]));
        if (revisionDocs.length > 0) await c.revisions.insertMany(revisionDocs);
        if (copyDocs.length > 0) await c.marks.insertMany(copyDocs);

        // Asked twice for one conversation, and for one nobody marked: each answered once.
        const asked = [...ids, ids[0]!, `${prefix}-unmarked`];
        const answered = await newestReadMarks(c, asked, userId);
        expect(answered.size).toBe(ids.length + 1);
        for (const id of [...ids, `${prefix}-unmarked`]) expect({ id, mark: answered.get(id) }).toEqual({ id, mark: await newestReadMark(c, id, userId) });
        conversations.forEach(({ revisions }, i) => expect(answered.get(ids[i]!)?.rev ?? 0).toBe(revisions));
      }),
      { numRuns: 40 },
    );
  });

  it('sees a mark moved through advanceReadMark, and nothing for no conversation', async () => {
    const c = env.c.readMarks;
    await expect(newestReadMarks(c, [], userId)).resolves.toEqual(new Map());
    const conversationId = `moved-${run++}`;
    await advanceReadMark(c, { accountId: 'acct', conversationId, userId }, { seq: 4, inboundCount: 2 }, new Date());
    await advanceReadMark(c, { accountId: 'acct', conversationId, userId }, { seq: 7, inboundCount: 3 }, new Date());
    const answered = await newestReadMarks(c, [conversationId], userId);
    expect(answered.get(conversationId)).toMatchObject({ rev: 2, readUpToSeq: 7, inboundCountAtRead: 3 });
  });
});
