import { z } from 'zod';
import type { ConversationDoc, EventDoc, MessageDoc } from '../store/collections';
import type { Delivery } from '../workflows/conversation/core/lifecycle';
import { inboundKinds } from '../workflows/conversation/core/model';
import type { ConversationView } from '../workflows/conversation/core/view';
import { iso, noSla } from '../workflows/conversation/core/view';
import { statuses } from './schemas';

/**
 * How the API shows a conversation, its messages and its transitions: in REST answers, in SSE events
 * (api/routes/stream.ts) and in /openapi.json alike (api/DESIGN.md). The conversation view is declared
 * once, as the zod schema below; the mapping that puts back the fields a stored view lacks is derived
 * from it, so a new field is one edit here (plus the workflow's `toView`, which the type check below ties
 * to it).
 */
const time = z.iso.datetime();
const nullableTime = time.nullable();

/** Objects are open (`z.object`): SPEC promises "at least" these fields, and clients must accept more. */
export const conversationView = z.object({
  id: z.string(),
  accountId: z.string(),
  channel: z.string(),
  customer: z.string(),
  customerName: z.string().nullable(),
  status: z.enum(statuses),
  assigneeId: z.string().nullable(),
  episode: z.number().int(),
  unreadCount: z.number().int(),
  lastCustomerMessageAt: nullableTime,
  windowExpiresAt: nullableTime,
  autoCloseAt: nullableTime,
  closedReason: z.string().nullable(),
  closedAt: nullableTime,
  campaignId: z.string().nullable(),
  tags: z.array(z.string()),
  archived: z.boolean(),
  csatScore: z.number().nullable(),
  heldBy: z.string().nullable(),
  lastActivityAt: nullableTime,
  /** The newest timeline message in one line: its words (at most 120 characters) or a word for its kind. */
  lastMessage: z
    .object({ direction: z.enum(['inbound', 'outbound']), kind: z.enum([...inboundKinds, 'template']), text: z.string(), at: time })
    .nullable(),
  /** When the oldest customer message no user has answered (reply or template) was sent; null when nobody waits. */
  waitingSince: nullableTime,
  /** The team holding the conversation: a transfer's or a flow's, else the routing rules'; null under manual routing. */
  team: z.string().nullable(),
  /** Customer messages recorded so far; it only grows. Absent on views written before it was kept (until their next change). */
  inboundCount: z.number().int().optional(),
  /** Whether `inboundCount` counts the whole timeline (false when counting began at an upgrade, mid-way). */
  inboundCountFromStart: z.boolean().optional(),
  /** SPEC 9: chooses the SLA targets; `normal` unless a user set another (`POST .../priority`). */
  priority: z.enum(['urgent', 'high', 'normal', 'low']),
  /** SPEC 9: each due time is null once its target is met, while its clock is paused (`paused` true), and when no target applies. */
  sla: z.object({
    firstResponseDueAt: nullableTime,
    nextResponseDueAt: nullableTime,
    resolutionDueAt: nullableTime,
    breached: z.array(z.enum(['firstResponse', 'nextResponse', 'resolution'])),
    paused: z.boolean(),
  }),
  /** SPEC 9: when a snoozed conversation wakes (`POST .../snooze`); null when it is not snoozed. */
  snoozedUntil: nullableTime,
  updatedAt: nullableTime,
  version: z.number().int(),
  /** For a user caller only (docs/presence.md, "Read marks"): the timeline `seq` they have read up to, null if never. */
  readUpToSeq: z.number().int().nullable().optional(),
  /** For a user caller only: customer messages after what they have read (the list's badge for its holder). */
  unreadForMe: z.number().int().optional(),
});

/** The fields every view carries (the two of read marks are added for user callers only). */
export type ConversationViewAnswer = Omit<z.output<typeof conversationView>, 'readUpToSeq' | 'unreadForMe'>;

