/**
 * The lifecycle's vocabulary: statuses, actors, inputs, state, records and effects. Plain types and a
 * few pure helpers; the rules that use them live in rules-*.ts and are dispatched by lifecycle.ts.
 */

import type { InteractiveMessage } from './interactive';
import type { LegacyContentFields, OutboundContent, SessionContent, TemplateContent, TemplateRef } from './outbound';
import { outboundContentOf } from './outbound';
import type { SlaMetric, SlaPriority, SlaState } from './sla';

export type { TemplateRef } from './outbound';

export type Role = 'owner' | 'admin' | 'manager' | 'agent';

/**
 * Every status of every preset (SPEC sections 2 and 3). The default preset uses open, assigned and
 * closed; `in_flow` and `resolved` come with seed 002's policy, `waiting` and `wrap_up` with seed 004's;
 * `snoozed` (SPEC 9) with every preset: put aside until a time, keeping its assignee (rules-snooze.ts).
 */
export type Status = 'open' | 'assigned' | 'closed' | 'in_flow' | 'resolved' | 'waiting' | 'wrap_up' | 'snoozed';

export type ClosedReason = 'resolved' | 'inactivity' | 'idle' | 'ended' | 'customer_left' | 'flow_ended' | 'csat_timeout';

/** Who acts. Users act through the API; services through the API or Temporal; the customer and the system through the workflow. */
export type Actor =
  | { kind: 'user'; userId: string; role: Role }
  | { kind: 'service'; serviceId: string }
  | { kind: 'customer' }
  | { kind: 'system' };

/** Stable rejection codes; the API maps each to an HTTP status. `conflict`: not possible in this state or under this policy. */
export type RejectionCode = 'forbidden' | 'not_assignee' | 'conversation_closed' | 'window_expired' | 'validation_failed' | 'conflict';

/**
 * What a customer can send (SPEC section 7): WhatsApp's message types. Button and interactive replies
 * carry their title as `text`; media, locations, contacts and reactions keep their details in
 * `MessageContent`. Every kind is a customer message: it refreshes the window and reopens.
 */
export type InboundKind =
  | 'text'
  | 'button'
  | 'interactive'
  | 'image'
  | 'audio'
  | 'video'
  | 'document'
  | 'sticker'
  | 'location'
  | 'contacts'
  | 'reaction'
  | 'order'
  | 'system'
  | 'unsupported';

/** `note` (SPEC 10): a user's internal note on the timeline, never sent (`direction: 'internal'`). */
export type MessageKind = InboundKind | 'template' | 'note';

export const inboundKinds: readonly InboundKind[] = [
  'text',
  'button',
  'interactive',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'reaction',
  'order',
  'system',
  'unsupported',
];

/** The type-specific part of a message, as the provider described it (ids, not bytes: media stay at the provider). */
export interface MessageContent {
  /**
   * image, audio, video, document, sticker. `id` is convoflow's (GET .../media/{id}) for WhatsApp media
   * received since 2026-12 (SPEC section 10), with the provider's as `providerMediaId`; before, the provider's.
   */
  media?: { id: string; mimeType?: string; sha256?: string; filename?: string; caption?: string; voice?: boolean; animated?: boolean; providerMediaId?: string };
  location?: { latitude: number; longitude: number; name?: string; address?: string; url?: string };
  /** contacts: the shared contact cards as the provider sent them. */
  contacts?: Record<string, unknown>[];
  /** reaction: the emoji put on (or, when empty, taken off) one of the business's messages. */
  reaction?: { messageId: string; emoji: string };
  /** button and interactive replies: which choice (its id or payload) and its title. */
  choice?: { id: string; title: string; description?: string; type: string };
  /** SPEC 10, outbound only: the buttons or list the business sent (its body is the record's text). */
  interactive?: InteractiveMessage;
  /** Click-to-WhatsApp ad or post the customer came from. */
  referral?: Record<string, unknown>;
  /** order, system and unsupported messages: what the provider said about them. */
  details?: Record<string, unknown>;
  /** unsupported messages: the provider's reasons. */
  errors?: { code: number; title: string; message?: string }[];
}

/** Delivery of a business message (SPEC section 7): only forwards, queued < sent < delivered < read; failed from any but read. */
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

