import type { Collection, Db, OptionalUnlessRequiredId } from 'mongodb';
import type { ChannelConfig } from '../channels/types';
import type { RecipientOutcome } from '../workflows/broadcast/messages';
import type { Actor, MessageRecord, Role, TransitionEvent } from '../workflows/conversation/core/lifecycle';
import type { TemplateRef } from '../workflows/conversation/core/model';
import type { Policy } from '../workflows/conversation/core/policy';
import type { Presence } from '../workflows/routing/routing';
import type { OidcLoginDoc, SessionDoc } from './sessions';
import type { ConversationView } from '../workflows/conversation/core/view';

/**
 * The MongoDB documents convoflow keeps. Everything the inbox reads is a view written by the
 * conversation workflows; accounts, users and keys are written by the API. Only features that both
 * MongoDB and FerretDB support are used (no transactions, no change streams).
 */
export interface AccountDoc {
  _id: string;
  name: string;
  policy: Policy;
  createdAt: Date;
}

export interface UserDoc {
  _id: string; // `${accountId}/${userId}`
  accountId: string;
  userId: string;
  name: string;
  role: Role;
  active: boolean;
  teams: string[];
  languages: string[];
  maxConcurrent: number | null;
  presence?: Presence;
  /** Lower-cased; how single sign-on (api/oidc.ts) finds the user. Absent or null: none. */
  email?: string | null;
  createdAt: Date;
  /** The profile revision this copy holds (store/user-revisions.ts); absent: 0. */
  rev?: number;
}

/** Keys are stored as SHA-256 hashes; the key itself is shown once, at creation. */
export interface ApiKeyDoc {
  _id: string; // sha256 hex of the key
  accountId: string;
  kind: 'user' | 'service';
  userId: string | null;
  name: string;
  createdAt: Date;
}

export interface ConversationDoc extends Omit<ConversationView, 'id'> {
  _id: string;
}

export interface MessageDoc extends MessageRecord {
  _id: string; // `${conversationId}/${messageId}`: one document per provider message id
  conversationId: string;
  accountId: string;
}

export interface EventDoc extends TransitionEvent {
  _id: string; // `${conversationId}/${seq}`
  conversationId: string;
  accountId: string;
}

/** What the recording channel provider (a channel with no configuration) records instead of sending. */
export interface OutboundDoc {
  _id: string; // `${conversationId}/${messageId}` or `campaign/${accountId}/${campaignId}/${channel}/${customer}`
  accountId: string;
  channel: string;
  customer: string;
  conversationId: string | null;
  campaignId: string | null;
  kind: 'text' | 'template';
  text: string | null;
  template: { name: string; language?: string; params?: string[] } | null;
  createdAt: Date;
}

/** A customer known to the account on a channel: through a campaign send, or through a conversation. */
export interface ContactDoc {
  _id: string; // `${accountId}/${channel}/${customer}`
  accountId: string;
  channel: string;
  customer: string;
  /** False until the customer wrote (a conversation exists): seed 002's "not contacted". */
  contacted: boolean;
  createdAt: Date;
}

/** One channel (business number) of an account and how its messages go out (SPEC section 7). Written only by the API. */
export interface ChannelDoc {
  _id: string; // `${accountId}/${channel}`
  accountId: string;
  channel: string;
  /** Secrets included: never returned by a route, never logged. */
  config: ChannelConfig;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A message the provider accepted, written by the send right after the provider's answer: a retried
 * send finds it and does not send again. Insert-once, so its one writer is whichever attempt got there.
 */
export interface SendDoc {
  _id: string; // the delivery id: `${conversationId}/${messageId}` or the campaign send id
  accountId: string;
  conversationId: string | null;
  messageId: string;
  providerMessageId: string;
  sentAt: Date;
}

/** From a provider's message id back to the message, for receipts that name only that id. Insert-once. */
export interface ProviderMessageDoc {
  _id: string; // `${accountId}/${providerMessageId}`
  accountId: string;
  providerMessageId: string;
  deliveryId: string;
  conversationId: string | null;
  messageId: string;
}

/** A conversation batch the database refused for good (issue 11): what it was and why. Insert-once. */
export interface PersistFailureDoc {
  _id: string; // `${conversationId}/${version}`
  conversationId: string;
  accountId: string;
  version: number;
  error: string;
  messageIds: string[];
  eventSeqs: number[];
  at: Date;
}

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
}

export function collections(db: Db): Collections {
  return {
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
  };
}

/**
 * One index per inbox query of SPEC section 5: every list is scoped to an account, optionally filtered
 * by status, assignee, channel, team or tag, newest activity first, with `_id` as the tie-breaker the
 * cursor uses; and the longest-waiting list (issue 22, item 12) in `waitingSince` order.
 */
