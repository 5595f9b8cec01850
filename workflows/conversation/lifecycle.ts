/**
 * The conversation lifecycle as a pure function (SPEC section 2): state + input + actor + policy + the
 * current time in, the next state and its effects, or a rejection with a stable code, out. No Temporal,
 * MongoDB or Express import and no clock: the workflow shell calls `decide` and runs the effects, the
 * tests call it directly. See DESIGN.md beside this file for the choices behind the rules.
 */
import type { Policy } from './policy';
import { routingOf } from './policy';

export type Role = 'owner' | 'admin' | 'manager' | 'agent';
export type Status = 'open' | 'assigned' | 'closed';
export type ClosedReason = 'resolved' | 'inactivity';

/** Who acts. Users act through the API; the customer and the system act through the workflow. */
export type Actor =
  | { kind: 'user'; userId: string; role: Role }
  | { kind: 'service'; serviceId: string }
  | { kind: 'customer' }
  | { kind: 'system' };

export type RejectionCode = 'forbidden' | 'not_assignee' | 'conversation_closed' | 'window_expired' | 'validation_failed';

export interface InboundMessage {
  messageId: string;
  text: string;
  /** When the customer sent it, epoch ms, if the provider said so. */
  sentAt?: number;
  customerName?: string;
  replyTo?: { messageId?: string; campaignId?: string };
  attributes?: Record<string, string>;
}

export interface TemplateRef {
  name: string;
  language?: string;
  params?: string[];
}

export type Input =
  | { type: 'customerMessage'; message: InboundMessage }
  | { type: 'reply'; text: string }
  | { type: 'template'; template: TemplateRef }
  | { type: 'assign'; assigneeId: string }
  | { type: 'takeOver' }
  | { type: 'resolve' }
  | { type: 'timer' }
  /** The router offers the conversation to an agent (SPEC section 4). */
  | { type: 'routed'; assigneeId: string; rule: string }
  /** The router takes the conversation back from an agent who became unavailable. */
  | { type: 'release'; userId: string; reason: string };

export type InputType = Input['type'];

/** The conversation as the engine keeps it: plain JSON (epoch-ms numbers, arrays), safe across continue-as-new. */
export interface ConversationState {
  conversationId: string;
  accountId: string;
  channel: string;
  customer: string;
  customerName: string | null;
  status: Status;
  assigneeId: string | null;
  /** 0 until the first customer message, then 1, 2, ... one per pass from open to closed. */
  episode: number;
  unreadCount: number;
  lastCustomerMessageAt: number | null;
  /** When the conversation last became assigned from another state (reassignment keeps it). */
  assignedAt: number | null;
  lastActivityAt: number | null;
  /** When anything about the conversation last changed. */
  updatedAt: number | null;
  closedReason: ClosedReason | null;
  closedAt: number | null;
  /** The last user the conversation was assigned to, kept after it leaves them (sticky routing). */
  lastAssigneeId: string | null;
  /** The channel facts routing rules match on: the attributes of the message that opened the episode. */
  routingAttributes: Record<string, string> | null;
  /** The campaign whose reply opened the current episode, if any. */
  campaignId: string | null;
  /** The customer-message time whose window expiry has already been recorded as an event. */
  windowExpiryRecordedFor: number | null;
  /** Increases with every accepted change; views are written only forwards along it. */
  version: number;
  /** Sequence numbers for timeline messages and transition events, unique within the conversation. */
  messageSeq: number;
  eventSeq: number;
  /** Recent provider message ids, newest last, so a redelivered message is recorded once. */
  recentMessageIds: string[];
}

export interface MessageRecord {
  seq: number;
  messageId: string;
  direction: 'inbound' | 'outbound';
  kind: 'text' | 'template';
  text: string | null;
  template: TemplateRef | null;
  authorId: string | null;
  at: number;
  sentAt: number | null;
  episode: number;
  replyTo: { messageId?: string; campaignId?: string } | null;
  attributes: Record<string, string> | null;
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
}

/** What the shell must do after a decision: record to the views, or send through the channel. */
export type Effect =
  | { type: 'recordMessage'; message: MessageRecord }
  | { type: 'recordEvent'; event: TransitionEvent }
  | { type: 'send'; message: MessageRecord }
  /** Ask the account's router for an agent: the conversation became open and routing is on. */
  | { type: 'requestRouting'; request: { channel: string; attributes: Record<string, string>; previousAssigneeId: string | null; since: number } }
  /** Tell the router who holds the conversation now (null: nobody), so capacity counts stay true. */
  | { type: 'reportAssignment'; assigneeId: string | null };

export type Decision =
  | { ok: true; state: ConversationState; effects: Effect[]; changed: boolean }
  | { ok: false; code: RejectionCode; message: string };

