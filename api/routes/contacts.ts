import { everyUser } from '../auth';
import * as cs from '../contact-schemas';
import { getContact, listContacts, patchContact } from '../contacts';
import { defineRoute } from '../route';
import { searchMessages } from '../search';

/** SPEC 11: contacts (api/contacts.ts) and search over messages and notes (api/search.ts). Any user of the account. */
export const contactRoutes = [
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/contacts',
    summary:
      'Contacts: every customer who wrote to the account (by phone number), or with `q` those whose phone digits start with it (`q` of digits; `+`, spaces, `-`, `.` and brackets ignored) or with a word of the name starting with each of its words (case and accent insensitive); `q` under 2 characters is a 400. Cursor-paginated `{ items: [{ customer, name, attributes, firstSeenAt }], nextCursor }`; a name search page may hold fewer than `limit` items with a `nextCursor` (only `null` ends the list)',
    allow: everyUser,
    query: cs.listContacts,
    response: cs.contactList,
    handler: async ({ deps, params, query }) => listContacts(deps, params.accountId!, query),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/contacts/{customer}',
    summary:
      "A contact's profile: `{ customer, name, attributes, firstSeenAt, lastSeenAt, conversations: [{ conversationId, channel, status, episodes }] }` (`episodes` a count); the name is a user's (PATCH) over the provider profile's, each attribute the latest value a customer message or PATCH gave. 404 for a customer who never wrote",
    allow: everyUser,
    response: cs.contactProfile,
    handler: async ({ deps, params }) => getContact(deps, params.accountId!, params.customer!),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/accounts/{accountId}/contacts/{customer}',
    summary:
      "Change a contact (any user): `name` replaces the provider's profile name from now on; `attributes` are merged key by key (each the latest value, until a later customer message gives another), at most 50 kept. Answers the profile; 404 for a customer who never wrote",
    allow: everyUser,
    body: cs.patchContact,
    response: cs.contactProfile,
    handler: async ({ deps, params, body }) => patchContact(deps, params.accountId!, params.customer!, body),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/search',
    summary:
      'Search the text of customer and business messages and notes: every word of `q` must be the start of a word of one message (case and accent insensitive); `q` under 2 characters, or without a word of 2, is a 400. Newest first, cursor-paginated `{ items: [{ conversationId, messageId, at, snippet }], nextCursor }`; a page may hold fewer than `limit` items, even none, with a `nextCursor`: it examines at most 200 candidates of its rarest word, so words that are each common but seldom meet come back a little at a time (only `null` ends the results)',
    allow: everyUser,
    query: cs.searchMessages,
    response: cs.searchResults,
    handler: async ({ deps, params, query }) => searchMessages(deps, params.accountId!, query),
  }),
];
