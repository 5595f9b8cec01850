import type { ChannelConfig } from '../channels/types';
import type { RecipientOutcome } from '../workflows/broadcast/messages';
import type { Actor, MessageRecord, Role, TransitionEvent } from '../workflows/conversation/core/lifecycle';
import type { TemplateRef } from '../workflows/conversation/core/model';
import type { FlatContent } from '../workflows/conversation/core/outbound';
import type { Policy } from '../workflows/conversation/core/policy';
import type { Presence } from '../workflows/routing/routing';
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
  /** Key rotation (issue 11): when the key stops working; absent or null: never on its own (only when revoked). */
  expiresAt?: Date | null;
  /**
   * A service key made by rotating another: the id of the first key of that chain (api/keys.ts
   * serviceKeyIdOf), so the caller stays the same one for Idempotency-Keys across rotations.
   */
  lineage?: string;
}

export interface ConversationDoc extends Omit<ConversationView, 'id'> {
  _id: string;
}

export interface MessageDoc extends MessageRecord {
  _id: string; // `${conversationId}/${messageId}`: one document per provider message id
  conversationId: string;
  accountId: string;
  /** The seq as a fixed-width string, the timeline's order on both stores (store/timeline.ts); absent on records written before it. */
  pos?: string;
}

export interface EventDoc extends TransitionEvent {
  _id: string; // `${conversationId}/${seq}`
  conversationId: string;
  accountId: string;
  /** As a message's. */
  pos?: string;
}

/**
 * What the recording channel provider (a channel with no configuration) records instead of sending: the
 * envelope, and the content whole in its flat form (`flatContentOf`: `kind`, `text`, `template`, and any
 * field a newer kind has).
 */
export type OutboundDoc = {
  _id: string; // `${conversationId}/${messageId}` or `campaign/${accountId}/${campaignId}/${channel}/${customer}`
  accountId: string;
  channel: string;
  customer: string;
  conversationId: string | null;
  campaignId: string | null;
  createdAt: Date;
} & FlatContent;

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
  _id: string; // `${conversationId}/${version}`; a light batch's `${conversationId}/${version}/d/${deliveries}`
  conversationId: string;
  accountId: string;
  version: number;
  error: string;
  messageIds: string[];
  eventSeqs: number[];
  /** A light batch (deliveries only, at a version already written): `{messageId}:{status}` of each delivery. */
  deliveries?: string[];
  at: Date;
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
  /**
   * `body` as JSON text; with `sealed`, that text encrypted under the caller's credential (an answer that
   * holds a secret: api/idempotency.ts), base64.
   */
  response: { status: number; body: string; sealed?: boolean } | null;
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