/** How many provider message ids a conversation remembers for deduplication. */
export const dedupeWindow = 500;

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
    lastActivityAt: null,
    updatedAt: null,
    closedReason: null,
    closedAt: null,
    lastAssigneeId: null,
    routingAttributes: null,
    campaignId: null,
    windowExpiryRecordedFor: null,
    version: 0,
    messageSeq: 0,
    eventSeq: 0,
    recentMessageIds: [],
  };
}

/** True before the first customer message: the conversation exists only as a workflow id. */
export function isNew(state: ConversationState): boolean {
  return state.episode === 0;
}

export function isSupervisor(role: Role): boolean {
  return role !== 'agent';
}

export function windowExpiresAt(state: ConversationState, policy: Policy): number | null {
  return state.lastCustomerMessageAt === null ? null : state.lastCustomerMessageAt + policy.serviceWindowMs;
}

export function autoCloseAt(state: ConversationState, policy: Policy): number | null {
  if (state.status !== 'assigned' || state.lastCustomerMessageAt === null || state.assignedAt === null) return null;
  return Math.max(state.lastCustomerMessageAt, state.assignedAt) + policy.autoCloseAfterMs;
}

/**
 * The earliest moment at which a `timer` input would change something, or null. The shell sleeps
 * until it and then calls `decide` with `{ type: 'timer' }`; a deadline that moved meanwhile is simply
 * not due yet, so moving a deadline never needs a cancelled timer.
 */
export function nextDeadline(state: ConversationState, policy: Policy): number | null {
  const candidates: number[] = [];
  const close = autoCloseAt(state, policy);
  if (close !== null) candidates.push(close);
  const window = windowExpiresAt(state, policy);
  if (window !== null && state.status !== 'closed' && state.windowExpiryRecordedFor !== state.lastCustomerMessageAt) {
    candidates.push(window);
  }
  return candidates.length === 0 ? null : Math.min(...candidates);
}

type Handler<T extends InputType> = (
  ctx: Context,
  input: Extract<Input, { type: T }>,
) => Decision;

interface Context {
  state: ConversationState;
  actor: Actor;
  policy: Policy;
  now: number;
}

/** Decides what an input does. Never throws for a rule: a rejection is a value with a stable code. */
export function decide(state: ConversationState, input: Input, actor: Actor, policy: Policy, now: number): Decision {
  const handler = handlers[input.type] as Handler<InputType>;
  return handler({ state, actor, policy, now }, input);
}

// Exhaustive by construction: adding an input type without a handler does not compile.
const handlers: { [T in InputType]: Handler<T> } = {
  customerMessage: onCustomerMessage,
  reply: onReply,
  template: onTemplate,
  assign: onAssign,
  takeOver: onTakeOver,
  resolve: onResolve,
  timer: onTimer,
  routed: onRouted,
  release: onRelease,
};

function onCustomerMessage(ctx: Context, input: { message: InboundMessage }): Decision {
  const { state, actor, now } = ctx;
  const message = input.message;
  if (actor.kind !== 'customer') return reject('forbidden', 'only the customer sends customer messages');
  if (state.recentMessageIds.includes(message.messageId)) return unchanged(state);

  // The window runs from when the customer wrote; a provider clock ahead of ours is clamped to now.
  const at = message.sentAt !== undefined && message.sentAt < now ? message.sentAt : now;
  const draft = new Draft(state, ctx);
  const reopening = state.status === 'closed';
  if (reopening) {
    draft.transition('open', isNew(state) ? 'first_customer_message' : 'customer_message', {
      episode: state.episode + 1,
      assigneeId: null,
      assignedAt: null,
      closedReason: null,
      closedAt: null,
      unreadCount: 0,
      campaignId: message.replyTo?.campaignId ?? null,
      routingAttributes: message.attributes ?? {},
      windowExpiryRecordedFor: null,
    });
  }
  draft.set({
    unreadCount: draft.state.unreadCount + 1,
    lastCustomerMessageAt: Math.max(state.lastCustomerMessageAt ?? at, at),
    lastActivityAt: now,
    customerName: message.customerName ?? state.customerName,
    recentMessageIds: [...state.recentMessageIds, message.messageId].slice(-dedupeWindow),
  });
  draft.record({
    messageId: message.messageId,
    direction: 'inbound',
    kind: 'text',
    text: message.text,
    template: null,
    authorId: null,
    sentAt: message.sentAt ?? null,
    replyTo: message.replyTo ?? null,
    attributes: message.attributes ?? null,
  });
  return draft.done();
}