export async function ensureIndexes(db: Db): Promise<void> {
  const newest = { lastActivityAt: -1, _id: -1 } as const;
  const wanted: [collection: string, key: Record<string, 1 | -1>, name: string][] = [
    ['conversations', { accountId: 1, ...newest }, 'account_newest'],
    ['conversations', { accountId: 1, status: 1, ...newest }, 'account_status_newest'],
    ['conversations', { accountId: 1, assigneeId: 1, ...newest }, 'account_assignee_newest'],
    ['conversations', { accountId: 1, channel: 1, ...newest }, 'account_channel_newest'],
    ['conversations', { accountId: 1, team: 1, ...newest }, 'account_team_newest'],
    ['conversations', { accountId: 1, tags: 1, ...newest }, 'account_tag_newest'],
    // `sort=oldest_waiting`: longest-waiting customer first, `_id` the cursor's tie-breaker.
    ['conversations', { accountId: 1, waitingSince: 1, _id: 1 }, 'account_waiting_oldest'],
    ['messages', { conversationId: 1, seq: 1 }, 'conversation_seq'],
    ['events', { conversationId: 1, seq: 1 }, 'conversation_seq'],
    ['users', { accountId: 1, userId: 1 }, 'account_user'],
    // Single sign-on finds users by e-mail (api/oidc.ts); sessions are listed per user and purged hourly.
    ['users', { email: 1 }, 'email'],
    ['sessions', { accountId: 1, userId: 1 }, 'account_user'],
    ['sessions', { expiresAt: 1 }, 'expires'],
    ['contacts', { accountId: 1, contacted: 1, _id: 1 }, 'account_contacted'],
    ['channels', { accountId: 1, 'config.provider': 1 }, 'account_provider'],
    // The hourly purge of answers older than 24 h (no TTL indexes on FerretDB).
    ['idempotency', { createdAt: 1 }, 'created'],
  ];
  // One index per command, in sequence: FerretDB 1.24 panics on a createIndexes command that names
  // two or more indexes which already exist, which is every start after the first.
  for (const [collection, key, name] of wanted) await db.collection(collection).createIndex(key, { name });
}

/** Inserts a new document; false when one with the same `_id` exists (the caller answers 409). */
export async function insertNew<T extends { _id: string }>(collection: Collection<T>, doc: T): Promise<boolean> {
  try {
    await collection.insertOne(doc as Parameters<Collection<T>['insertOne']>[0]);
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

export const channelDocId = (accountId: string, channel: string): string => `${accountId}/${channel}`;

/** Inserts each document unless one with its `_id` exists: a retried write records nothing twice. */
export async function insertOnce<T extends { _id: string }>(collection: Collection<T>, docs: T[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    // Unordered: a document that is already there (an earlier attempt wrote it) does not stop the rest.
    await collection.insertMany(docs.map((doc) => doc as OptionalUnlessRequiredId<T>), { ordered: false });
  } catch (error) {
    // A duplicate `_id` means the document is there, which is exactly what this write wants.
    if (!onlyDuplicateKeys(error)) throw error;
  }
}

function onlyDuplicateKeys(error: unknown): boolean {
  if (isDuplicateKeyError(error)) return true;
  const writeErrors = (error as { writeErrors?: { code?: number }[] | { code?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e) => e.code === 11000);
}

export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
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

/** A user's document `_id`, `${accountId}/${userId}`: built here and nowhere else. */
export function userDocId(accountId: string, userId: string): string {
  return `${accountId}/${userId}`;
}

/**
 * Key rotation (issue 11): an old key may keep working for a grace period after a new one is issued.
 * Declared as an addition to ApiKeyDoc above (interfaces merge) so this file's other changes merge
 * cleanly; fold it into ApiKeyDoc when convenient.
 */
export interface ApiKeyDoc {
  /** When the key stops working; absent or null: never on its own (only when revoked). */
  expiresAt?: Date | null;
}

/**
 * The first answer of a request with an `Idempotency-Key` (api/idempotency.ts). Insert-once by the
 * request that claims the key, then completed by that same request by `_id`: one writer per record.
 */
export interface IdempotencyDoc {
  _id: string; // sha256 of (accountId, principal, key), then `.1`, `.2`, ... for a key whose record was abandoned
  accountId: string;
  principal: string;
  /** sha256 of method, path and body: the same key for another request is 409 `conflict`. */
  fingerprint: string;
  state: 'pending' | 'done';
  /** `body` as JSON text. */
  response: { status: number; body: string } | null;
  createdAt: Date;
  answeredAt?: Date;
}

/**
 * A broadcast's summary (issue 11, item 6). Written only by its broadcast workflow: inserted before the
 * first chunk, marked done after the last.
 */
export interface BroadcastDoc {
  _id: string; // `${accountId}/${broadcastId}`
  accountId: string;
  broadcastId: string;
  template: TemplateRef;
  priority: boolean;
  actor: Actor;
  total: number;
  chunkCount: number;
  status: 'running' | 'done';
  sent: number | null;
  skipped: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** The outcomes of one chunk of a broadcast, inserted once by the chunk's activity when it is done. */
export interface BroadcastOutcomesDoc {
  _id: string; // `${accountId}/${broadcastId}/${index}`
  accountId: string;
  broadcastId: string;
  index: number;
  outcomes: RecipientOutcome[];
  createdAt: Date;
}

export const broadcastDocId = (accountId: string, broadcastId: string): string => `${accountId}/${broadcastId}`;
export const broadcastOutcomesDocId = (accountId: string, broadcastId: string, index: number): string => `${accountId}/${broadcastId}/${index}`;
