import type { Collection, Db } from 'mongodb';
import type {
  AccountDoc,
  ApiKeyDoc,
  BroadcastDoc,
  BroadcastOutcomesDoc,
  ChannelDoc,
  ContactDoc,
  ConversationDoc,
  EventDoc,
  IdempotencyDoc,
  MessageDoc,
  OutboundDoc,
  PersistFailureDoc,
  ProviderMessageDoc,
  SendDoc,
  UserDoc,
} from './documents';
import type { InboundBodyDayDoc, InboundBodyDoc } from './inbound-bodies';
import { inboundBodiesCollection, inboundBodyDaysCollection } from './inbound-bodies';
import type { MediaCollections } from './media';
import { mediaCollections } from './media';
import type { PolicyVersionDoc } from './policy-versions';
import type { SecretBox } from './secret-box';
import type { CannedResponseDoc } from './canned-responses';
import { cannedResponsesCollection } from './canned-responses';
import { plaintextSecretBox } from './secret-box';
import { policyVersions } from './policy-versions';
import type { PresenceCollections } from './presence';
import { presenceCollections } from './presence';
import type { ReadMarkCollections } from './read-marks';
import { readMarkCollections } from './read-marks';
import type { OidcLoginDoc, SessionDoc } from './sessions';
import type { TemplateDoc } from './templates';
import { templates } from './templates';
import type { StreamCollections } from './stream-log';
import { streamCollections } from './stream-log';
import type { UserRevisionDoc } from './user-revisions';
import type { MentionDoc } from './mentions';
import type { EpisodeDoc, EpisodeMonthDoc } from './episodes';
import { episodesCollection } from './episodes';
import type { EpisodePackCollections } from './episode-packs';
import { episodePackCollections } from './episode-packs';
import type { ContactCollections } from './contact-profiles';
import { contactCollections } from './contact-profiles';
import type { CountCollections } from './conversation-counts';
import { countCollections } from './conversation-counts';
import type { SearchTermDoc } from './search-index';
import { searchTerms } from './search-index';
import { userRevisions } from './user-revisions';

/**
 * The store's one accessor: every collection convoflow keeps, by the name each module gives it
 * (store/DESIGN.md, "Where things go"). The documents are declared in store/documents.ts, their `_id`s
 * built in store/ids.ts, the write helpers in store/writes.ts; this file re-exports them so callers
 * import one module.
 */
export type * from './documents';
export { insertNew, insertOnce, isDuplicateKeyError, replaceWhole } from './writes';
export { broadcastDocId, broadcastOutcomesDocId, channelDocId, userDocId } from './ids';

