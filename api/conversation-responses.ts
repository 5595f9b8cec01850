import { z } from 'zod';
import { inboundKinds } from '../workflows/conversation/core/model';
import { conversationView } from './conversation-views';

export { conversationView };

/**
 * What the conversation, inbound, channel and webhook routes answer, for /openapi.json (issue 11, item
 * 10). Objects are open (`z.object`): SPEC promises "at least" these fields, and clients must accept more.
 */
const time = z.iso.datetime();
const nullableTime = time.nullable();

/** Seed 002's "not contacted" contacts share the list's shape with `id: null`. */
const notContacted = z.object({ id: z.null(), accountId: z.string(), channel: z.string(), customer: z.string(), status: z.literal('not_contacted'), createdAt: time });

export const conversationList = z.object({ conversations: z.array(z.union([conversationView, notContacted])), nextCursor: z.string().nullable() });

export const actionResult = z.object({ conversation: conversationView, messageId: z.string().nullable() });

const delivery = z.object({
  status: z.enum(['queued', 'sent', 'delivered', 'read', 'failed']),
  providerMessageId: z.string().nullable(),
  error: z.object({ code: z.union([z.number(), z.string()]), message: z.string() }).nullable(),
  updatedAt: nullableTime,
});

export const timelineMessage = z.object({
  seq: z.number().int(),
  messageId: z.string(),
  conversationId: z.string(),
  episode: z.number().int(),
  /** `internal`: a note (SPEC 10), never sent to the customer. */
  direction: z.enum(['inbound', 'outbound', 'internal']),
  kind: z.enum([...inboundKinds, 'template', 'note']),
  text: z.string().nullable(),
  template: z
    .object({ name: z.string(), language: z.string().optional(), params: z.array(z.string()).optional(), components: z.array(z.record(z.string(), z.unknown())).optional() })
    .nullable(),
  content: z.record(z.string(), z.unknown()).nullable(),
  delivery: delivery.nullable(),
  authorId: z.string().nullable(),
  /** Who wrote it (SPEC 9): the customer, a user (`id`), or the system (out of office, surveys, broadcasts). */
  author: z.object({ kind: z.enum(['customer', 'user', 'system']), id: z.string().nullable() }),
  at: nullableTime,
  sentAt: nullableTime,
  replyTo: z.object({ messageId: z.string().optional(), campaignId: z.string().optional() }).nullable(),
  attributes: z.record(z.string(), z.string()).nullable(),
  /** Present (true) only on a customer message that was over a field limit and was recorded cut, e.g. its text to 4,096 characters. */
  truncated: z.literal(true).optional(),
  /** Notes only (SPEC 10): the users the note mentions. */
  mentions: z.array(z.string()).optional(),
});

export const transitionEvent = z.object({
  seq: z.number().int(),
  conversationId: z.string(),
  episode: z.number().int(),
  at: nullableTime,
  from: z.string().nullable(),
  to: z.string(),
  reason: z.string(),
  actor: z.object({ kind: z.enum(['user', 'service', 'customer', 'system']), id: z.string().nullable(), role: z.string().nullable() }),
  assigneeBefore: z.string().nullable(),
  assigneeAfter: z.string().nullable(),
  rule: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  /** SPEC 9: `transition`, or an SLA warning or breach (no change of status; `from` = `to`). */
  type: z.enum(['transition', 'sla_warning', 'sla_breached']),
  /** SLA events only: `firstResponse`, `nextResponse` or `resolution`. */
  metric: z.enum(['firstResponse', 'nextResponse', 'resolution']).optional(),
  /** SLA events only: when the metric's target is (or was) breached. */
  dueAt: z.string().optional(),
});

export const messagesPage = z.object({ messages: z.array(timelineMessage) });
export const eventsPage = z.object({ events: z.array(transitionEvent) });

export const accepted = z.object({ conversationId: z.string() });
export const campaignAccepted = z.object({ campaignId: z.string(), sendId: z.string() });
export const receiptAccepted = z.object({ conversationId: z.string(), providerMessageId: z.string() });

export const channelView = z.object({
  channel: z.string(),
  accountId: z.string(),
  provider: z.enum(['whatsapp_cloud', 'webhook', 'recording']),
  phoneNumberId: z.string().optional(),
  apiVersion: z.string().optional(),
  wabaId: z.string().nullable().optional(),
  url: z.string().optional(),
  secretsSet: z.array(z.string()),
  createdAt: time,
  updatedAt: time,
});
export const channelList = z.object({ items: z.array(channelView), nextCursor: z.null() });

export const webhookAck = z.object({
  messages: z.number().int(),
  receipts: z.number().int(),
  /** Always null now: receipts are matched after the answer, when the body is fanned out (its `inbound_bodies` document records the count). */
  unmatchedReceipts: z.null(),
  unknownPhoneNumberIds: z.number().int(),
  ignored: z.number().int(),
  /** Template status updates applied to the registry (SPEC section 10); one for a template it does not know applies nothing. */
  templateStatuses: z.number().int(),
});

/** SPEC 10: one mention of the caller, as `GET .../mentions` lists it (the `mention` stream event is the same without `at`). */
export const mention = z.object({ conversationId: z.string(), messageId: z.string(), by: z.string(), at: time, text: z.string() });
export const mentionList = z.object({ items: z.array(mention), nextCursor: z.string().nullable() });

/** SPEC 10: a canned response (api/canned-responses.ts `cannedResponseView`). */
export const cannedResponseView = z.object({
  shortCode: z.string(),
  scope: z.enum(['account', 'personal']),
  title: z.string(),
  text: z.string(),
  variables: z.array(z.string()).describe('The variables its text holds: customer.name, agent.name, attributes.<key>'),
  createdAt: z.string(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});
export const cannedResponseList = z.object({ items: z.array(cannedResponseView), nextCursor: z.null() });
export const cannedResponseDeleted = z.object({ deleted: z.object({ shortCode: z.string(), scope: z.enum(['account', 'personal']) }) });
