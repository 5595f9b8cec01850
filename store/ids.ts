/**
 * Every document `_id` convoflow writes, built here and nowhere else (store/DESIGN.md). An `_id` is a
 * design decision, not a string: insert-once claims, "one writer per `_id`" and the reads FerretDB
 * answers from its index (a filter that is exactly `{ _id }`) all rest on these shapes. The workflow
 * sandbox cannot import this file; the one `_id` it builds (a delivery id) is noted at `deliveryId`.
 */

/** `users`: `{accountId}/{userId}`; presence documents start with it. */
export const userDocId = (accountId: string, userId: string): string => `${accountId}/${userId}`;

/** `channels`: `{accountId}/{channel}`. */
export const channelDocId = (accountId: string, channel: string): string => `${accountId}/${channel}`;

/** `contacts`: `{accountId}/{channel}/{customer}`, one per customer of a channel. */
export const contactDocId = (accountId: string, channel: string, customer: string): string => `${accountId}/${channel}/${customer}`;

/** `messages`: `{conversationId}/{messageId}`, one per message of the timeline. */
export const messageDocId = (conversationId: string, messageId: string): string => `${conversationId}/${messageId}`;

/** `events`: `{conversationId}/{seq}`. */
export const eventDocId = (conversationId: string, seq: number): string => `${conversationId}/${seq}`;

/** `episodes`: `{conversationId}/{episode}`, one report row per episode (SPEC 11, store/episodes.ts). */
export const episodeDocId = (conversationId: string, episode: number): string => `${conversationId}/${episode}`;

/**
 * `episode_packs`: `{accountId}/{month}/{mark}/{token}`, one summary pack of an account's month (SPEC 11,
 * store/episode-packs.ts). Insert-once; `mark` (ISO-8601) first, so the newest pack is the greatest `_id`
 * of its account and month; `token` (random) keeps two builders' packs of one mark apart.
 */
export const episodePackDocId = (accountId: string, month: string, mark: string, token: string): string => `${accountId}/${month}/${mark}/${token}`;

/** `episode_pack_chunks`: `{packId}/{n}`, the pack's n-th chunk, read and deleted by `_id` only. */
export const episodePackChunkDocId = (packId: string, n: number): string => `${packId}/${n}`;

/**
 * `episode_months`: `{accountId}/{month}`, an account's month that has rows (inserted once by the rows'
 * writer, store/episodes.ts `noteEpisodeMonth`): what the pack builder walks (store/episode-pack-builder.ts).
 * Row packs (`episode_row_packs`) take `episodePackDocId`'s shape, their chunks `episodePackChunkDocId`'s.
 */
export const episodeMonthDocId = (accountId: string, month: string): string => `${accountId}/${month}`;

/** `episode_pack_claims`: `{accountId}/{month}/{slot}`, insert-once: the one builder of that month in that time slot (ISO-8601). */
export const episodePackClaimDocId = (accountId: string, month: string, slot: string): string => `${accountId}/${month}/${slot}`;

/**
 * `sends` and `outbound`: a conversation message's delivery id, `{conversationId}/{messageId}` (a campaign
 * send's is its workflow id, workflows/campaign/ids.ts). workflows/conversation/outbox.ts builds the same
 * string inside the sandbox, which cannot import this file.
 */
export const deliveryId = (conversationId: string, messageId: string): string => `${conversationId}/${messageId}`;

/** `provider_messages`: `{accountId}/{providerMessageId}`, how a receipt finds its message. */
export const providerMessageDocId = (accountId: string, providerMessageId: string): string => `${accountId}/${providerMessageId}`;

/** `persist_failures`: `{conversationId}/{version}`. */
export const persistFailureDocId = (conversationId: string, version: number): string => `${conversationId}/${version}`;

/** `broadcasts`: `{accountId}/{broadcastId}`. */
export const broadcastDocId = (accountId: string, broadcastId: string): string => `${accountId}/${broadcastId}`;

/** `broadcast_outcomes`: `{accountId}/{broadcastId}/{index}`, one per chunk. */
export const broadcastOutcomesDocId = (accountId: string, broadcastId: string, index: number): string => `${accountId}/${broadcastId}/${index}`;

/** `policy_versions`: `{accountId}/{version}`, claimed insert-once. */
export const policyVersionId = (accountId: string, version: number): string => `${accountId}/${version}`;

/** `user_revisions`: `{userDocId}/{rev}`, claimed insert-once. */
export const userRevisionId = (userDocId: string, rev: number): string => `${userDocId}/${rev}`;

