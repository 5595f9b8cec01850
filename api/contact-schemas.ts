import { z } from 'zod';
import { attributeChanges } from './schemas';

/**
 * SPEC 11's contacts and search: what the routes take and answer (api/routes/contacts.ts), for the
 * router and /openapi.json. Apart from api/schemas.ts only so that parallel work on SPEC 11's reports
 * does not edit the same lines.
 */

const time = z.iso.datetime();
const page = {
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(1024).optional(),
};

/** `q`: at least 2 characters (a 400 naming `q` below that). */
const q = z.string().trim().min(2, 'at least 2 characters').max(200);

/** `GET .../contacts?q=`: a prefix of a word of the name or of the phone digits; without `q`, every contact by phone number. */
export const listContacts = z.strictObject({ q: q.optional(), ...page });

/**
 * `PATCH .../contacts/{customer}`: the name and attributes a user gives (attributes merged into the
 * contact's, key by key; `null` removes a key).
 */
export const patchContact = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  attributes: attributeChanges.optional(),
});

/** `GET .../search?q=`: every word a prefix of a word of one message. */
export const searchMessages = z.strictObject({ q, ...page });

export const contactSummary = z.object({
  customer: z.string(),
  name: z.string().nullable(),
  attributes: z.record(z.string(), z.string()),
  firstSeenAt: time.nullable(),
});
export const contactList = z.object({ items: z.array(contactSummary), nextCursor: z.string().nullable() });

export const contactProfile = contactSummary.extend({
  lastSeenAt: time.nullable(),
  conversations: z.array(z.object({ conversationId: z.string(), channel: z.string(), status: z.string(), episodes: z.number().int() })),
});

export const searchHit = z.object({ conversationId: z.string(), messageId: z.string(), at: time, snippet: z.string() });
export const searchResults = z.object({ items: z.array(searchHit), nextCursor: z.string().nullable() });
