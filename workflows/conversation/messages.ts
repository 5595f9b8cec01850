/**
 * Every name other systems use to talk to a conversation workflow (SPEC section 5), in one place that
 * the API, the worker and the tests import. Naming rule: the constant is the wire name plus its kind
 * (`customerMessageSignal` <-> 'customerMessage', `assignUpdate` <-> 'assign').
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Actor, TemplateRef } from './lifecycle';
import type { Policy } from './policy';
import type { ConversationView } from './view';

export const conversationWorkflowType = 'conversationWorkflow';
export const defaultTaskQueue = 'conversations';

export interface ConversationRef {
  accountId: string;
  channel: string;
  customer: string;
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

/** The signal payload of SPEC section 5, as any Temporal SDK sends it (`sentAt` is ISO-8601). */
export interface CustomerMessagePayload {
  messageId: string;
  text: string;
  sentAt?: string;
  customerName?: string;
  replyTo?: { messageId?: string; campaignId?: string };
  attributes?: Record<string, string>;
}

export const customerMessageSignal = defineSignal<[CustomerMessagePayload]>('customerMessage');
/** Sent by the API to running conversations when their account's policy changes. */
export const policyChangedSignal = defineSignal<[Policy]>('policyChanged');

/** From the account's router: the conversation goes to this agent, chosen by this rule. */
export const routedSignal = defineSignal<[{ assigneeId: string; rule: string }]>('routed');
/** From the API: the agent became unavailable (deactivated, or offline when the policy says so). */
export const releaseSignal = defineSignal<[{ userId: string; reason: string }]>('release');

/** Every agent action carries who acts; the API resolves it from the caller's key. */
export interface ActionBase {
  actor: Actor;
}
export interface ReplyArgs extends ActionBase {
  text: string;
}
export interface TemplateArgs extends ActionBase {
  template: TemplateRef;
}
export interface AssignArgs extends ActionBase {
  assigneeId: string;
}

/** What an accepted action returns: the conversation after it, and the message it sent, if any. */
export interface ActionResult {
  conversation: ConversationView;
  messageId: string | null;
}

export const replyUpdate = defineUpdate<ActionResult, [ReplyArgs]>('reply');
export const templateUpdate = defineUpdate<ActionResult, [TemplateArgs]>('template');
export const assignUpdate = defineUpdate<ActionResult, [AssignArgs]>('assign');
export const takeOverUpdate = defineUpdate<ActionResult, [ActionBase]>('takeOver');
export const resolveUpdate = defineUpdate<ActionResult, [ActionBase]>('resolve');

export const conversationQuery = defineQuery<ConversationView>('conversation');
