/**
 * Every name other systems use to talk to a conversation workflow (SPEC section 5), in one place that
 * the API, the worker and the tests import. Naming rule: the constant is the wire name plus its kind
 * (`customerMessageSignal` <-> 'customerMessage', `assignUpdate` <-> 'assign').
 */
import { ApplicationFailure, defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Sinks } from '@temporalio/workflow';
import type { Actor, ConversationState, DeliveryError, Effect, FlowTarget, InboundKind, Input, MessageContent, TemplateRef } from './core/lifecycle';
import { actionOverLimit, clampCustomerMessage } from './core/limits';
import type { PatchSet } from './patches';
import { inputLimitsPatch } from './patches';
import type { LegacyReplyContent, LegacyTemplateContent, SessionContent, TemplateContent } from './core/outbound';
import type { Policy } from './core/policy';
import type { ConversationView } from './core/view';
import type { SlaPriority } from './core/sla';

export const conversationWorkflowType = 'conversationWorkflow';
export const defaultTaskQueue = 'conversations';

export interface ConversationRef {
  accountId: string;
  channel: string;
  customer: string;
}

export interface ConversationWorkflowInput extends ConversationRef {
  /**
   * Set only by continue-as-new: the state as the previous run left it, which the Web UI shows as this
   * run's input. Named so that nobody reads it as the conversation's current state (the
   * `conversation` query and the run's current details are that).
   */
  carriedFromPreviousRun?: CarriedState;
  /** The same, as runs continued by versions before 2026-11-27 passed it. */
  carried?: CarriedState;
  /** Engine limits; tests lower them to drive continue-as-new. */
  limits?: { historyEventBudget?: number };
}

/** What the workflow tells the worker without a command (see `rejectedInput`). */
export interface RejectedInput {
  conversationId: string;
  input: Input['type'];
  actor: Actor['kind'];
  code: string;
  reason: string;
}
export interface ConversationSinks extends Sinks {
  conversation: { rejectedInput(rejection: RejectedInput): void };
}

/** Plain JSON across continue-as-new: no Map, Set, Date or class instance survives it. */
export interface CarriedState {
  state: ConversationState;
  policy: Policy;
  /** Effects decided but not yet written; normally empty because the run flushes before it continues. */
  pending: Effect[];
}

/** `conv:{accountId}:{channel}:{customer}`: also the conversation id of the HTTP API. */
export function conversationWorkflowId(ref: ConversationRef): string {
  return `conv:${ref.accountId}:${ref.channel}:${ref.customer}`;
}

/** The inverse of `conversationWorkflowId`, or undefined for anything that is not one. */
export function parseConversationId(id: string): ConversationRef | undefined {
  const match = /^conv:([^:]+):([^:]+):([^:]+)$/.exec(id);
  if (!match) return undefined;
  return { accountId: match[1]!, channel: match[2]!, customer: match[3]! };
}

/**
 * The signal payload of SPEC section 5, as any Temporal SDK sends it (`sentAt` is ISO-8601). Section 7
 * widens it: `type` (default `text`) and `content` carry non-text messages; `text` is then optional.
 */
export interface CustomerMessagePayload {
  messageId: string;
  type?: InboundKind;
  text?: string;
  content?: MessageContent;
  sentAt?: string;
  customerName?: string;
  replyTo?: { messageId?: string; campaignId?: string };
  attributes?: Record<string, string>;
  /**
   * Set by the receiving side, never by a sender: something was over a field limit (SPEC section 12,
   * core/limits.ts) and was cut, the text to 4,096 characters for instance. Recorded on the message.
   */
  truncated?: boolean;
  /** The account's policy version the sender knows (the API sets it); a newer one than the conversation's makes it reload. */
  policyVersion?: number;
}

export const customerMessageSignal = defineSignal<[CustomerMessagePayload]>('customerMessage');

/**
 * Workflow code only. A customer message signal within the field limits (SPEC section 12,
 * core/limits.ts): a signal cannot be refused, so what is over a limit is cut (the message then says
 * `truncated`) and keys the store would refuse are escaped. Runs from before the limits
 * (`inputLimitsPatch`) recorded their messages as they came, and replay them so.
 */
export function withinLimits(message: CustomerMessagePayload, taken: PatchSet): CustomerMessagePayload {
  return taken(inputLimitsPatch) ? clampCustomerMessage(message).value : message;
}

/**
 * Workflow code only, for update validators: refuses an action over a field limit (tags beyond 50, a
 * reply's text beyond 4,096 characters) with `validation_failed`, before anything is written to history.
 */
export function rejectOverLimit(input: Input, state: Pick<ConversationState, 'tags'>): void {
  const over = actionOverLimit(input, state);
  if (over) throw ApplicationFailure.create({ type: over.code, message: over.message, nonRetryable: true });
}
/** Sent by the API to running conversations when their account's policy changes. */
export const policyChangedSignal = defineSignal<[Policy]>('policyChanged');