/** The provider's reason: Graph API error codes are integers (131047: the 24-hour window closed). */
export interface DeliveryError {
  code: number | string;
  message: string;
}

export interface Delivery {
  status: DeliveryStatus;
  providerMessageId: string | null;
  error: DeliveryError | null;
  /** When the status last moved, epoch ms. */
  updatedAt: number;
}

export interface InboundMessage {
  messageId: string;
  /** What kind of message; text when absent. */
  kind?: InboundKind;
  /** The words: the body of a text, the caption of media, the title of a button. Absent for, e.g., an image without caption. */
  text?: string;
  content?: MessageContent;
  /** When the customer sent it, epoch ms, if the provider said so. */
  sentAt?: number;
  customerName?: string;
  replyTo?: { messageId?: string; campaignId?: string };
  attributes?: Record<string, string>;
  /** Something was over a field limit (core/limits.ts) and was cut: the text, a caption, attributes. */
  truncated?: true;
}

export type FlowTarget = { userId: string } | { team: string };

export type Input =
  // The customer
  | { type: 'customerMessage'; message: InboundMessage }
  | { type: 'customerLeft' }
  | { type: 'csatAnswer'; score: number }
  // Users
  | { type: 'reply'; content: SessionContent; replyTo?: string }
  | { type: 'template'; content: TemplateContent }
  | { type: 'assign'; assigneeId: string }
  | { type: 'takeOver' }
  | { type: 'resolve' }
  | { type: 'end' }
  | { type: 'leave' }
  | { type: 'revive' }
  | { type: 'releaseToQueue' }
  | { type: 'transfer'; team: string }
  | { type: 'tags'; add: string[]; remove: string[] }
  // Automations and broadcasts (services or supervisors)
  | { type: 'flowStart'; priority: boolean }
  | { type: 'flowEnd'; assignTo: FlowTarget | null }
  | { type: 'broadcast'; template: TemplateRef; priority: boolean }
  // The system: timers, the router, presence
  | { type: 'timer' }
  | { type: 'routed'; assigneeId: string; rule: string }
  | { type: 'release'; userId: string; reason: string }
  | { type: 'agentPresence'; userId: string; online: boolean }
  // Delivery (SPEC section 7): what became of a send, from the sender; receipts from the provider
  | { type: 'sendOutcome'; messageId: string; result: SendOutcome }
  | { type: 'receipt'; receipt: Receipt }
  /** SPEC 9: the conversation's priority, which chooses its SLA targets. */
  | { type: 'priority'; priority: SlaPriority }
  /** SPEC 9: put aside until `until` (an ISO time, a duration like "2h", or "window"); `unsnooze` wakes it now. */
  | { type: 'snooze'; until: string }
  | { type: 'unsnooze' }
  /** SPEC 10: an internal note (rules-notes.ts); `mentions` are user ids the API checked are active users of the account. */
  | { type: 'note'; text: string; mentions: string[] };

/** What one send came to, as the channel reported it: the core never sees provider details. */
export type SendOutcome = { outcome: 'sent'; providerMessageId: string } | { outcome: 'failed'; error: DeliveryError };

/** A provider's delivery receipt for one of the business's messages. */
export interface Receipt {
  providerMessageId: string;
  status: Exclude<DeliveryStatus, 'queued'>;
  /** When the provider says it happened, epoch ms; receipt time when absent. */
  at?: number;
  error?: DeliveryError;
}

/**
 * What a queued message needs to go out; dropped from state once it has. The content is the union the
 * API built (`outbound.ts`), carried whole; states carried from older code hold the flat
 * `{ kind, text, template, replyTo }` instead, which `upgradeState` maps.
 */
export interface SendRequest {
  content: OutboundContent;
  /** The provider message id this one answers (WhatsApp's `context.message_id`). */
  replyTo: string | null;
}

/** One business message on its way to the customer, or recently delivered (for its receipts). */
export interface OutboxEntry {
  messageId: string;
  /** The state version that recorded it: it is sent only once the views hold that version. */
  version: number;
  status: DeliveryStatus;
  providerMessageId: string | null;
  /** Present while queued. */
  send: SendRequest | null;
}