export interface Collections {
  accounts: Collection<AccountDoc>;
  users: Collection<UserDoc>;
  apiKeys: Collection<ApiKeyDoc>;
  idempotency: Collection<IdempotencyDoc>;
  broadcasts: Collection<BroadcastDoc>;
  broadcastOutcomes: Collection<BroadcastOutcomesDoc>;
  conversations: Collection<ConversationDoc>;
  messages: Collection<MessageDoc>;
  events: Collection<EventDoc>;
  outbound: Collection<OutboundDoc>;
  contacts: Collection<ContactDoc>;
  channels: Collection<ChannelDoc>;
  sends: Collection<SendDoc>;
  providerMessages: Collection<ProviderMessageDoc>;
  persistFailures: Collection<PersistFailureDoc>;
  sessions: Collection<SessionDoc>;
  oidcLogins: Collection<OidcLoginDoc>;
  policyVersions: Collection<PolicyVersionDoc>;
  userRevisions: Collection<UserRevisionDoc>;
  /** WhatsApp message templates (store/templates.ts). */
  templates: Collection<TemplateDoc>;
  /** SPEC 10: who a note mentioned (store/mentions.ts). */
  mentions: Collection<MentionDoc>;
  /** Canned responses, account and personal (store/canned-responses.ts). */
  cannedResponses: Collection<CannedResponseDoc>;
  /** SPEC 11: one report row per episode (store/episodes.ts). */
  episodes: Collection<EpisodeDoc>;
  /** SPEC 11: the accounts' months that have rows, walked by the pack builder (store/episode-pack-builder.ts). */
  episodeMonths: Collection<EpisodeMonthDoc>;
  /** SPEC 11: the summary's packs of episode rows and their chunks (store/episode-packs.ts). */
  episodePacks: EpisodePackCollections;
  /** Presence, its claimed changes, tabs and heartbeats (store/presence.ts). */
  presence: PresenceCollections;
  /** Read marks and their claimed revisions (store/read-marks.ts). */
  readMarks: ReadMarkCollections;
  /** The accounts' change log (store/stream-log.ts, store/STREAM.md). */
  stream: StreamCollections;
  /** Media files and their chunks (store/media.ts). */
  media: MediaCollections;
  /** SPEC 11: contact profiles, their claimed revisions and name words (store/contact-profiles.ts). */
  contactProfiles: ContactCollections;
  /** The inbox's tab counts as moves and packs (store/conversation-counts.ts). */
  counts: CountCollections;
  /** SPEC 11: the message search index (store/search-index.ts). */
  searchTerms: Collection<SearchTermDoc>;
  /** WhatsApp webhook bodies kept before Meta is answered, until the account's inbox workflow fans them out (store/inbound-bodies.ts). */
  inboundBodies: Collection<InboundBodyDoc>;
  /** The day each body was marked done, by `_id`, so the purge finds an account's old bodies (store/inbound-bodies.ts). */
  inboundBodyDays: Collection<InboundBodyDayDoc>;
  /**
   * Seals and opens channel secrets (SECRETS_KEY, store/secret-box.ts). It travels with the collections
   * so that every reader of `channels` has it; without a key, secrets are stored as given.
   */
  channelSecrets: SecretBox;
}

