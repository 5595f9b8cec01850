import type { Filter } from 'mongodb';
import type { Collections, ContactDoc } from './collections';
import { contactDocId } from './ids';
import { isDuplicateKeyError } from './writes';

/**
 * Customers known to an account on a channel (seed 002's "not contacted"). `contacted` is set by the
 * conversation's `persist` at the first customer message; the API only ever inserts (store/DESIGN.md).
 */
type Contacts = Pick<Collections, 'contacts'>;

/**
 * A campaign makes the customer known to the account: "not contacted" until they write. Insert-only: an
 * existing contact is left as it is. Two first upserts racing: FerretDB answers the later one's insert
 * with 11000, which means the contact is there, as this write wants.
 */
export async function recordCampaignContact(c: Contacts, ref: { accountId: string; channel: string; customer: string }): Promise<void> {
  await c.contacts
    .updateOne(
      { _id: contactDocId(ref.accountId, ref.channel, ref.customer) },
      { $setOnInsert: { accountId: ref.accountId, channel: ref.channel, customer: ref.customer, contacted: false, createdAt: new Date() } },
      { upsert: true },
    )
    .catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
    });
}

/** Contacts of the account who never wrote, by `_id` after `afterId`, at most `limit`. */
export function notContacted(c: Contacts, accountId: string, afterId: string | undefined, limit: number): Promise<ContactDoc[]> {
  const filter: Filter<ContactDoc> = { accountId, contacted: false };
  if (afterId !== undefined) filter._id = { $gt: afterId };
  return c.contacts.find(filter).sort({ _id: 1 }).limit(limit).toArray();
}

/**
 * The customer messages of a conversation that carried attributes, oldest first, for the contact's
 * attributes (SPEC 10: the latest value each message gave; api/canned-text.ts `latestAttributes`). One
 * conversation per contact (`conv:{accountId}:{channel}:{customer}`), so its timeline is the contact's.
 * Since SPEC 11 the contact's profile keeps them (store/contact-profiles.ts); this is read only for a
 * customer without a profile yet (messages from before it, until `npm run backfill:search`).
 */
export function contactAttributeMessages(c: Pick<Collections, 'messages'>, conversationId: string): Promise<{ seq: number; attributes: Record<string, string> | null }[]> {
  return c.messages
    .find({ conversationId, direction: 'inbound', attributes: { $ne: null } }, { projection: { _id: 0, seq: 1, attributes: 1 } })
    .sort({ seq: 1 })
    .toArray() as Promise<{ seq: number; attributes: Record<string, string> | null }[]>;
}
