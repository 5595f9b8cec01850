import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { insertNew } from './writes';

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

export function inboundBodyId(accountId: string, raw: Buffer): string {
  return `${accountId}/${createHash('sha256').update(raw).digest('hex')}`;
}

/** Inserts the body; false when it was already there (Meta delivered the same bytes again): durable either way. */
export function keepInboundBody(bodies: Collection<InboundBodyDoc>, doc: InboundBodyDoc): Promise<boolean> {
  return insertNew(bodies, doc);
}

/** The fan-out finished: by `_id`, written only by the account's inbox workflow's activity. */
export async function markInboundBodyDone(bodies: Collection<InboundBodyDoc>, id: string, outcome: InboundBodyDoc['outcome']): Promise<void> {
  await bodies.updateOne({ _id: id }, { $set: { state: 'done', doneAt: new Date(), outcome }, $unset: { failedAt: '', reason: '' } });
}

/** The fan-out gave up after its retries: the reason stays for an operator, who may replay it (README). */
export async function markInboundBodyFailed(bodies: Collection<InboundBodyDoc>, id: string, reason: string): Promise<void> {
  await bodies.updateOne({ _id: id }, { $set: { state: 'failed', failedAt: new Date(), reason: reason.slice(0, 2_000) } });
}
