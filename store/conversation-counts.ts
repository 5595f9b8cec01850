import { randomBytes } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import type { Bucket, BucketCounts, ChainedMove } from '../workflows/conversation/core/conversation-counts';
import { afterExistingMove, applyMoves, baselineBucket, bucketOf } from '../workflows/conversation/core/conversation-counts';
import type { ConversationDoc } from './documents';
import { insertNew } from './writes';

/**
 * The inbox's tab counts, kept as moves and packs (core/conversation-counts.ts; store/DESIGN.md
 * "Conversation counts"), so that `GET .../conversation-counts` reads a few small documents instead of
 * every view of the account.
 *
 * - `count_moves`: one per change of a conversation's bucket, `_id` `{conversationId}/{fromVersion}`
 *   (the version zero-padded), written by the conversation's `persist` before its view, insert-once.
 * - `count_packs`: the count of every bucket of an account as of `mark`, `_id` `{accountId}/{mark}/{random}`.
 *   The account's first pack is its **baseline** (mark `epoch`): zero for an account created with the
 *   moves kept, counted by `npm run backfill:counts` for one from before. Without one, the route counts
 *   with a scan, as it did before.
 */
export interface CountMoveDoc extends ChainedMove {
  _id: string;
  accountId: string;
  conversationId: string;
  /** ISO time from the writer's clock right before the insert: what a pack's mark is compared with. */
  writtenAt: string;
}

export interface CountPackDoc {
  _id: string;
  accountId: string;
  /** ISO time: the pack holds every move written before it. */
  mark: string;
  /** The counts by bucket as JSON text (an assignee id may hold a character a field name may not, and FerretDB stores no nested arrays). */
  counts: string;
}

export interface CountCollections {
  moves: Collection<CountMoveDoc>;
  packs: Collection<CountPackDoc>;
}

export function countCollections(db: Db): CountCollections {
  return { moves: db.collection<CountMoveDoc>('count_moves'), packs: db.collection<CountPackDoc>('count_packs') };
}

/** The baseline's mark: before every move. */
export const epoch = new Date(0).toISOString();

/**
 * How far before a pack's build its mark is set. A move written (its `writtenAt` read) before the mark
 * had landed when the build read the moves, unless its insert took longer than this (`persist` runs under
 * a 30-second timeout) or the two clocks differ by more (the argument of the episode packs, store/DESIGN.md).
 */
export const markMarginMs = 60_000;

/** A read that found more than this many moves between its pack's mark and its own (a minute back) writes a new pack. */
export const repackAfterMoves = 200;

const moveDocId = (conversationId: string, fromVersion: number): string => `${conversationId}/${String(fromVersion).padStart(10, '0')}`;

/**
 * How long after its `persist` attempt started a move may still be inserted: well inside the local
 * activity's 30-second timeout, after which the attempt is abandoned and another may run.
 */
export const moveInsertWithinMs = 20_000;

/**
 * Records that a conversation moved from `move.from` (its bucket at `move.fromVersion`, the version of the
 * stored view) to `move.to` (at `move.toVersion`, the view about to be written). Called by `persist` before
 * the view, whenever the bucket changes or the batch holds a transition (an earlier attempt of this batch,
 * or one that died before its view, may have moved it elsewhere: `from` equal to `to` then only looks).
 * Follows the chain when the `_id` is taken (core/conversation-counts.ts `afterExistingMove`).
 */
export function recordCountMove(
  c: CountCollections,
  where: { accountId: string; conversationId: string },
  move: ChainedMove,
  options: { notAfter: number; now?: () => Date },
): Promise<void> {
  const now = options.now ?? (() => new Date());
  return recordMoveWith(
    {
      insert: (doc) => {
        // An attempt past its local activity's timeout may still run after its retry (or a later, larger
        // batch) moved on: it must not insert then (store/DESIGN.md "Conversation counts"). It fails and
        // the batch is retried, which reads the view again.
        const at = now();
        if (at.getTime() > options.notAfter) throw new Error(`count move of ${where.conversationId} not inserted: its attempt is past its time`);
        return insertNew(c.moves, { ...where, ...doc, writtenAt: at.toISOString() });
      },
      find: (_id) => c.moves.findOne({ _id }),
    },
    where.conversationId,
    move,
  );
}

/** Where `recordMoveWith` keeps moves: an insert that answers false when the `_id` is taken, and a read by `_id`. */
export interface MoveStore {
  insert(doc: ChainedMove & { _id: string }): Promise<boolean>;
  find(_id: string): Promise<ChainedMove | null>;
}

/** `recordCountMove` over any `MoveStore` (the unit tests drive it with racing attempts in memory). */
export async function recordMoveWith(store: MoveStore, conversationId: string, move: ChainedMove): Promise<void> {
  let next: ChainedMove | null = move;
  // Each step moves forwards along versions below `move.toVersion`, so the loop ends; the bound only guards.
  for (let step = 0; next !== null && step < 1_000; step++) {
    const _id = moveDocId(conversationId, next.fromVersion);
    if (next.from !== next.to && (await store.insert({ _id, ...next }))) return;
    const existing = await store.find(_id);
    if (existing === null) {
      if (next.from === next.to) return; // nothing moved from here: the conversation is where the batch found it
      continue; // cannot happen (moves are never deleted); insert again
    }
    next = afterExistingMove(next, existing);
  }
}