export type InputType = Input['type'];

/** The conversation as the engine keeps it: plain JSON (epoch-ms numbers, arrays), safe across continue-as-new. */
export interface ConversationState {
  conversationId: string;
  accountId: string;
  channel: string;
  customer: string;
  customerName: string | null;
  status: Status;
  /** The agent who has the conversation: in assigned, and kept through waiting and wrap-up. */
  assigneeId: string | null;
  /** 0 until the first customer message, then 1, 2, ... one per pass from open to closed. */
  episode: number;
  unreadCount: number;
  lastCustomerMessageAt: number | null;
  /** When the conversation last became assigned from another state (reassignment keeps it). */
  assignedAt: number | null;
  /** When the conversation entered its current status. */
  statusSince: number | null;
  lastActivityAt: number | null;
  /** When anything about the conversation last changed. */
  updatedAt: number | null;
  closedReason: ClosedReason | null;
  closedAt: number | null;
  /** The last user the conversation was assigned to, kept after it leaves them (sticky routing). */
  lastAssigneeId: string | null;
  /** Whose capacity the conversation consumes now (reported to the router); depends on status and policy. */
  heldBy: string | null;
  /** The channel facts routing rules match on: the attributes of the message that opened the episode. */
  routingAttributes: Record<string, string> | null;
  /** A team chosen by a transfer or a flow, overriding the rules for the next routing. */
  routeTeam: string | null;
  /** When the assignee disconnected, if they have not reconnected since. */
  disconnectedAt: number | null;
  /** The campaign whose reply opened the current episode, if any. */
  campaignId: string | null;
  tags: string[];
  archived: boolean;
  csatScore: number | null;
  /** The customer-message time whose window expiry has already been recorded as an event. */
  windowExpiryRecordedFor: number | null;
  /** Increases with every accepted change; views are written only forwards along it. */
  version: number;
  /** Sequence numbers for timeline messages and transition events, unique within the conversation. */
  messageSeq: number;
  eventSeq: number;
  /** Recent provider message ids, newest last, so a redelivered message is recorded once. */
  recentMessageIds: string[];
  /** Business messages still to send, in order, and the most recent sent ones (for their receipts). */
  outbox: OutboxEntry[];
  /** Receipts that arrived before their send's outcome (a provider can be faster than our bookkeeping). */
  earlyReceipts: Receipt[];
  /** The provider refused a free-form message because the window closed (131047), at this time. */
  windowClosedAt: number | null;
  /** The satisfaction survey waiting for an answer, so a button reply to it is recognised. */
  csatMessageId: string | null;
  /** The newest timeline message, as the inbox list previews it (`previewOf`). */
  lastMessage: LastMessage | null;
  /**
   * When the oldest customer message that no user has answered yet (a reply or a template) was sent,
   * epoch ms; null when nobody waits, and always null once the episode has ended.
   */
  waitingSince: number | null;
  /**
   * The team the conversation belongs to now: the one a transfer or a flow named, else the one the
   * routing rules chose when it became open (null under manual routing). Kept while it is assigned,
   * cleared when the episode ends.
   */
  team: string | null;
  /**
   * How many customer (inbound) messages this conversation has recorded, across episodes and runs: it
   * only grows. Readers subtract a read mark's count from it (`unreadForMe`, docs/presence.md) instead of
   * counting messages. A state from older code starts it at 0 (`upgradeState`): differences taken from
   * then on are right, the total is not, which `inboundCountFromStart` says.
   */
  inboundCount: number;
  /** True when `inboundCount` counts every inbound message of the timeline (false: it started mid-way). */
  inboundCountFromStart: boolean;
  /**
   * The SLA clocks (core/sla.ts, SPEC 9). Absent: no SLA (a run from before the `sla-clocks` patch);
   * the shell seeds it (`withSlaState`) when the patch is taken.
   */
  sla?: SlaState;
  /**
   * Answer or reroute (core/answer-within.ts, SPEC 9). Absent: a run from before the `answer-within`
   * patch, which has no `answerWithin` deadline; the shell seeds it (`withAnswerState`).
   */
  answer?: AnswerState;
  /**
   * Out of office (core/out-of-office.ts, SPEC 9). Absent: a run from before the `out-of-office` patch,
   * which never sends the reply; the shell seeds it (`withOutOfOfficeState`).
   */
  outOfOffice?: OutOfOfficeState;
  /**
   * SPEC 9: when a snoozed conversation wakes, epoch ms; null when it is not snoozed. Absent: a run from
   * before the `snooze` patch, which refuses to snooze; the shell seeds it (`withSnoozeState`) when the
   * patch is taken.
   */
  snoozedUntil?: number | null;
}