/** `presence_changes`: `{userDocId}/{rev}`, claimed insert-once (`presence` itself is keyed by the userDocId). */
export const presenceChangeId = (userDocId: string, rev: number): string => `${userDocId}/${rev}`;
/** `presence_tabs`: `{userDocId}/{connectionId}`, one per stream a tab opened. */
export const tabDocId = (userDocId: string, connectionId: string): string => `${userDocId}/${connectionId}`;
/** `presence_activity`: `{userDocId}/{tabId}`, the tab's newest heartbeat. */
export const tabActivityId = (userDocId: string, tabId: string): string => `${userDocId}/${tabId}`;

/** `read_marks`: `{conversationId}/{userId}`. */
export const readMarkId = (conversationId: string, userId: string): string => `${conversationId}/${userId}`;
/** `read_mark_revisions`: `{conversationId}/{userId}/{rev}`, claimed insert-once. */
export const readMarkRevisionId = (conversationId: string, userId: string, rev: number): string => `${readMarkId(conversationId, userId)}/${rev}`;

/** `stream_entries`: `{accountId}/{seq}`, claimed insert-once (store/STREAM.md); `stream_heads` is keyed by the accountId. */
export const streamEntryId = (accountId: string, seq: number): string => `${accountId}/${seq}`;

/** `templates`: `{accountId}/{name}/{language}`, one per WhatsApp template of the account (store/templates.ts). */
export const templateDocId = (accountId: string, name: string, language: string): string => `${accountId}/${name}/${language}`;

/**
 * `mentions`: `{accountId}/{userId}/{ISO time}/{conversationId}/{messageId}`, insert-once per mentioned
 * user of a note. The time inside makes `_id` order the list's order (store/mentions.ts).
 */
export const mentionDocId = (accountId: string, userId: string, at: number, conversationId: string, messageId: string): string =>
  `${accountId}/${userId}/${new Date(at).toISOString()}/${conversationId}/${messageId}`;

/**
 * `canned_responses`: `{accountId}/account/{shortCode}` and `{accountId}/user/{userId}/{shortCode}`: one
 * per short code per scope owner (SPEC 10), so a code is unique by `_id` and each owner's writes touch
 * only their own documents. Neither part holds a `/` (api/schemas.ts, api/canned-text.ts).
 */
export const cannedResponseId = (accountId: string, owner: { scope: 'account' } | { scope: 'personal'; userId: string }, shortCode: string): string =>
  owner.scope === 'account' ? `${accountId}/account/${shortCode}` : `${accountId}/user/${owner.userId}/${shortCode}`;

/**
 * SPEC 11 contacts (store/contact-profiles.ts): `contact_profiles` `{accountId}/{customer}`, one per customer
 * of the account across its channels; `contact_revisions` `{accountId}/{customer}/{rev}`, claimed
 * insert-once; `contact_name_terms` `{accountId}/{word}/{customer}`, one per word of a contact's name. A
 * customer is digits and a word letters and digits (both above `/`), so `_id` order is (word, customer)
 * order and a prefix of a word is a range of `_id`s.
 */
export const contactProfileId = (accountId: string, customer: string): string => `${accountId}/${customer}`;
export const contactRevisionId = (accountId: string, customer: string, rev: number): string => `${accountId}/${customer}/${rev}`;
export const contactNameTermId = (accountId: string, word: string, customer: string): string => `${accountId}/${word}/${customer}`;
/**
 * The name search by pairs (workflows/conversation/core/contact-search.ts): `contact_name_pairs`
 * `{accountId}/{first}/{second}/{customer}`, one per ordered pair of distinct words of a name (a name's
 * long row: both words empty, `{accountId}///{customer}`, before every pair), and `contact_name_words`
 * `{accountId}/{word}`, every word any name of the account had, insert-once.
 */
export const contactNamePairId = (accountId: string, first: string, second: string, customer: string): string => `${accountId}/${first}/${second}/${customer}`;
export const contactNameWordId = (accountId: string, word: string): string => `${accountId}/${word}`;

/**
 * `search_terms` (store/search-index.ts): `{accountId}/{term}/{ISO time}/{conversationId}/{messageId}`, one per
 * term of a message, insert-once. Within one term, `_id` order is time order (ISO-8601 in UTC, fixed
 * width), so the newest first is `_id` descending.
 */
export const searchTermId = (accountId: string, term: string, at: number, conversationId: string, messageId: string): string =>
  `${accountId}/${term}/${new Date(at).toISOString()}/${conversationId}/${messageId}`;
