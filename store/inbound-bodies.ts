import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { insertNew, insertOnce } from './writes';

/**
 * WhatsApp webhook bodies, kept before Meta is answered (api/whatsapp-webhook.ts, store/DESIGN.md
 * "Every write"): the API inserts a body once, then tells the account's `webhookInboxWorkflow`, which
 * hands it to the conversations and marks it `done` (or `failed`, with the reason). The body is the
 * bytes Meta signed, so a replay parses exactly what was received.
 */
export interface InboundBodyDoc {
  /** `{accountId}/{sha256 of the raw body, hex}`: Meta's redelivery of the same body names the same document. */
  _id: string;
  accountId: string;
  provider: 'whatsapp_cloud';
  /** The raw body as received (UTF-8 JSON). */
  raw: string;
  /**
   * The phone numbers this body may address, and the channel of each: those of the channels whose app
   * secret signed it, decided at receipt (an item for another number is counted and dropped there).
   */
  routes: { phoneNumberId: string; channel: string }[];
  receivedAt: Date;
  /** `pending` until its fan-out is over; only the account's inbox workflow (through its activities) changes it. */
  state: 'pending' | 'done' | 'failed';
  doneAt?: Date;
  /** What the fan-out found; `unmatchedReceipts`: receipts no conversation had (campaign sends, unknown ids). */
  outcome?: { messages: number; receipts: number; unmatchedReceipts: number };
  failedAt?: Date;
  /** Why the fan-out gave up (the last attempt's error). */
  reason?: string;
}

export function inboundBodiesCollection(db: Db): Collection<InboundBodyDoc> {
  return db.collection<InboundBodyDoc>('inbound_bodies');
}

/**
 * How long a `done` body is kept: Meta redelivers a body it got no 200 for during up to 7 days, and a copy
 * still kept is recognised by its `_id` and skipped. A copy arriving after the purge is fanned out again
 * and changes nothing: its messages are known to their conversations by id and receipts only move forwards.
 */
export const keepDoneBodiesMs = 7 * 24 * 60 * 60 * 1_000;

/**
 * The day a body was marked `done`, as an `_id` `{accountId}/{YYYY-MM-DD}/{sha256}`: the purge reads an
 * account's old days as one `_id` range, the one query our FerretDB answers from its index
 * (store/DESIGN.md); a filter on `doneAt` would read the whole collection of bodies.
 */
export interface InboundBodyDayDoc {
  _id: string;
  accountId: string;
  bodyId: string;
}

export function inboundBodyDaysCollection(db: Db): Collection<InboundBodyDayDoc> {
  return db.collection<InboundBodyDayDoc>('inbound_body_days');
}

export interface InboundBodyCollections {
  bodies: Collection<InboundBodyDoc>;
  days: Collection<InboundBodyDayDoc>;
}

const dayOf = (at: Date): string => at.toISOString().slice(0, 10);

function bodyDayId(bodyId: string, at: Date): { _id: string; accountId: string } {
  const slash = bodyId.lastIndexOf('/');
  const accountId = bodyId.slice(0, slash);
  return { _id: `${accountId}/${dayOf(at)}/${bodyId.slice(slash + 1)}`, accountId };
}

export function inboundBodyId(accountId: string, raw: Buffer): string {
  return `${accountId}/${createHash('sha256').update(raw).digest('hex')}`;
}

/** Inserts the body; false when it was already there (Meta delivered the same bytes again): durable either way. */
export function keepInboundBody(bodies: Collection<InboundBodyDoc>, doc: InboundBodyDoc): Promise<boolean> {
  return insertNew(bodies, doc);
}

/**
 * The fan-out finished: by `_id`, written only by the account's inbox workflow's activity. Its day row
 * first, so a `done` body always has one (a row whose body is not done yet is only skipped by the purge).
 */
export async function markInboundBodyDone(c: InboundBodyCollections, id: string, outcome: InboundBodyDoc['outcome'], now = new Date()): Promise<void> {
  const day = bodyDayId(id, now);
  await insertOnce(c.days, [{ ...day, bodyId: id }]);
  await c.bodies.updateOne({ _id: id }, { $set: { state: 'done', doneAt: now, outcome }, $unset: { failedAt: '', reason: '' } });
}

/**
 * Deletes at most `max` of the account's bodies marked `done` more than `keepDoneBodiesMs` ago, oldest
 * day first, with their day rows; answers how many bodies went. The inbox workflow's fan-out calls it
 * after each body, so an account's store of bodies stays about a week of its traffic, and the work is a
 * few deletes per body received. Pending and failed bodies stay (an operator may replay a failed one);
 * a row whose body is gone, not done, or done again later (a replay) only loses its row.
 */
export async function purgeDoneBodies(c: InboundBodyCollections, accountId: string, now: Date, max = 20): Promise<number> {
  const cutoff = new Date(now.getTime() - keepDoneBodiesMs);
  const rows = await c.days
    .find({ _id: { $gte: `${accountId}/`, $lt: `${accountId}/${dayOf(cutoff)}` } })
    .sort({ _id: 1 })
    .limit(max)
    .toArray();
  // The rows at once: each touches its own body and row, and the account's next body waits for this.
  const gone = await Promise.all(
    rows.map(async (row) => {
      const body = await c.bodies.findOne({ _id: row.bodyId }, { projection: { state: 1, doneAt: 1 } });
      const old = body?.state === 'done' && body.doneAt !== undefined && body.doneAt < cutoff;
      if (old) await c.bodies.deleteOne({ _id: row.bodyId });
      await c.days.deleteOne({ _id: row._id });
      return old;
    }),
  );
  // A body done twice long ago has two rows here: it counts once.
  return new Set(rows.filter((_, i) => gone[i]).map((row) => row.bodyId)).size;
}

/** The fan-out gave up after its retries: the reason stays for an operator, who may replay it (README). */
export async function markInboundBodyFailed(bodies: Collection<InboundBodyDoc>, id: string, reason: string): Promise<void> {
  await bodies.updateOne({ _id: id }, { $set: { state: 'failed', failedAt: new Date(), reason: reason.slice(0, 2_000) } });
}