/** The moves of an account written at or after `since`, in `writtenAt` order, a page at a time (`account_written`). */
async function* movesSince(c: CountCollections, accountId: string, since: string, page = 1_000): AsyncGenerator<CountMoveDoc[]> {
  let after: { writtenAt: string; _id: string } | null = null;
  for (;;) {
    const filter: Filter<CountMoveDoc> = after
      ? { accountId, writtenAt: { $gte: after.writtenAt }, $or: [{ writtenAt: { $gt: after.writtenAt } }, { writtenAt: after.writtenAt, _id: { $gt: after._id } }] }
      : { accountId, writtenAt: { $gte: since } };
    const docs = await c.moves.find(filter, { projection: { conversationId: 1, from: 1, to: 1, fromVersion: 1, toVersion: 1, writtenAt: 1 } }).sort({ writtenAt: 1, _id: 1 }).limit(page).toArray();
    if (docs.length > 0) yield docs;
    if (docs.length < page) return;
    const last = docs[docs.length - 1]!;
    after = { writtenAt: last.writtenAt, _id: last._id };
  }
}

const newestPack = async (c: CountCollections, accountId: string): Promise<CountPackDoc | null> =>
  (await c.packs.find({ accountId }).sort({ _id: -1 }).limit(1).toArray())[0] ?? null;

const countsOf = (pack: CountPackDoc): BucketCounts => JSON.parse(pack.counts) as BucketCounts;

async function insertPack(c: CountCollections, accountId: string, mark: string, counts: BucketCounts, id = randomBytes(6).toString('hex')): Promise<boolean> {
  return insertNew(c.packs, { _id: `${accountId}/${mark}/${id}`, accountId, mark, counts: JSON.stringify(counts) });
}

/**
 * The account's counts by bucket: its newest pack and the moves since its mark; null when the account has
 * no baseline yet (the caller counts with a scan). A read that met more than `repackAfterMoves` moves
 * older than `markMarginMs` writes a pack with its mark that far back, so the next reads start there;
 * older packs but the one before are deleted (packs are tiny; this only keeps the collection small).
 */
export async function readCounts(c: CountCollections, accountId: string, now: () => Date = () => new Date()): Promise<BucketCounts | null> {
  const started = now().getTime();
  const pack = await newestPack(c, accountId);
  if (pack === null) return null;
  const tail: CountMoveDoc[] = [];
  for await (const page of movesSince(c, accountId, pack.mark)) tail.push(...page);
  const counts = applyMoves(countsOf(pack), tail);
  // Pack only what a new pack would take off the tail: moves older than the margin. (The last minute's
  // moves stay in every read's tail; packing on the whole tail would write a pack at every read of a
  // busy account.)
  const mark = new Date(started - markMarginMs).toISOString();
  const packable = tail.filter((m) => m.writtenAt < mark);
  if (packable.length > repackAfterMoves) {
    await insertPack(c, accountId, mark, applyMoves(countsOf(pack), packable));
    await c.packs.deleteMany({ accountId, _id: { $lt: pack._id } });
  }
  return counts;
}

/** A new account's baseline: nothing counted, every conversation will come with its first move. */
export async function startCounts(c: CountCollections, accountId: string): Promise<void> {
  await insertPack(c, accountId, epoch, {}, 'baseline');
}

/**
 * The baseline of an account that had conversations before the moves were kept (`npm run backfill:counts`):
 * every view of the account, each in its bucket as the moves see it (`baselineBucket`), read once; then every
 * move of the account. Run once every worker writes moves. False when the account already had a baseline
 * (nothing written). Safe while the system runs: a conversation that moves during the scan is counted where
 * its chain of moves starts.
 */
export async function backfillCounts(
  { counts: c, conversations }: { counts: CountCollections; conversations: Collection<ConversationDoc> },
  accountId: string,
): Promise<{ written: boolean; conversations: number; moves: number }> {
  if ((await newestPack(c, accountId)) !== null) return { written: false, conversations: 0, moves: 0 };
  const scanned = new Map<string, { version: number; bucket: Bucket }>();
  const views = conversations.find({ accountId }, { projection: { version: 1, status: 1, assigneeId: 1, archived: 1 }, batchSize: 5_000 });
  for await (const view of views) scanned.set(view._id, { version: view.version, bucket: bucketOf(view) });
  // The moves after the views: a move written after its view was read starts at that view's version or later.
  const first = new Map<string, CountMoveDoc>();
  let moves = 0;
  for await (const page of movesSince(c, accountId, '')) {
    for (const move of page) {
      moves++;
      const seen = first.get(move.conversationId);
      if (!seen || move.fromVersion < seen.fromVersion) first.set(move.conversationId, move);
    }
  }
  const baseline = applyMoves(
    {},
    [...scanned].map(([id, view]) => ({ from: null, to: baselineBucket(view, first.get(id)) })),
  );
  return { written: await insertPack(c, accountId, epoch, baseline, 'baseline'), conversations: scanned.size, moves };
}
