import type { Collection, Filter, FindOptions } from 'mongodb';

/**
 * A conversation's timeline (`messages`, `events`) read in `seq` order on both stores (store/DESIGN.md,
 * "Timeline order").
 *
 * Our FerretDB serves a find from an index only when it sorts, with a limit, on string keys ending with
 * `_id` after string equalities (dev/ferretdb-pushdown/README.md); any other find reads and decodes the
 * whole collection. `seq` is a number, so `find({ conversationId }).sort({ seq })` read every message of
 * every conversation: 2.1 s for one page among 20,000 messages (load 5 on 2 cores), growing with the
 * store. So every record is written with `pos`, its seq as a fixed-width string (`posOf`), and pages
 * read the `conversation_pos` index `{ conversationId, pos, _id }` in its order, stopping at the page.
 *
 * Records written before `pos` existed have none (a database created since has none such). They are a
 * fixed set per conversation, all older than any record with `pos` (a conversation's seq only grows), and
 * the same index reads them: a missing sort key is read by the index's range scan, in `_id` order. So
 * they are read whole (at most `legacyLimit` per conversation) and put in seq order here.
 */
export interface TimelineDoc {
  _id: string;
  conversationId: string;
  seq: number;
  /** `posOf(seq)`; absent on records written before it was. */
  pos?: string;
}

const posWidth = 16;

/** A seq as `pos`: fixed-width decimal, so string order is seq order (seq < 10^16). */
export const posOf = (seq: number): string => String(seq).padStart(posWidth, '0');

/** The most records without `pos` read for one conversation (older records beyond it are not shown). */
export const legacyLimit = 10_000;

type Options<T> = { filter?: Filter<T>; projection?: FindOptions['projection'] };

const withKeys = (projection: FindOptions['projection']) => (projection === undefined ? undefined : { ...projection, seq: 1, pos: 1 });

/** Records without `pos` that match, in seq order. */
async function legacy<T extends TimelineDoc>(col: Collection<T>, conversationId: string, seq: { $gt: number; $lt?: number }, o: Options<T>): Promise<T[]> {
  const found = (await col
    .find({ ...o.filter, conversationId, pos: { $exists: false }, seq } as Filter<T>, { projection: withKeys(o.projection) })
    .sort({ pos: 1, _id: 1 })
    .limit(legacyLimit)
    .toArray()) as T[];
  return found.sort((a, b) => a.seq - b.seq);
}

/** A conversation's records with seq in (`after`, `before`), in seq order, at most `limit`. */
export async function timelineAfter<T extends TimelineDoc>(col: Collection<T>, conversationId: string, after: number, limit: number, o: Options<T> & { before?: number } = {}): Promise<T[]> {
  const before = o.before !== undefined && Number.isFinite(o.before) ? o.before : undefined;
  const pos = before === undefined ? { $gt: posOf(after) } : { $gt: posOf(after), $lt: posOf(before) };
  const [old, recent] = await Promise.all([
    legacy(col, conversationId, before === undefined ? { $gt: after } : { $gt: after, $lt: before }, o),
    col
      .find({ ...o.filter, conversationId, pos } as Filter<T>, { projection: withKeys(o.projection) })
      .sort({ pos: 1, _id: 1 })
      .limit(limit)
      .toArray() as Promise<T[]>,
  ]);
  return [...old, ...recent].slice(0, limit);
}

/** A conversation's newest `limit` records (that match `filter`; with seq below `before`, when given), newest first. */
export async function timelineNewest<T extends TimelineDoc>(col: Collection<T>, conversationId: string, limit: number, o: Options<T> & { before?: number } = {}): Promise<T[]> {
  const before = o.before !== undefined && Number.isFinite(o.before) ? o.before : undefined;
  const newest = (await col
    .find({ ...o.filter, conversationId, ...(before === undefined ? {} : { pos: { $lt: posOf(before) } }) } as Filter<T>, { projection: withKeys(o.projection) })
    .sort({ pos: -1, _id: -1 })
    .limit(limit)
    .toArray()) as T[];
  // Records without `pos` sort last (and a bound on `pos` leaves them out): fewer than `limit` with it,
  // and the newest of those without, by seq, follow.
  const recent = newest.filter((d) => d.pos !== undefined);
  if (recent.length === limit || (before === undefined && recent.length === newest.length)) return recent;
  const old = await legacy(col, conversationId, before === undefined ? { $gt: -1 } : { $gt: -1, $lt: before }, o);
  return [...recent, ...old.reverse()].slice(0, limit);
}