/** From the account's router: the conversation goes to this agent, chosen by this rule. */
export const routedSignal = defineSignal<[{ assigneeId: string; rule: string }]>('routed');
/** From a backend service: the customer left (seed 004) or answered the satisfaction survey (seed 002). */
export const customerEventSignal = defineSignal<[{ type: 'left' } | { type: 'csat'; score: number }]>('customerEvent');
/** From the API: an agent disconnected or reconnected (seed 004's reconnect timeout). */
export const agentPresenceSignal = defineSignal<[{ userId: string; online: boolean }]>('agentPresence');
/** From the API: the agent became unavailable (deactivated, or offline when the policy says so). */
export const releaseSignal = defineSignal<[{ userId: string; reason: string }]>('release');

/**
 * From a channel (the WhatsApp webhook, or `POST .../delivery-statuses`): a delivery receipt for one of
 * the business's messages, by the provider's message id (`at` is ISO-8601).
 */
export interface DeliveryStatusPayload {
  providerMessageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  at?: string;
  error?: DeliveryError;
}
export const deliveryStatusSignal = defineSignal<[DeliveryStatusPayload]>('deliveryStatus');

/** Every agent action carries who acts; the API resolves it from the caller's key. */
export interface ActionBase {
  actor: Actor;
  /** The account's stored policy version when the API sent the action; a newer one makes the conversation reload. */
  policyVersion?: number;
}
/** A free-form message: any content but a template (`SessionContent`), bound by the 24-hour window. */
export interface ReplyArgs extends ActionBase {
  content: SessionContent;
  /** The provider message id of the customer message this answers (quoted on WhatsApp). */
  replyTo?: string;
}
export interface TemplateArgs extends ActionBase {
  content: TemplateContent;
}
/**
 * The arguments as API processes sent them before outbound content was one union (`{ text }`,
 * `{ template }`): recorded histories hold them, and an older API process may still send them during a
 * deploy, so the updates accept both and `actionInput` reads either (`core/outbound.ts`).
 */
export type LegacyReplyArgs = ActionBase & LegacyReplyContent & { replyTo?: string };
export type LegacyTemplateArgs = ActionBase & LegacyTemplateContent;
export interface AssignArgs extends ActionBase {
  assigneeId: string;
}

/** What an accepted action returns: the conversation after it, and the message it sent, if any. */
export interface ActionResult {
  conversation: ConversationView;
  messageId: string | null;
}

export const replyUpdate = defineUpdate<ActionResult, [ReplyArgs | LegacyReplyArgs]>('reply');
export const templateUpdate = defineUpdate<ActionResult, [TemplateArgs | LegacyTemplateArgs]>('template');
export const assignUpdate = defineUpdate<ActionResult, [AssignArgs]>('assign');
export const takeOverUpdate = defineUpdate<ActionResult, [ActionBase]>('takeOver');
export const resolveUpdate = defineUpdate<ActionResult, [ActionBase]>('resolve');

export interface TransferArgs extends ActionBase {
  team: string;
}
/** SPEC 9: `POST .../priority`. */
export interface PriorityArgs extends ActionBase {
  priority: SlaPriority;
}
/** SPEC 9: `POST .../snooze`; `until` is an ISO time with a zone, a duration ("2h") or "window" (core/rules-snooze.ts). */
export interface SnoozeArgs extends ActionBase {
  until: string;
}
/** SPEC 10: `POST .../notes`; `mentions` are user ids of the account (the API checks they are active users). */
export interface NoteArgs extends ActionBase {
  text: string;
  mentions?: string[];
}
export interface TagsArgs extends ActionBase {
  add: string[];
  remove: string[];
}
export type FlowArgs = ActionBase & ({ action: 'start'; priority: boolean } | { action: 'end'; assignTo: FlowTarget | null });
export interface BroadcastArgs extends ActionBase {
  template: TemplateRef;
  priority: boolean;
}

// Seed 004's work-item actions and seed 002's tags, flows and broadcasts.
export const endUpdate = defineUpdate<ActionResult, [ActionBase]>('end');
export const leaveUpdate = defineUpdate<ActionResult, [ActionBase]>('leave');
export const reviveUpdate = defineUpdate<ActionResult, [ActionBase]>('revive');
export const releaseToQueueUpdate = defineUpdate<ActionResult, [ActionBase]>('releaseToQueue');
export const transferUpdate = defineUpdate<ActionResult, [TransferArgs]>('transfer');
export const tagsUpdate = defineUpdate<ActionResult, [TagsArgs]>('tags');
export const flowUpdate = defineUpdate<ActionResult, [FlowArgs]>('flow');
export const broadcastUpdate = defineUpdate<ActionResult, [BroadcastArgs]>('broadcast');
// SPEC 9's SLA.
export const priorityUpdate = defineUpdate<ActionResult, [PriorityArgs]>('priority');
export const snoozeUpdate = defineUpdate<ActionResult, [SnoozeArgs]>('snooze');
export const unsnoozeUpdate = defineUpdate<ActionResult, [ActionBase]>('unsnooze');
// SPEC 10's notes: `messageId` in the result is the note's.
export const noteUpdate = defineUpdate<ActionResult, [NoteArgs]>('note');

export const conversationQuery = defineQuery<ConversationView>('conversation');