export interface OutOfOfficeState {
  /** When the system last sent the out-of-office reply in this conversation: the cooldown runs from it. */
  lastSentAt: number | null;
  /** When a user last sent a message (a reply or a template): none goes out within 10 minutes of it. */
  lastUserMessageAt: number | null;
}

export interface AnswerState {
  /** When the current assignee got the conversation (null unless assigned): their time to answer runs from here at the earliest. */
  assigneeSince: number | null;
  /** Users who left a customer unanswered this episode; routing avoids them while anyone else is eligible. */
  unansweredBy: string[];
}

/** The list's preview of a conversation's newest message. `text` is at most `previewLength` characters. */
export interface LastMessage {
  direction: 'inbound' | 'outbound';
  kind: MessageKind;
  text: string;
  at: number;
}

/** `internal`: a note (SPEC 10), which no customer sees and no clock counts. */
export type MessageDirection = 'inbound' | 'outbound' | 'internal';

export interface MessageRecord {
  seq: number;
  messageId: string;
  direction: MessageDirection;
  kind: MessageKind;
  text: string | null;
  template: TemplateRef | null;
  /** Media, location, contacts, reaction or the choice of a button reply. */
  content: MessageContent | null;
  /** Business messages only: how far delivery got. */
  delivery: Delivery | null;
  authorId: string | null;
  at: number;
  sentAt: number | null;
  episode: number;
  replyTo: { messageId?: string; campaignId?: string } | null;
  attributes: Record<string, string> | null;
  /** Inbound only, present only when true: the customer's message was over a field limit and was cut (core/limits.ts). */
  truncated?: true;
  /**
   * The conversation's `inboundCount` once this message was recorded (this message included when it is
   * inbound): a read mark up to this message takes it, so unread = the view's count minus it. Absent on
   * messages recorded by older code.
   */
  inboundCount?: number;
  /** Notes only (SPEC 10): the users the note mentions, each once. Absent on every other message. */
  mentions?: string[];
}

export type ActorRef = { kind: Actor['kind']; id: string | null; role: Role | null };

export interface TransitionEvent {
  seq: number;
  at: number;
  episode: number;
  from: Status | null;
  to: Status;
  reason: string;
  actor: ActorRef;
  assigneeBefore: string | null;
  assigneeAfter: string | null;
  /** For automatic assignments: the routing rule that chose the team. */
  rule: string | null;
  /** What else the transition carried: the customer's CSAT score, or the message whose delivery failed. */
  details: { csatScore?: number; messageId?: string; error?: DeliveryError } | null;
  /**
   * What the entry is (SPEC 9): a transition (absent on entries recorded before SLA events existed), or
   * an SLA warning or breach, which changes no status (`from` = `to`) and carries `metric` and `dueAt`.
   */
  type?: EventType;
  metric?: SlaMetric;
  /** Epoch ms: the moment the metric's target is (or was) breached. */
  dueAt?: number;
}

export type EventType = 'transition' | 'sla_warning' | 'sla_breached';

export interface RoutingRequestEffect {
  channel: string;
  attributes: Record<string, string>;
  previousAssigneeId: string | null;
  since: number;
  /** A team chosen by a transfer or a flow; null lets the rules choose. */
  team: string | null;
  /** Users the router should not choose while anyone else is eligible (SPEC 9); absent when nobody is avoided. */
  avoid?: string[];
}

/** What the shell must do after a decision: record to the views, send through the channel, or tell the router. */
export type Effect =
  | { type: 'recordMessage'; message: MessageRecord }
  | { type: 'recordEvent'; event: TransitionEvent }
  | { type: 'send'; message: MessageRecord }
  | { type: 'recordDelivery'; messageId: string; delivery: Delivery }
  | { type: 'requestRouting'; request: RoutingRequestEffect }
  | { type: 'reportAssignment'; assigneeId: string | null };