// The workflow's view (workflows/conversation/view.ts) and this declaration name the same fields: a field
// added to one and not the other fails to compile here.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const sameFields: SameKeys<ConversationView, ConversationViewAnswer> = true;
void sameFields;

/**
 * What a stored view may lack, and what it then shows: FerretDB leaves out null fields an upsert inserts,
 * and views written before a field existed lack it until their next change. Derived from the schema:
 * a nullable field shows null, a list [], a flag false; optional fields belong to some callers only.
 */
const fills: [key: string, value: unknown][] = Object.entries(conversationView.shape).flatMap(([key, field]): [string, unknown][] => {
  const schema = field as z.ZodType;
  if (schema.safeParse(undefined).success) return [];
  if (schema.safeParse(null).success) return [[key, null]];
  if (schema instanceof z.ZodArray) return [[key, []]];
  if (schema instanceof z.ZodBoolean) return [[key, false]];
  return [];
});
// Views written before SPEC 9 lack these, and their conversations have no SLA yet.
fills.push(['priority', 'normal'], ['sla', noSla]);

/** A conversation as every answer and event shows it: a stored view (`_id`) or the workflow's (`id`), every field there. */
export function toConversationView(doc: ConversationDoc | ConversationView): ConversationViewAnswer {
  const { _id, ...rest } = doc as Partial<ConversationDoc> & Partial<ConversationView>;
  const view: Record<string, unknown> = { id: _id ?? rest.id, ...rest };
  view.id = _id ?? rest.id;
  for (const [key, value] of fills) view[key] = view[key] ?? value;
  return view as ConversationViewAnswer;
}

/** A business message's delivery, as the timeline and the `delivery` event show it. */
export const deliveryView = (d: Delivery) => ({
  status: d.status,
  providerMessageId: d.providerMessageId ?? null,
  error: d.error ?? null,
  updatedAt: iso(d.updatedAt),
});

// Messages and transitions: FerretDB leaves out null fields that an upsert inserts, so nullable fields are named here explicitly.

export const messageView = (m: Omit<MessageDoc, '_id' | 'accountId'>) => ({
  seq: m.seq,
  messageId: m.messageId,
  conversationId: m.conversationId,
  episode: m.episode,
  direction: m.direction,
  kind: m.kind,
  text: m.text ?? null,
  template: m.template ?? null,
  content: m.content ?? null,
  delivery: m.delivery ? deliveryView(m.delivery) : null,
  authorId: m.authorId ?? null,
  // SPEC 9: a business message with no author is the system's (out of office, a survey, a broadcast).
  author: m.direction === 'inbound' ? { kind: 'customer' as const, id: null } : m.authorId ? { kind: 'user' as const, id: m.authorId } : { kind: 'system' as const, id: null },
  at: iso(m.at),
  sentAt: iso(m.sentAt),
  replyTo: m.replyTo ?? null,
  attributes: m.attributes ?? null,
  // Only on a customer message that was over a field limit (SPEC section 12) and was recorded cut.
  ...(m.truncated ? { truncated: true as const } : {}),
  // Only on a note (SPEC 10).
  ...(m.mentions ? { mentions: m.mentions } : {}),
});

export const eventView = (e: Omit<EventDoc, '_id' | 'accountId'>) => ({
  seq: e.seq,
  conversationId: e.conversationId,
  episode: e.episode,
  at: iso(e.at),
  from: e.from ?? null,
  to: e.to,
  reason: e.reason,
  actor: { kind: e.actor.kind, id: e.actor.id ?? null, role: e.actor.role ?? null },
  assigneeBefore: e.assigneeBefore ?? null,
  assigneeAfter: e.assigneeAfter ?? null,
  rule: e.rule ?? null,
  details: e.details ?? null,
  // SPEC 9: every entry says what it is; entries recorded before SLA events existed are transitions.
  type: e.type ?? 'transition',
  ...(e.metric !== undefined ? { metric: e.metric } : {}),
  ...(e.dueAt !== undefined ? { dueAt: iso(e.dueAt) } : {}),
});