export function collections(db: Db, options: { secrets?: SecretBox } = {}): Collections {
  return {
    channelSecrets: options.secrets ?? plaintextSecretBox,
    accounts: db.collection<AccountDoc>('accounts'),
    users: db.collection<UserDoc>('users'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    idempotency: db.collection<IdempotencyDoc>('idempotency'),
    broadcasts: db.collection<BroadcastDoc>('broadcasts'),
    broadcastOutcomes: db.collection<BroadcastOutcomesDoc>('broadcast_outcomes'),
    conversations: db.collection<ConversationDoc>('conversations'),
    messages: db.collection<MessageDoc>('messages'),
    events: db.collection<EventDoc>('events'),
    outbound: db.collection<OutboundDoc>('outbound'),
    contacts: db.collection<ContactDoc>('contacts'),
    channels: db.collection<ChannelDoc>('channels'),
    sends: db.collection<SendDoc>('sends'),
    providerMessages: db.collection<ProviderMessageDoc>('provider_messages'),
    persistFailures: db.collection<PersistFailureDoc>('persist_failures'),
    sessions: db.collection<SessionDoc>('sessions'),
    oidcLogins: db.collection<OidcLoginDoc>('oidc_logins'),
    policyVersions: policyVersions(db),
    userRevisions: userRevisions(db),
    templates: templates(db),
    mentions: db.collection<MentionDoc>('mentions'),
    cannedResponses: cannedResponsesCollection(db),
    episodes: episodesCollection(db),
    episodeMonths: db.collection<EpisodeMonthDoc>('episode_months'),
    episodePacks: episodePackCollections(db),
    presence: presenceCollections(db),
    readMarks: readMarkCollections(db),
    stream: streamCollections(db),
    media: mediaCollections(db),
    contactProfiles: contactCollections(db),
    counts: countCollections(db),
    searchTerms: searchTerms(db),
    inboundBodies: inboundBodiesCollection(db),
    inboundBodyDays: inboundBodyDaysCollection(db),
  };
}

/**
 * One index per inbox query of SPEC section 5: every list is scoped to an account, optionally filtered
 * by status, assignee, channel, team or tag, newest activity first, with `_id` as the tie-breaker the
 * cursor uses; and the longest-waiting list (issue 22, item 12) in `waitingSince` order.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const onFerretDB = (await conditionalWritesOf(db)) === 'read-then-write';
  for (const [collection, key, name] of storeIndexes({ onFerretDB })) await db.collection(collection).createIndex(key, { name });
  // Created by earlier versions; on FerretDB they made every conversation "odd" to the top-N pushdown.
  if (onFerretDB) for (const [collection, , name] of mongoOnlyIndexes) await dropIndexIfPresent(db, collection, name);
}

/**
 * Indexes kept on MongoDB only. The patched FerretDB top-N pushdown (dev/ferretdb-pushdown/README.md)
 * reads, on every page, every row that holds an array in a key of any index it could use, or anything but
 * a string (or a bool, or nothing) in the last two keys of one. Every view has `tags` (an array), and most
 * have `waitingSince: null` (nobody waits), so with these two indexes every row was read for every inbox
 * page: 3 to 5 s a page at 10,000 conversations, no answer within 30 s at 100,000 (bench, 2026-12-07;
 * both indexes came on 2026-12-06). Without them, a tag filter is served by `account_newest` in order (the
 * pushdown applies any further equality as it reads), and `sort=oldest_waiting` reads the account's
 * conversations, as both did in effect with the indexes.
 */
const mongoOnlyIndexes: [collection: string, key: Record<string, 1 | -1>, name: string][] = [
  ['conversations', { accountId: 1, tags: 1, lastActivityAt: -1, _id: -1 }, 'account_tag_newest'],
  // `sort=oldest_waiting`: longest-waiting customer first, `_id` the cursor's tie-breaker.
  ['conversations', { accountId: 1, waitingSince: 1, _id: 1 }, 'account_waiting_oldest'],
];

async function dropIndexIfPresent(db: Db, collection: string, name: string): Promise<void> {
  const present = await db.collection(collection).indexExists(name).catch(() => false);
  if (present) await db.collection(collection).dropIndex(name);
}

/**
 * Every index the store keeps, in the order `ensureIndexes` creates them (one per command, in sequence:
 * FerretDB 1.24 panics on a createIndexes command that names two or more indexes which already exist,
 * which is every start after the first).
 * On FerretDB, not `mongoOnlyIndexes`.
 */
export function storeIndexes({ onFerretDB }: { onFerretDB: boolean }): [collection: string, key: Record<string, 1 | -1>, name: string][] {
  const newest = { lastActivityAt: -1, _id: -1 } as const;
  return [
    ['conversations', { accountId: 1, ...newest }, 'account_newest'],
    ['conversations', { accountId: 1, status: 1, ...newest }, 'account_status_newest'],
    ['conversations', { accountId: 1, assigneeId: 1, ...newest }, 'account_assignee_newest'],
    ['conversations', { accountId: 1, channel: 1, ...newest }, 'account_channel_newest'],
    ['conversations', { accountId: 1, team: 1, ...newest }, 'account_team_newest'],
    ...(onFerretDB ? [] : mongoOnlyIndexes),
    ['messages', { conversationId: 1, seq: 1 }, 'conversation_seq'],
    ['events', { conversationId: 1, seq: 1 }, 'conversation_seq'],
    // The timeline in seq order, served on FerretDB too (a string sort ending with `_id`: store/timeline.ts).
    ['messages', { conversationId: 1, pos: 1, _id: 1 }, 'conversation_pos'],
    ['events', { conversationId: 1, pos: 1, _id: 1 }, 'conversation_pos'],
    ['users', { accountId: 1, userId: 1 }, 'account_user'],
    // Single sign-on finds users by e-mail (api/oidc.ts); sessions are listed per user and purged hourly.
    ['users', { email: 1 }, 'email'],
    ['sessions', { accountId: 1, userId: 1 }, 'account_user'],
    ['sessions', { expiresAt: 1 }, 'expires'],
    ['contacts', { accountId: 1, contacted: 1, _id: 1 }, 'account_contacted'],
    ['channels', { accountId: 1, 'config.provider': 1 }, 'account_provider'],
    ['templates', { accountId: 1, _id: 1 }, 'account_templates'],
    // A user's canned responses: the account's and their own (store/canned-responses.ts).
    ['canned_responses', { accountId: 1, scope: 1, ownerId: 1 }, 'account_scope_owner'],
    // The hourly purge of answers older than 24 h (no TTL indexes on FerretDB).
    ['idempotency', { createdAt: 1 }, 'created'],
    // A user's mentions, newest first: `_id` holds the time (store/mentions.ts).
    ['mentions', { accountId: 1, userId: 1, _id: -1 }, 'account_user_newest'],
    // SPEC 11: episode rows by start, ISO strings then `_id` (store/episodes.ts); with a channel.
    ['episodes', { accountId: 1, startedAt: 1, _id: 1 }, 'account_started'],
    ['episodes', { accountId: 1, channel: 1, startedAt: 1, _id: 1 }, 'account_channel_started'],
    // SPEC 11: the rows of a month written since a pack's mark, and a month's newest pack (store/episode-packs.ts).
    ['episodes', { accountId: 1, month: 1, writtenAt: 1, _id: 1 }, 'account_month_written'],
    ['episode_packs', { accountId: 1, month: 1, _id: 1 }, 'account_month'],
    // SPEC 11: a month's newest row pack (store/episode-row-packs.ts); the months with rows in `_id` order,
    // no equality: the pushdown reads them from the index, the builder's walk (store/episode-pack-builder.ts).
    ['episode_row_packs', { accountId: 1, month: 1, _id: 1 }, 'account_month'],
    ['episode_months', { accountId: 1, _id: 1 }, 'account_id'],
    // SPEC 11: a term's postings newest first (store/search-index.ts); contacts and their name words in
    // `_id` order, a prefix being a range of `_id`s (store/contact-profiles.ts). Each an equality and a sort
    // on `_id`, the shape the FerretDB pushdown serves (dev/ferretdb-pushdown/README.md).
    ['search_terms', { accountId: 1, term: 1, _id: -1 }, 'account_term_newest'],
    ['contact_profiles', { accountId: 1, _id: 1 }, 'account_id'],
    ['contact_name_terms', { accountId: 1, _id: 1 }, 'account_id'],
    // A customer's name words, so a copy deletes an older name's (store/contact-profiles.ts `writeCopy`).
    ['contact_name_terms', { accountId: 1, customer: 1, _id: 1 }, 'account_customer'],
    // The name search by pairs, and each account's name words (store/contact-profiles.ts `writeCopy`).
    ['contact_name_pairs', { accountId: 1, _id: 1 }, 'account_id'],
    ['contact_name_pairs', { accountId: 1, customer: 1, _id: 1 }, 'account_customer'],
    ['contact_name_words', { accountId: 1, _id: 1 }, 'account_id'],
    // The tab counts (store/conversation-counts.ts): an account's moves since a pack's mark (ISO strings
    // then `_id`), and its newest pack; each an equality and a sort, the pushdown's shape.
    ['count_moves', { accountId: 1, writtenAt: 1, _id: 1 }, 'account_written'],
    ['count_packs', { accountId: 1, _id: 1 }, 'account_id'],
  ];
}

/**
 * How a conditional write ("only if the stored version is older") reaches the server.
 * - `filter`: one update whose filter holds the condition, `{ _id, version: { $lt } }`: atomic on
 *   MongoDB, and served by the `_id` index.
 * - `read-then-write`: read the version by `_id`, then write by `_id`. FerretDB 1.24 pushes only a
 *   filter that is exactly `{ _id: <string> }` down to SQLite; any other filter reads and decodes the
 *   whole collection (measured: 6.7 ms per update at 100 conversations, 69 ms at 5,000). FerretDB runs a
 *   filtered update as a read then a write anyway, not as one atomic step, so doing the two steps here
 *   gives the same guarantee at a cost that does not grow with the collection.
 */
export type ConditionalWrites = 'filter' | 'read-then-write';

/** `read-then-write` for FerretDB (its buildInfo names its version), `filter` for MongoDB. */
export async function conditionalWritesOf(db: Db): Promise<ConditionalWrites> {
  const info = await db.admin().command({ buildInfo: 1 });
  return 'ferretdbVersion' in info ? 'read-then-write' : 'filter';
}

