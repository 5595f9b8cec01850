import type { Collection, Db } from 'mongodb';
import type { StreamTicketDoc } from './stream-log';

/**
 * Open streams and unredeemed stream tickets, counted per owner across API processes (SPEC section 12).
 *
 * Why it holds on FerretDB (store/DESIGN.md): no TTL indexes, filtered updates are a read and a write,
 * only unique `_id`s hold. So:
 *
 * - **A stream is a lease document** `stream_subscriptions/{owner}/{random}`, written only by the API
 *   process that holds the stream: inserted when it opens, its `leaseUntil` moved forward by that process
 *   while it is open, deleted when it closes. A process that dies stops renewing: its leases expire and
 *   stop counting, and a sweep deletes them later. Nobody else ever writes a live lease, so no update races.
 * - **The cap is insert, then count.** A new stream inserts its lease, then counts the owner's live ones;
 *   above the cap it deletes its own and is refused. Of racing openers, the one that counts last sees
 *   every lease inserted before it counted, the others' included, so no two of them can both be admitted
 *   past the cap (a race may refuse both: under-admission, never over). No counter document, no filtered
 *   update.
 * - **Tickets** follow the same rule: the mint inserts the ticket, then counts the owner's unexpired ones.
 *   Expired tickets are deleted on every mint and by each API process's sweep.
 */
export interface StreamSubscriptionDoc {
  _id: string; // `${owner}/${random}`
  owner: string;
  accountId: string | null;
  /** The API process holding the stream (a random id per process): only it renews or deletes this lease. */
  process: string;
  openedAt: Date;
  /** Counts until then; the holder moves it forward while the stream is open. */
  leaseUntil: Date;
}

export function streamSubscriptions(db: Db): Collection<StreamSubscriptionDoc> {
  return db.collection<StreamSubscriptionDoc>('stream_subscriptions');
}

/**
 * Whose streams these are, for the caps: a user, a service key (by name) or the platform. Parts are
 * URI-encoded, so a `/` inside a name never makes one owner a prefix of another.
 */
export type StreamOwner = { kind: 'user'; accountId: string; userId: string } | { kind: 'service'; accountId: string; name: string } | { kind: 'platform' };

export function ownerKey(owner: StreamOwner): string {
  switch (owner.kind) {
    case 'user':
      return `user/${encodeURIComponent(owner.accountId)}/${encodeURIComponent(owner.userId)}`;
    case 'service':
      return `service/${encodeURIComponent(owner.accountId)}/${encodeURIComponent(owner.name)}`;
    case 'platform':
      return 'platform';
  }
}

/** Every `_id` of one owner: `{owner}/` up to (not including) `{owner}0` ('0' follows '/'). */
const underOwner = (owner: string) => ({ $gt: `${owner}/`, $lt: `${owner}0` });

/**
 * Inserts the lease of a new stream and answers whether it is within `max` live streams of its owner;
 * when it is not, its lease is already deleted.
 */
export async function claimStreamLease(c: Collection<StreamSubscriptionDoc>, doc: StreamSubscriptionDoc, max: number, now = new Date()): Promise<boolean> {
  await c.insertOne(doc);
  const all = await c.find({ _id: underOwner(doc.owner) }, { projection: { leaseUntil: 1 } }).toArray();
  const live = all.filter((d) => d.leaseUntil.getTime() > now.getTime()).length;
  if (live <= max) return true;
  await c.deleteOne({ _id: doc._id });
  return false;
}

/** Moves this process's leases forward: one write of all of them (each `_id` is written by this process only). */
export async function renewStreamLeases(c: Collection<StreamSubscriptionDoc>, ids: string[], leaseUntil: Date): Promise<void> {
  if (ids.length === 0) return;
  await c.updateMany({ _id: { $in: ids } }, { $set: { leaseUntil } });
}

export async function releaseStreamLease(c: Collection<StreamSubscriptionDoc>, id: string): Promise<void> {
  await c.deleteOne({ _id: id });
}

/**
 * Deletes leases expired for longer than `graceMs` (their process died or lost the database): they
 * already stopped counting; this only keeps the collection small. A lease that old is no holder's any more.
 */
export async function purgeExpiredStreamLeases(c: Collection<StreamSubscriptionDoc>, graceMs: number, now = new Date()): Promise<void> {
  await c.deleteMany({ leaseUntil: { $lt: new Date(now.getTime() - graceMs) } });
}

/** Deletes every expired stream ticket (FerretDB has no TTL index): on every mint and in each process's sweep. */
export async function purgeExpiredTickets(c: Collection<StreamTicketDoc>, now = new Date()): Promise<number> {
  return (await c.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
}

/**
 * Stores a new ticket and answers whether its user holds at most `max` unredeemed, unexpired ones with
 * it; when not, the ticket is already deleted. Expired tickets are purged first.
 */
export async function claimTicket(c: Collection<StreamTicketDoc>, doc: StreamTicketDoc, max: number, now = new Date()): Promise<boolean> {
  await purgeExpiredTickets(c, now);
  await c.insertOne(doc);
  const live = await c.countDocuments({ accountId: doc.accountId, userId: doc.userId, expiresAt: { $gt: now } });
  if (live <= max) return true;
  await c.deleteOne({ _id: doc._id });
  return false;
}
