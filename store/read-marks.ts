import type { Collection, Db } from 'mongodb';
import { readMarkId, readMarkRevisionId } from './ids';
import type { Revisions } from './revisions';
import { decideAndClaim, readForwards } from './revisions';
import { insertNew, replaceWhole } from './writes';
import type { ReadPoint } from './conversation-views';

export { readMarkId, readMarkRevisionId };

/**
 * "Read up to" per conversation per user (issue 22, item 5): how far into a conversation's timeline a
 * user has read, as the `seq` of a message. Separate from the conversation's `unreadCount`, which is
 * the customer-facing count the workflow keeps (SPEC section 5).
 *
 * A mark only moves forwards, also when two tabs of one user mark at the same moment, possibly through
 * two API processes. On FerretDB a filtered update (`{ readUpToSeq: { $lt } }`) or a `$max` is a read
 * then a whole-document write (store/DESIGN.md), so either can set the mark back. So, as for profile
 * changes (store/user-revisions.ts), each move claims the next revision insert-once,
 * `{conversationId}/{userId}/{rev}`, holding a seq at least the previous revision's (its writer read
 * that one and nothing was claimed after it, or its insert would have collided). The mark document
 * `{conversationId}/{userId}` is a copy of a recent revision, where readers start; they read forwards
 * from it by `_id` (the one filter FerretDB answers from its index), so a copy that lags or was set
 * back by two copies landing out of order is never what they answer.
 */
export interface ReadMarkDoc {
  _id: string; // readMarkId(conversationId, userId)
  accountId: string;
  conversationId: string;
  userId: string;
  rev: number;
  readUpToSeq: number;
  /**
   * The conversation's `inboundCount` through the message at `readUpToSeq` (that message's own
   * `inboundCount`), so `unreadForMe` is the view's count minus this one. Absent on marks written before
   * the counter, or taken at a message recorded by older code: readers then count messages.
   */
  inboundCountAtRead?: number;
  readAt: Date;
}

export interface ReadMarkRevisionDoc extends Omit<ReadMarkDoc, '_id'> {
  _id: string; // readMarkRevisionId(conversationId, userId, rev)
}

export interface ReadMarkCollections {
  marks: Collection<ReadMarkDoc>;
  revisions: Collection<ReadMarkRevisionDoc>;
}

export function readMarkCollections(db: Db): ReadMarkCollections {
  return { marks: db.collection<ReadMarkDoc>('read_marks'), revisions: db.collection<ReadMarkRevisionDoc>('read_mark_revisions') };
}

export type ReadMark = Pick<ReadMarkDoc, 'rev' | 'readUpToSeq' | 'inboundCountAtRead' | 'readAt'>;

const markOf = (doc: ReadMarkDoc | ReadMarkRevisionDoc): ReadMark => ({
  rev: doc.rev,
  readUpToSeq: doc.readUpToSeq,
  ...(doc.inboundCountAtRead === undefined || doc.inboundCountAtRead === null ? {} : { inboundCountAtRead: doc.inboundCountAtRead }),
  readAt: doc.readAt,
});

/** A user's marks of a conversation as claimed revisions (store/revisions.ts); null: never marked. */
const markRevisions = (c: ReadMarkCollections, conversationId: string, userId: string): Revisions<ReadMark | null> => ({
  rev: (mark) => mark?.rev ?? 0,
  next: async (after) => {
    const next = await c.revisions.findOne({ _id: readMarkRevisionId(conversationId, userId, (after?.rev ?? 0) + 1) });
    return next ? markOf(next) : null;
  },
});

/** The user's newest mark of the conversation, or null if they never marked it. */
export async function newestReadMark(c: ReadMarkCollections, conversationId: string, userId: string): Promise<ReadMark | null> {
  return (await newestReadMarks(c, [conversationId], userId)).get(conversationId) ?? null;
}

/**
 * The user's newest marks of many conversations (null: never marked), read forwards from each copy (a
 * copy may lag or be set back), in two queries for them all: every copy, then every copy's next revision
 * (usually none); only a mark with a newer revision than its copy reads on, by itself. Each query is an
 * `_id` `$in`, which our FerretDB reads from the _id index (dev/ferretdb-pushdown/README.md, "Reads by
 * _id"), as MongoDB does.
 */
export async function newestReadMarks(c: ReadMarkCollections, conversationIds: readonly string[], userId: string): Promise<Map<string, ReadMark | null>> {
  const ids = [...new Set(conversationIds)];
  if (ids.length === 0) return new Map();
  const copies = new Map((await c.marks.find({ _id: { $in: ids.map((id) => readMarkId(id, userId)) } }).toArray()).map((doc) => [doc.conversationId, markOf(doc)]));
  const nextId = (id: string) => readMarkRevisionId(id, userId, (copies.get(id)?.rev ?? 0) + 1);
  const nexts = new Map((await c.revisions.find({ _id: { $in: ids.map(nextId) } }).toArray()).map((doc) => [doc._id, markOf(doc)]));
  const marks = await Promise.all(
    ids.map(async (id): Promise<[string, ReadMark | null]> => {
      const next = nexts.get(nextId(id));
      return [id, next ? await readForwards(markRevisions(c, id, userId), next) : (copies.get(id) ?? null)];
    }),
  );
  return new Map(marks);
}

/**
 * Moves the user's mark to `to` unless it is already there or further; answers the mark after it
 * (which is the newer one when another tab got further meanwhile) and whether this call moved it. A mark
 * at the same seq that lacks the inbound count (written before the counter) gets it, without counting as
 * a move (no `read` event).
 */
export async function advanceReadMark(
  c: ReadMarkCollections,
  mark: { accountId: string; conversationId: string; userId: string },
  to: ReadPoint,
  now: Date,
): Promise<{ mark: ReadMark; moved: boolean }> {
  let fills = false;
  const { before, after } = await decideAndClaim(markRevisions(c, mark.conversationId, mark.userId), {
    newest: () => newestReadMark(c, mark.conversationId, mark.userId),
    // Another tab claimed this revision first: read again; its seq may already cover ours.
    decide: (current) => {
      fills = current !== null && current.readUpToSeq === to.seq && current.inboundCountAtRead === undefined && to.inboundCount !== undefined;
      if (current && current.readUpToSeq >= to.seq && !fills) return null;
      return { rev: (current?.rev ?? 0) + 1, readUpToSeq: to.seq, ...(to.inboundCount === undefined ? {} : { inboundCountAtRead: to.inboundCount }), readAt: now };
    },
    claim: (next) => insertNew(c.revisions, { _id: readMarkRevisionId(mark.conversationId, mark.userId, next!.rev), ...mark, ...next! }),
    writeCopy: (copy) => replaceWhole(c.marks, { _id: readMarkId(mark.conversationId, mark.userId), ...mark, ...copy! }),
  });
  return after ? { mark: after, moved: !fills } : { mark: before!, moved: false };
}
