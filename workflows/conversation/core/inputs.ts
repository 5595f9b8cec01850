/**
 * What the workflow's signals and updates become as lifecycle inputs: one pure mapping per message, so
 * the shell only registers handlers and the tests can check the mapping without a workflow.
 * (Types only from `../messages`: that module defines the messages with the SDK, which core never loads.)
 */
import type {
  ActionBase,
  AssignArgs,
  BroadcastArgs,
  CustomerMessagePayload,
  DeliveryStatusPayload,
  FlowArgs,
  LegacyReplyArgs,
  LegacyTemplateArgs,
  NoteArgs,
  PriorityArgs,
  ReplyArgs,
  SnoozeArgs,
  TagsArgs,
  TemplateArgs,
  TransferArgs,
} from '../messages';
import type { Actor, InboundMessage, Input } from './model';
import { replyContentOf, templateContentOf } from './outbound';

export const customer: Actor = { kind: 'customer' };
export const system: Actor = { kind: 'system' };

/** An ISO-8601 time as epoch ms; absent or unparseable is undefined (the rules then use receipt time). */
function epochMs(text: string | undefined): number | undefined {
  const at = text === undefined ? undefined : Date.parse(text);
  return at !== undefined && Number.isFinite(at) ? at : undefined;
}

export function toInbound(message: CustomerMessagePayload): InboundMessage {
  return {
    messageId: message.messageId,
    kind: message.type ?? 'text',
    text: message.text,
    content: message.content,
    sentAt: epochMs(message.sentAt),
    customerName: message.customerName,
    replyTo: message.replyTo,
    attributes: message.attributes,
    // Present only when set, so that a message within the limits maps exactly as before.
    ...(message.truncated === true ? { truncated: true as const } : {}),
  };
}

/** Signals: who sends each, and the input it is. */
export const signalInput = {
  customerMessage: (message: CustomerMessagePayload): Input => ({ type: 'customerMessage', message: toInbound(message) }),
  routed: (offer: { assigneeId: string; rule: string }): Input => ({ type: 'routed', assigneeId: offer.assigneeId, rule: offer.rule }),
  customerEvent: (event: { type: 'left' } | { type: 'csat'; score: number }): Input =>
    event.type === 'left' ? { type: 'customerLeft' } : { type: 'csatAnswer', score: event.score },
  agentPresence: (presence: { userId: string; online: boolean }): Input => ({ type: 'agentPresence', userId: presence.userId, online: presence.online }),
  release: (release: { userId: string; reason: string }): Input => ({ type: 'release', userId: release.userId, reason: release.reason }),
  deliveryStatus: (status: DeliveryStatusPayload): Input => ({
    type: 'receipt',
    receipt: { providerMessageId: status.providerMessageId, status: status.status, error: status.error, at: epochMs(status.at) },
  }),
};

/** Updates (agent and automation actions): the input each one's arguments are; the actor travels in the arguments. */
export const actionInput = {
  // Either shape: the content union, or the flat fields older API processes sent (and histories hold).
  reply: (args: ReplyArgs | LegacyReplyArgs): Input => ({ type: 'reply', content: replyContentOf(args), replyTo: args.replyTo }),
  template: (args: TemplateArgs | LegacyTemplateArgs): Input => ({ type: 'template', content: templateContentOf(args) }),
  assign: (args: AssignArgs): Input => ({ type: 'assign', assigneeId: args.assigneeId }),
  takeOver: (_args: ActionBase): Input => ({ type: 'takeOver' }),
  resolve: (_args: ActionBase): Input => ({ type: 'resolve' }),
  end: (_args: ActionBase): Input => ({ type: 'end' }),
  leave: (_args: ActionBase): Input => ({ type: 'leave' }),
  revive: (_args: ActionBase): Input => ({ type: 'revive' }),
  releaseToQueue: (_args: ActionBase): Input => ({ type: 'releaseToQueue' }),
  transfer: (args: TransferArgs): Input => ({ type: 'transfer', team: args.team }),
  tags: (args: TagsArgs): Input => ({ type: 'tags', add: args.add, remove: args.remove }),
  flow: (args: FlowArgs): Input => (args.action === 'start' ? { type: 'flowStart', priority: args.priority } : { type: 'flowEnd', assignTo: args.assignTo }),
  priority: (args: PriorityArgs): Input => ({ type: 'priority', priority: args.priority }),
  snooze: (args: SnoozeArgs): Input => ({ type: 'snooze', until: args.until }),
  unsnooze: (_args: ActionBase): Input => ({ type: 'unsnooze' }),
  // Mentions absent (a caller straight to Temporal) is none.
  note: (args: NoteArgs): Input => ({ type: 'note', text: args.text, mentions: args.mentions ?? [] }),
  broadcast: (args: BroadcastArgs): Input => ({ type: 'broadcast', template: args.template, priority: args.priority }),
};