function onReply(ctx: Context, input: { text: string }): Decision {
  const { state, actor, policy, now } = ctx;
  if (actor.kind !== 'user') return reject('forbidden', 'only users of the account reply');
  if (isNew(state)) return reject('conversation_closed', 'the customer has not written yet');
  if (state.status === 'closed') return reject('conversation_closed', 'the conversation is closed; send a template instead');
  if (state.status === 'assigned' && state.assigneeId !== actor.userId) {
    return reject('not_assignee', `only the assignee (${state.assigneeId}) can reply`);
  }
  const expires = windowExpiresAt(state, policy);
  if (expires === null || now >= expires) {
    return reject('window_expired', 'the 24-hour customer-service window has passed; send a template instead');
  }
  return sendOutbound(ctx, actor, { kind: 'text', text: input.text, template: null });
}

function onTemplate(ctx: Context, input: { template: TemplateRef }): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'user') return reject('forbidden', 'only users of the account send templates here');
  if (isNew(state)) return reject('conversation_closed', 'the customer has not written yet; use a campaign');
  if (state.status === 'assigned' && state.assigneeId !== actor.userId) {
    return reject('not_assignee', `only the assignee (${state.assigneeId}) can message the customer`);
  }
  // Templates are allowed outside the window and in closed, where they are recorded but do not reopen.
  return sendOutbound(ctx, actor, { kind: 'template', text: null, template: input.template });
}

function sendOutbound(
  ctx: Context,
  actor: Extract<Actor, { kind: 'user' }>,
  content: Pick<MessageRecord, 'kind' | 'text' | 'template'>,
): Decision {
  const draft = new Draft(ctx.state, ctx);
  // "Replying from the Open bucket immediately sets the assigned agent" (seed 000).
  if (ctx.state.status === 'open') {
    draft.transition('assigned', content.kind === 'text' ? 'reply' : 'template', {
      assigneeId: actor.userId,
      assignedAt: ctx.now,
    });
  }
  draft.set({ unreadCount: 0, lastActivityAt: ctx.now });
  const message = draft.record({
    ...content,
    messageId: `out-${ctx.state.messageSeq + 1}`,
    direction: 'outbound',
    authorId: actor.userId,
    sentAt: null,
    replyTo: null,
    attributes: null,
  });
  draft.effects.push({ type: 'send', message });
  return draft.done();
}

function onAssign(ctx: Context, input: { assigneeId: string }): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'user') return reject('forbidden', 'only users of the account assign');
  if (state.status === 'closed') return reject('conversation_closed', 'the conversation is closed');
  const supervisor = isSupervisor(actor.role);
  if (state.status === 'open' && !supervisor && input.assigneeId !== actor.userId) {
    return reject('forbidden', 'agents can only claim open conversations for themselves');
  }
  if (state.status === 'assigned' && !supervisor && state.assigneeId !== actor.userId) {
    return reject('not_assignee', `only the assignee (${state.assigneeId}) or a supervisor can reassign`);
  }
  return assignTo(ctx, input.assigneeId, state.status === 'open' && input.assigneeId === actor.userId ? 'claimed' : 'assigned');
}

function onTakeOver(ctx: Context): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'user' || !isSupervisor(actor.role)) return reject('forbidden', 'only owners, admins and managers take over');
  if (state.status === 'closed') return reject('conversation_closed', 'the conversation is closed');
  return assignTo(ctx, actor.userId, 'take_over');
}

function assignTo(ctx: Context, assigneeId: string, reason: string): Decision {
  const { state, now } = ctx;
  if (state.status === 'assigned' && state.assigneeId === assigneeId) return unchanged(state);
  const draft = new Draft(state, ctx);
  draft.transition('assigned', reason, {
    assigneeId,
    // The inactivity clock starts when the conversation becomes assigned, not at each reassignment.
    assignedAt: state.status === 'assigned' ? state.assignedAt : now,
  });
  draft.set({ lastActivityAt: now });
  return draft.done();
}

function onResolve(ctx: Context): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'user') return reject('forbidden', 'only users of the account resolve');
  if (state.status === 'closed') return reject('conversation_closed', 'the conversation is already closed');
  const supervisor = isSupervisor(actor.role);
  if (state.status === 'open' && !supervisor) return reject('forbidden', 'agents claim a conversation before resolving it');
  if (state.status === 'assigned' && !supervisor && state.assigneeId !== actor.userId) {
    return reject('not_assignee', `only the assignee (${state.assigneeId}) or a supervisor can resolve`);
  }
  return close(ctx, 'resolved');
}

function onTimer(ctx: Context): Decision {
  const { state, policy, now } = ctx;
  if (ctx.actor.kind !== 'system') return reject('forbidden', 'only the system fires timers');
  const closeAt = autoCloseAt(state, policy);
  if (closeAt !== null && now >= closeAt) return close(ctx, 'inactivity');

  const window = windowExpiresAt(state, policy);
  if (
    window !== null &&
    now >= window &&
    state.status !== 'closed' &&
    state.windowExpiryRecordedFor !== state.lastCustomerMessageAt
  ) {
    // Not a state change, but the moment free-form replies stop is worth a line in the event log.
    const draft = new Draft(state, ctx);
    draft.transition(state.status, 'window_expired', { windowExpiryRecordedFor: state.lastCustomerMessageAt });
    return draft.done();
  }
  return unchanged(state);
}