export type Decision =
  | { ok: true; state: ConversationState; effects: Effect[]; changed: boolean }
  | { ok: false; code: RejectionCode; message: string };

/** How many provider message ids a conversation remembers for deduplication. */
export const dedupeWindow = 500;

/** How many sent messages a conversation keeps in state for their receipts (queued ones are always kept). */
export const outboxWindow = 100;

/** How many receipts for sends not yet known a conversation holds on to. */
export const earlyReceiptWindow = 50;

export function initialState(ids: { conversationId: string; accountId: string; channel: string; customer: string }): ConversationState {
  return {
    ...ids,
    customerName: null,
    status: 'closed',
    assigneeId: null,
    episode: 0,
    unreadCount: 0,
    lastCustomerMessageAt: null,
    assignedAt: null,
    statusSince: null,
    lastActivityAt: null,
    updatedAt: null,
    closedReason: null,
    closedAt: null,
    lastAssigneeId: null,
    heldBy: null,
    routingAttributes: null,
    routeTeam: null,
    disconnectedAt: null,
    campaignId: null,
    tags: [],
    archived: false,
    csatScore: null,
    windowExpiryRecordedFor: null,
    version: 0,
    messageSeq: 0,
    eventSeq: 0,
    recentMessageIds: [],
    outbox: [],
    earlyReceipts: [],
    windowClosedAt: null,
    csatMessageId: null,
    lastMessage: null,
    waitingSince: null,
    team: null,
    inboundCount: 0,
    inboundCountFromStart: true,
  };
}

/**
 * Fills fields that a state carried across continue-as-new from an older version of the engine lacks,
 * so a running conversation upgrades in place.
 */
export function upgradeState(state: ConversationState): ConversationState {
  const defaults = initialState(state);
  const upgraded = { ...defaults, ...state };
  if ((state as Partial<ConversationState>).waitingSince === undefined) {
    // Older states do not know when the oldest unanswered message came; the newest one's time is the
    // best they have (unread messages are those since the last business message). It errs late: such a
    // conversation never claims to have waited longer than it did.
    const waits = upgraded.unreadCount > 0 && !isEnded(upgraded.status) && !isNew(upgraded);
    upgraded.waitingSince = waits ? upgraded.lastCustomerMessageAt : null;
  }
  if ((state as Partial<ConversationState>).inboundCount === undefined) {
    // Older states did not count: start at 0. Differences from here on are exact; the total is exact
    // only if nothing was recorded yet.
    upgraded.inboundCount = 0;
    upgraded.inboundCountFromStart = upgraded.messageSeq === 0;
  }
  upgraded.outbox = upgraded.outbox.map(upgradeOutboxEntry);
  return upgraded;
}

/** A send request as older code kept it: the content's fields flat beside `replyTo`. */
type LegacySendRequest = LegacyContentFields & { replyTo?: string | null };

/** An outbox entry carried from older code holds its queued message in the flat shape: read it as the union. */
function upgradeOutboxEntry(entry: OutboxEntry): OutboxEntry {
  const send = entry.send as SendRequest | LegacySendRequest | null;
  if (send === null || 'content' in send) return entry;
  return { ...entry, send: { content: outboundContentOf(send), replyTo: send.replyTo ?? null } };
}

/** True before the first customer message: the conversation exists only as a workflow id. */
export function isNew(state: ConversationState): boolean {
  return state.episode === 0;
}

export function isSupervisor(role: Role): boolean {
  return role !== 'agent';
}

/** Ended states: nothing happens in them but a customer message (a new episode) or a template. */
export function isEnded(status: Status): boolean {
  return status === 'closed' || status === 'resolved';
}

export function actorRef(actor: Actor): ActorRef {
  switch (actor.kind) {
    case 'user':
      return { kind: 'user', id: actor.userId, role: actor.role };
    case 'service':
      return { kind: 'service', id: actor.serviceId, role: null };
    case 'customer':
    case 'system':
      return { kind: actor.kind, id: null, role: null };
  }
}
