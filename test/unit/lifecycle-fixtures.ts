/**
 * Shared setup for the pure lifecycle tests: named actors, a fixed clock origin, and builders that
 * drive `decide` into a known state through the same inputs the workflow would send (never by
 * writing state fields by hand, so a fixture cannot describe a state the rules cannot reach).
 */
import type { Actor, ConversationState, Decision, Effect, InboundMessage, Input, MessageRecord, TransitionEvent } from '../../workflows/conversation/core/lifecycle';
import { decide, initialState } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { defaultPolicy } from '../../workflows/conversation/core/policy';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** The moment every scenario starts at; any fixed epoch-ms value would do. */
export const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

export const owner: Actor = { kind: 'user', userId: 'owner-1', role: 'owner' };
export const admin: Actor = { kind: 'user', userId: 'admin-1', role: 'admin' };
export const manager: Actor = { kind: 'user', userId: 'manager-1', role: 'manager' };
/** The agent who holds the conversation in every `assigned` fixture. */
export const agentA: Actor = { kind: 'user', userId: 'agent-a', role: 'agent' };
/** Another agent of the same account. */
export const agentB: Actor = { kind: 'user', userId: 'agent-b', role: 'agent' };
export const service: Actor = { kind: 'service', serviceId: 'svc-1' };
export const customer: Actor = { kind: 'customer' };
export const system: Actor = { kind: 'system' };

export type UserActor = Extract<Actor, { kind: 'user' }>;

export const supervisors: ReadonlyArray<readonly [string, UserActor]> = [
  ['owner', owner as UserActor],
  ['admin', admin as UserActor],
  ['manager', manager as UserActor],
];
export const allUsers: ReadonlyArray<readonly [string, UserActor]> = [
  ...supervisors,
  ['agent (the assignee)', agentA as UserActor],
  ['agent (another)', agentB as UserActor],
];
/** Actors that are not users of the account: they may never act through the user-facing inputs. */
export const nonUsers: ReadonlyArray<readonly [string, Actor]> = [
  ['service', service],
  ['customer', customer],
  ['system', system],
];
export const everyone: ReadonlyArray<readonly [string, Actor]> = [...allUsers, ...nonUsers];

export const ids = { conversationId: 'conv:acc-1:ch-1:15550001', accountId: 'acc-1', channel: 'ch-1', customer: '15550001' };

export function fresh(): ConversationState {
  return initialState(ids);
}

let messageCounter = 0;
/** A customer message with a provider id unique across the test run unless one is given. */
export function customerMessage(extra: Partial<InboundMessage> = {}): Input {
  messageCounter += 1;
  return { type: 'customerMessage', message: { messageId: `wamid-${messageCounter}`, text: `hello ${messageCounter}`, ...extra } };
}

export const reply = (text = 'on it'): Input => ({ type: 'reply', content: { kind: 'text', text } });
export const template = (name = 'follow_up'): Input => ({ type: 'template', content: { kind: 'template', template: { name, language: 'en' } } });
export const assign = (assigneeId: string): Input => ({ type: 'assign', assigneeId });
export const takeOver: Input = { type: 'takeOver' };
export const resolve: Input = { type: 'resolve' };
export const timer: Input = { type: 'timer' };

export type Accepted = Extract<Decision, { ok: true }>;
export type Rejected = Extract<Decision, { ok: false }>;

export function accepted(decision: Decision): Accepted {
  if (!decision.ok) throw new Error(`expected the input to be accepted, got ${decision.code}: ${decision.message}`);
  return decision;
}

export function rejected(decision: Decision): Rejected {
  if (decision.ok) throw new Error('expected the input to be rejected, but it was accepted');
  return decision;
}

/** Applies one input that must be accepted and returns the next state. */
export function step(state: ConversationState, input: Input, actor: Actor, now: number, policy: Policy = defaultPolicy): ConversationState {
  return accepted(decide(state, input, actor, policy, now)).state;
}

/** Episode 1, `open`, after one customer message at `at`. */
export function openConversation(at = T0): ConversationState {
  return step(fresh(), customerMessage(), customer, at);
}

/** Episode 1, assigned to agent A, who claimed it at `assignedAt` after a customer message at `at`. */
export function assignedConversation(at = T0, assignedAt = at + MINUTE): ConversationState {
  return step(openConversation(at), assign('agent-a'), agentA, assignedAt);
}

/** Episode 1, closed with reason `resolved` at `closedAt` after agent A had claimed it. */
export function closedConversation(at = T0, closedAt = at + 2 * MINUTE): ConversationState {
  return step(assignedConversation(at, at + MINUTE), resolve, agentA, closedAt);
}

export const events = (effects: Effect[]): TransitionEvent[] =>
  effects.flatMap((e) => (e.type === 'recordEvent' ? [e.event] : []));
export const recordedMessages = (effects: Effect[]): MessageRecord[] =>
  effects.flatMap((e) => (e.type === 'recordMessage' ? [e.message] : []));
export const sentMessages = (effects: Effect[]): MessageRecord[] => effects.flatMap((e) => (e.type === 'send' ? [e.message] : []));

/** Freezes a state all the way down, so a decision that mutated its input would throw. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** The actor reference an event names for a user. */
export const userRef = (actor: UserActor) => ({ kind: 'user', id: actor.userId, role: actor.role });