function onRouted(ctx: Context, input: { assigneeId: string; rule: string }): Decision {
  const { state } = ctx;
  if (ctx.actor.kind !== 'system') return reject('forbidden', 'only the router assigns automatically');
  const draft = new Draft(state, ctx);
  if (state.status === 'open') {
    draft.transition('assigned', 'routing', { assigneeId: input.assigneeId, assignedAt: ctx.now }, input.rule);
  } else {
    // Someone claimed it first, or it closed: the router reserved a slot it must give back.
    draft.effects.push({ type: 'reportAssignment', assigneeId: state.status === 'assigned' ? state.assigneeId : null });
  }
  return draft.done();
}

function onRelease(ctx: Context, input: { userId: string; reason: string }): Decision {
  const { state } = ctx;
  if (ctx.actor.kind !== 'system') return reject('forbidden', 'only the router releases conversations');
  if (state.status !== 'assigned' || state.assigneeId !== input.userId) return unchanged(state);
  const draft = new Draft(state, ctx);
  draft.transition('open', input.reason, { assigneeId: null, assignedAt: null });
  return draft.done();
}

function close(ctx: Context, reason: ClosedReason): Decision {
  const draft = new Draft(ctx.state, ctx);
  // Unread is left as is: it counts customer messages since the episode's last outbound message, and closing sends none.
  draft.transition('closed', reason, {
    assigneeId: null,
    closedReason: reason,
    closedAt: ctx.now,
  });
  return draft.done();
}

function reject(code: RejectionCode, message: string): Decision {
  return { ok: false, code, message };
}

function unchanged(state: ConversationState): Decision {
  return { ok: true, state, effects: [], changed: false };
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

/** Accumulates one decision's state changes and effects, then stamps the version once. */
class Draft {
  state: ConversationState;
  readonly effects: Effect[] = [];

  constructor(
    private readonly base: ConversationState,
    private readonly ctx: Context,
  ) {
    this.state = { ...base };
  }

  set(changes: Partial<ConversationState>): void {
    this.state = { ...this.state, ...changes };
  }

  transition(to: Status, reason: string, changes: Partial<ConversationState>, rule: string | null = null): void {
    const before = this.state;
    this.set(changes);
    const event: TransitionEvent = {
      seq: this.state.eventSeq + 1,
      at: this.ctx.now,
      episode: this.state.episode,
      from: isNew(before) ? null : before.status,
      to,
      reason,
      actor: actorRef(this.ctx.actor),
      assigneeBefore: before.assigneeId,
      assigneeAfter: this.state.assigneeId,
      rule,
    };
    this.set({ status: to, eventSeq: event.seq });
    this.effects.push({ type: 'recordEvent', event });
  }

  record(fields: Omit<MessageRecord, 'seq' | 'at' | 'episode'>): MessageRecord {
    const message: MessageRecord = { ...fields, seq: this.state.messageSeq + 1, at: this.ctx.now, episode: this.state.episode };
    this.set({ messageSeq: message.seq });
    this.effects.push({ type: 'recordMessage', message });
    return message;
  }

  done(): Decision {
    this.routingEffects();
    return { ok: true, state: { ...this.state, version: this.state.version + 1, updatedAt: this.ctx.now }, effects: this.effects, changed: true };
  }

  /**
   * Routing follows from the decision's outcome, in one place rather than in every handler: a
   * conversation that became open asks for an agent, and every change of holder is reported so the
   * router's capacity counts stay true. Under manual routing the router is not involved at all.
   */
  private routingEffects(): void {
    const { base, state, ctx } = this;
    const holder = (s: ConversationState) => (s.status === 'assigned' ? s.assigneeId : null);
    if (state.assigneeId !== null) this.state = { ...state, lastAssigneeId: state.assigneeId };
    if (routingOf(ctx.policy).mode === 'manual') return;
    if (holder(base) !== holder(this.state)) this.effects.push({ type: 'reportAssignment', assigneeId: holder(this.state) });
    const becameOpen = this.state.status === 'open' && (base.status !== 'open' || base.episode !== this.state.episode);
    if (becameOpen) {
      this.effects.push({
        type: 'requestRouting',
        request: {
          channel: this.state.channel,
          attributes: this.state.routingAttributes ?? {},
          previousAssigneeId: this.state.lastAssigneeId,
          since: ctx.now,
        },
      });
    }
  }
}
