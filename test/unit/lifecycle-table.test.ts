/**
 * SPEC section 2, one `describe` per row of the lifecycle table and per "More rules" bullet that the
 * pure core owns, with every actor kind tried against every row: the allowed ones for the resulting
 * state and effects, the others for the stable rejection code.
 */
import type { Actor, ConversationState, Input, TransitionEvent } from '../../workflows/conversation/core/lifecycle';
import { autoCloseAt, decide, nextDeadline, windowExpiresAt } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import type { UserActor } from './lifecycle-fixtures';
import {
  HOUR,
  MINUTE,
  T0,
  accepted,
  admin,
  agentA,
  agentB,
  allUsers,
  assign,
  assignedConversation,
  closedConversation,
  customer,
  customerMessage,
  deepFreeze,
  events,
  everyone,
  fresh,
  manager,
  nonUsers,
  openConversation,
  owner,
  recordedMessages,
  rejected,
  reply,
  resolve,
  sentMessages,
  service,
  step,
  supervisors,
  system,
  takeOver,
  template,
  timer,
  userRef,
} from './lifecycle-fixtures';

const policy = defaultPolicy;
const later = T0 + 10 * MINUTE;

const others = (allowed: readonly Actor[]) => everyone.filter(([, actor]) => !allowed.includes(actor));

/** A rejection must say why with the expected code and leave the (frozen) state untouched. */
function expectRejected(state: ConversationState, input: Input, actor: Actor, code: string, now = later): void {
  const before = structuredClone(state);
  const decision = rejected(decide(deepFreeze(state), input, actor, policy, now));
  expect(decision.code).toBe(code);
  expect(decision.message).toEqual(expect.any(String));
  expect(decision).not.toHaveProperty('state');
  expect(state).toStrictEqual(before);
}

describe('(none) + customer message by the customer -> open, episode 1', () => {
  it('opens episode 1 with one unread message, records the message and a transition from nothing to open', () => {
    const decision = accepted(decide(fresh(), customerMessage({ messageId: 'm1', text: 'hi', customerName: 'Ada' }), customer, policy, T0));
    expect(decision.changed).toBe(true);
    expect(decision.state).toMatchObject({ status: 'open', assigneeId: null, episode: 1, unreadCount: 1, closedReason: null, customerName: 'Ada' });
    expect(decision.state.lastCustomerMessageAt).toBe(T0);
    expect(decision.effects.map((e) => e.type)).toEqual(['recordEvent', 'recordMessage']);
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ at: T0, episode: 1, from: null, to: 'open', reason: 'first_customer_message', actor: { kind: 'customer', id: null, role: null } }),
    ]);
    expect(recordedMessages(decision.effects)).toEqual([
      expect.objectContaining({ messageId: 'm1', direction: 'inbound', kind: 'text', text: 'hi', authorId: null, at: T0, episode: 1 }),
    ]);
    expect(sentMessages(decision.effects)).toEqual([]);
  });

  it.each(others([customer]))('rejects a customer message claimed by the %s as forbidden', (_name, actor) => {
    expectRejected(fresh(), customerMessage(), actor, 'forbidden');
  });

  it.each(allUsers)('rejects a free-form reply by the %s before the customer has written as conversation_closed', (_name, actor) => {
    expectRejected(fresh(), reply(), actor, 'conversation_closed');
  });

  it.each(allUsers)('rejects a template by the %s before the customer has written as conversation_closed', (_name, actor) => {
    expectRejected(fresh(), template(), actor, 'conversation_closed');
  });
});

describe('open + customer message by the customer -> open', () => {
  it('stays open, refreshes the window and adds one unread message without a transition event', () => {
    const state = openConversation(T0);
    const decision = accepted(decide(state, customerMessage({ text: 'anyone?' }), customer, policy, T0 + 3 * HOUR));
    expect(decision.state).toMatchObject({ status: 'open', assigneeId: null, episode: 1, unreadCount: 2 });
    expect(windowExpiresAt(decision.state, policy)).toBe(T0 + 27 * HOUR);
    expect(events(decision.effects)).toEqual([]);
    expect(recordedMessages(decision.effects)).toEqual([expect.objectContaining({ direction: 'inbound', text: 'anyone?', episode: 1 })]);
  });

  it.each(others([customer]))('rejects a customer message claimed by the %s as forbidden', (_name, actor) => {
    expectRejected(openConversation(), customerMessage(), actor, 'forbidden');
  });
});

describe('open + agent message by any user of the account -> assigned to that user', () => {
  it.each(allUsers)('assigns the conversation to the %s who replies free-form, records and sends the reply', (_name, actor) => {
    const decision = accepted(decide(openConversation(), reply('hello there'), actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: actor.userId, episode: 1, unreadCount: 0, assignedAt: later });
    expect(events(decision.effects)).toEqual([
      { seq: 2, at: later, episode: 1, from: 'open', to: 'assigned', reason: 'reply', actor: userRef(actor), assigneeBefore: null, assigneeAfter: actor.userId, rule: null, details: null },
    ]);
    const [recorded] = recordedMessages(decision.effects);
    expect(recorded).toMatchObject({ direction: 'outbound', kind: 'text', text: 'hello there', authorId: actor.userId, at: later, episode: 1 });
    expect(sentMessages(decision.effects)).toEqual([recorded]);
  });

  it.each(allUsers)('assigns the conversation to the %s who sends a template, records and sends it', (_name, actor) => {
    const decision = accepted(decide(openConversation(), template('greeting'), actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: actor.userId, unreadCount: 0 });
    expect(events(decision.effects)).toEqual([expect.objectContaining({ from: 'open', to: 'assigned', reason: 'template', actor: userRef(actor) })]);
    const [recorded] = recordedMessages(decision.effects);
    expect(recorded).toMatchObject({ direction: 'outbound', kind: 'template', text: null, template: { name: 'greeting', language: 'en' } });
    expect(sentMessages(decision.effects)).toEqual([recorded]);
  });

  it.each(nonUsers)('rejects a free-form reply by the %s as forbidden', (_name, actor) => {
    expectRejected(openConversation(), reply(), actor, 'forbidden');
  });

  it.each(nonUsers)('rejects a template by the %s as forbidden', (_name, actor) => {
    expectRejected(openConversation(), template(), actor, 'forbidden');
  });
});

describe('open + assign to user X -> assigned to X (supervisor: any X; agent: only self)', () => {
  it.each(supervisors)('lets the %s assign the conversation to an agent', (_name, actor) => {
    const decision = accepted(decide(openConversation(), assign('agent-b'), actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-b', assignedAt: later, episode: 1 });
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ from: 'open', to: 'assigned', reason: 'assigned', actor: userRef(actor), assigneeBefore: null, assigneeAfter: 'agent-b' }),
    ]);
    expect(recordedMessages(decision.effects)).toEqual([]);
    expect(sentMessages(decision.effects)).toEqual([]);
  });

  it.each([
    ['agent A', agentA as UserActor],
    ['agent B', agentB as UserActor],
  ])('lets %s claim the conversation for themselves', (_name, actor) => {
    const decision = accepted(decide(openConversation(), assign(actor.userId), actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: actor.userId });
    expect(events(decision.effects)).toEqual([expect.objectContaining({ from: 'open', to: 'assigned', reason: 'claimed', actor: userRef(actor) })]);
  });

  it('rejects an agent assigning an open conversation to someone else as forbidden', () => {
    expectRejected(openConversation(), assign('agent-b'), agentA, 'forbidden');
  });

  it.each(nonUsers)('rejects an assignment by the %s as forbidden', (_name, actor) => {
    expectRejected(openConversation(), assign('agent-a'), actor, 'forbidden');
  });
});

describe('open + resolve by a supervisor -> closed', () => {
  it.each(supervisors)('lets the %s resolve an open conversation with reason resolved', (_name, actor) => {
    const decision = accepted(decide(openConversation(), resolve, actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'closed', assigneeId: null, closedReason: 'resolved', closedAt: later, episode: 1 });
    expect(events(decision.effects)).toEqual([expect.objectContaining({ from: 'open', to: 'closed', reason: 'resolved', actor: userRef(actor) })]);
  });

  it.each([
    ['agent A', agentA],
    ['agent B', agentB],
  ])('rejects %s resolving an open conversation they have not claimed as forbidden', (_name, actor) => {
    expectRejected(openConversation(), resolve, actor, 'forbidden');
  });

  it.each(nonUsers)('rejects a resolve by the %s as forbidden', (_name, actor) => {
    expectRejected(openConversation(), resolve, actor, 'forbidden');
  });
});

describe('assigned + customer message by the customer -> assigned', () => {
  it('stays with the assignee, refreshes the window and moves the inactivity deadline', () => {
    const state = assignedConversation(T0, T0 + MINUTE);
    expect(autoCloseAt(state, policy)).toBe(T0 + MINUTE + 48 * HOUR);
    const decision = accepted(decide(state, customerMessage(), customer, policy, T0 + 5 * HOUR));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', episode: 1, unreadCount: 2 });
    expect(windowExpiresAt(decision.state, policy)).toBe(T0 + 29 * HOUR);
    expect(autoCloseAt(decision.state, policy)).toBe(T0 + 53 * HOUR);
    expect(events(decision.effects)).toEqual([]);
  });

  it.each(others([customer]))('rejects a customer message claimed by the %s as forbidden', (_name, actor) => {
    expectRejected(assignedConversation(), customerMessage(), actor, 'forbidden');
  });
});

describe('assigned + free-form reply by the assignee only -> assigned', () => {
  it('accepts the assignee reply without a transition, records and sends it and clears unread', () => {
    const decision = accepted(decide(assignedConversation(), reply('done'), agentA, policy, later));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', unreadCount: 0 });
    expect(events(decision.effects)).toEqual([]);
    const [recorded] = recordedMessages(decision.effects);
    expect(recorded).toMatchObject({ direction: 'outbound', kind: 'text', text: 'done', authorId: 'agent-a' });
    expect(sentMessages(decision.effects)).toEqual([recorded]);
  });

  it.each([...supervisors, ['agent (another)', agentB] as const])('rejects a free-form reply by the %s as not_assignee', (_name, actor) => {
    expectRejected(assignedConversation(), reply(), actor, 'not_assignee');
  });

  it.each(nonUsers)('rejects a free-form reply by the %s as forbidden', (_name, actor) => {
    expectRejected(assignedConversation(), reply(), actor, 'forbidden');
  });
});

describe('assigned + take over by a supervisor -> assigned to self', () => {
  it.each(supervisors)('lets the %s take the conversation over from the agent', (_name, actor) => {
    const state = assignedConversation(T0, T0 + MINUTE);
    const decision = accepted(decide(state, takeOver, actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: actor.userId, assignedAt: T0 + MINUTE });
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ from: 'assigned', to: 'assigned', reason: 'take_over', actor: userRef(actor), assigneeBefore: 'agent-a', assigneeAfter: actor.userId }),
    ]);
  });

  it.each<readonly [string, Actor]>([
    ['agent (the assignee)', agentA],
    ['agent (another)', agentB],
    ...nonUsers,
  ])('rejects a take over by the %s as forbidden', (_name, actor) => {
    expectRejected(assignedConversation(), takeOver, actor, 'forbidden');
  });
});

describe('assigned + reassign to user Y by a supervisor or the current assignee -> assigned to Y', () => {
  it.each([...supervisors, ['agent (the assignee)', agentA as UserActor] as const])('lets the %s reassign the conversation to another agent', (_name, actor) => {
    const state = assignedConversation(T0, T0 + MINUTE);
    const decision = accepted(decide(state, assign('agent-c'), actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-c', assignedAt: T0 + MINUTE });
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ from: 'assigned', to: 'assigned', reason: 'assigned', actor: userRef(actor), assigneeBefore: 'agent-a', assigneeAfter: 'agent-c' }),
    ]);
  });

  it('rejects another agent reassigning the conversation, even to themselves, as not_assignee', () => {
    expectRejected(assignedConversation(), assign('agent-c'), agentB, 'not_assignee');
    expectRejected(assignedConversation(), assign('agent-b'), agentB, 'not_assignee');
  });

  it.each(nonUsers)('rejects a reassignment by the %s as forbidden', (_name, actor) => {
    expectRejected(assignedConversation(), assign('agent-c'), actor, 'forbidden');
  });

  it('treats assigning to the current assignee as accepted but changing nothing', () => {
    const state = assignedConversation();
    const decision = accepted(decide(state, assign('agent-a'), manager, policy, later));
    expect(decision).toEqual({ ok: true, state, effects: [], changed: false });
  });
});

describe('assigned + resolve by the assignee or a supervisor -> closed, reason resolved', () => {
  it.each([...supervisors, ['agent (the assignee)', agentA as UserActor] as const])('lets the %s mark the conversation as resolved', (_name, actor) => {
    const decision = accepted(decide(assignedConversation(), resolve, actor, policy, later));
    expect(decision.state).toMatchObject({ status: 'closed', assigneeId: null, closedReason: 'resolved', closedAt: later, episode: 1 });
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ at: later, from: 'assigned', to: 'closed', reason: 'resolved', actor: userRef(actor), assigneeBefore: 'agent-a', assigneeAfter: null }),
    ]);
    expect(sentMessages(decision.effects)).toEqual([]);
  });

  it('rejects another agent resolving the conversation as not_assignee', () => {
    expectRejected(assignedConversation(), resolve, agentB, 'not_assignee');
  });

  it.each(nonUsers)('rejects a resolve by the %s as forbidden', (_name, actor) => {
    expectRejected(assignedConversation(), resolve, actor, 'forbidden');
  });
});

describe('assigned + no customer message for autoCloseAfter (48h) -> closed by the system, reason inactivity', () => {
  it('sets the deadline 48h after the moment it became assigned when that is later than the last customer message', () => {
    const state = assignedConversation(T0, T0 + 2 * HOUR);
    expect(autoCloseAt(state, policy)).toBe(T0 + 50 * HOUR);
  });

  it('sets the deadline 48h after the last customer message when that is later than the assignment', () => {
    const state = step(assignedConversation(T0, T0 + 2 * HOUR), customerMessage(), customer, T0 + 3 * HOUR);
    expect(autoCloseAt(state, policy)).toBe(T0 + 51 * HOUR);
  });

  it('closes with reason inactivity at exactly 48h and records a system transition', () => {
    const state = assignedConversation(T0, T0);
    const deadline = T0 + 48 * HOUR;
    const decision = accepted(decide(state, timer, system, policy, deadline));
    expect(decision.state).toMatchObject({ status: 'closed', assigneeId: null, closedReason: 'inactivity', closedAt: deadline, episode: 1 });
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ at: deadline, from: 'assigned', to: 'closed', reason: 'inactivity', actor: { kind: 'system', id: null, role: null }, assigneeBefore: 'agent-a', assigneeAfter: null }),
    ]);
    expect(nextDeadline(decision.state, policy)).toBeNull();
  });

  it('does not close at 48h minus 1ms', () => {
    // The window expiry at 24h is recorded first so that the only pending deadline is the auto-close.
    const state = step(assignedConversation(T0, T0), timer, system, T0 + 24 * HOUR);
    const decision = accepted(decide(state, timer, system, policy, T0 + 48 * HOUR - 1));
    expect(decision).toEqual({ ok: true, state, effects: [], changed: false });
  });

  it('does not let agent messages extend the deadline', () => {
    let state = assignedConversation(T0, T0);
    state = step(state, reply(), agentA, T0 + 10 * HOUR);
    state = step(state, template(), agentA, T0 + 30 * HOUR);
    expect(autoCloseAt(state, policy)).toBe(T0 + 48 * HOUR);
    expect(accepted(decide(state, timer, system, policy, T0 + 48 * HOUR)).state).toMatchObject({ status: 'closed', closedReason: 'inactivity' });
  });

  it('moves the deadline to 88h when the customer writes at 40h, so 48h no longer closes', () => {
    let state = assignedConversation(T0, T0);
    state = step(state, customerMessage(), customer, T0 + 40 * HOUR);
    expect(autoCloseAt(state, policy)).toBe(T0 + 88 * HOUR);
    expect(nextDeadline(state, policy)).toBe(T0 + 64 * HOUR);
    expect(accepted(decide(state, timer, system, policy, T0 + 48 * HOUR)).changed).toBe(false);
    state = step(state, timer, system, T0 + 64 * HOUR); // the refreshed window expires
    expect(accepted(decide(state, timer, system, policy, T0 + 88 * HOUR - 1)).changed).toBe(false);
    expect(accepted(decide(state, timer, system, policy, T0 + 88 * HOUR)).state).toMatchObject({ status: 'closed', closedReason: 'inactivity' });
  });

  it('keeps the deadline of the first assignment when the conversation is reassigned or taken over', () => {
    let state = assignedConversation(T0, T0);
    state = step(state, assign('agent-b'), agentA, T0 + 20 * HOUR);
    state = step(state, takeOver, manager, T0 + 30 * HOUR);
    expect(autoCloseAt(state, policy)).toBe(T0 + 48 * HOUR);
  });

  it('has no inactivity deadline while open or closed', () => {
    expect(autoCloseAt(openConversation(), policy)).toBeNull();
    expect(autoCloseAt(closedConversation(), policy)).toBeNull();
    const open = openConversation(T0);
    const decision = accepted(decide(step(open, timer, system, T0 + 24 * HOUR), timer, system, policy, T0 + 100 * HOUR));
    expect(decision.changed).toBe(false);
  });

  it.each(others([system]))('rejects a timer fired by the %s as forbidden', (_name, actor) => {
    expectRejected(assignedConversation(T0, T0), timer, actor, 'forbidden', T0 + 48 * HOUR);
  });
});

describe('closed + customer message by the customer -> open, next episode, assignee cleared', () => {
  it('reopens as episode 2 with no assignee and no closed reason, recording the transition and the message', () => {
    const state = closedConversation(T0, T0 + 2 * MINUTE);
    const at = T0 + 5 * HOUR;
    const decision = accepted(decide(state, customerMessage({ text: 'one more thing' }), customer, policy, at));
    expect(decision.state).toMatchObject({ status: 'open', assigneeId: null, assignedAt: null, episode: 2, closedReason: null, closedAt: null, unreadCount: 1 });
    expect(decision.state.lastCustomerMessageAt).toBe(at);
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ at, episode: 2, from: 'closed', to: 'open', reason: 'customer_message', actor: { kind: 'customer', id: null, role: null } }),
    ]);
    expect(recordedMessages(decision.effects)).toEqual([expect.objectContaining({ direction: 'inbound', text: 'one more thing', episode: 2 })]);
  });

  it('reopens a conversation closed for inactivity just the same', () => {
    const state = step(assignedConversation(T0, T0), timer, system, T0 + 48 * HOUR);
    const decision = accepted(decide(state, customerMessage(), customer, policy, T0 + 49 * HOUR));
    expect(decision.state).toMatchObject({ status: 'open', assigneeId: null, episode: 2, closedReason: null });
  });

  it.each(others([customer]))('rejects a customer message claimed by the %s as forbidden', (_name, actor) => {
    expectRejected(closedConversation(), customerMessage(), actor, 'forbidden');
  });
});

describe('closed + free-form reply by anyone -> rejected conversation_closed', () => {
  it.each(allUsers)('rejects a free-form reply by the %s as conversation_closed', (_name, actor) => {
    expectRejected(closedConversation(), reply(), actor, 'conversation_closed');
  });

  it.each(nonUsers)('rejects a free-form reply by the %s as forbidden', (_name, actor) => {
    expectRejected(closedConversation(), reply(), actor, 'forbidden');
  });

  it.each(allUsers)('rejects assign, take over and resolve by the %s on a closed conversation', (_name, actor) => {
    expectRejected(closedConversation(), assign(actor.userId), actor, 'conversation_closed');
    expectRejected(closedConversation(), resolve, actor, 'conversation_closed');
    if (actor.role !== 'agent') expectRejected(closedConversation(), takeOver, actor, 'conversation_closed');
  });
});

describe('closed + template message by any user of the account -> closed', () => {
  it.each(allUsers)('records and sends a template by the %s in the timeline without reopening', (_name, actor) => {
    const state = closedConversation();
    const decision = accepted(decide(state, template('we_miss_you'), actor, policy, T0 + 30 * HOUR));
    expect(decision.changed).toBe(true);
    expect(decision.state).toMatchObject({ status: 'closed', assigneeId: null, closedReason: 'resolved', episode: 1 });
    expect(events(decision.effects)).toEqual([]);
    const [recorded] = recordedMessages(decision.effects);
    expect(recorded).toMatchObject({ direction: 'outbound', kind: 'template', authorId: actor.userId, episode: 1, template: { name: 'we_miss_you', language: 'en' } });
    expect(sentMessages(decision.effects)).toEqual([recorded]);
  });

  it.each(nonUsers)('rejects a template by the %s as forbidden', (_name, actor) => {
    expectRejected(closedConversation(), template(), actor, 'forbidden');
  });

  it('reopens only when the customer writes after the template', () => {
    let state = step(closedConversation(), template(), agentB, T0 + HOUR);
    expect(state.status).toBe('closed');
    state = step(state, customerMessage(), customer, T0 + 2 * HOUR);
    expect(state).toMatchObject({ status: 'open', episode: 2, assigneeId: null });
  });
});

describe('any state + serviceWindow (24h) passes since the last customer message -> same state', () => {
  it.each([
    ['open', () => openConversation(T0), agentA],
    ['assigned', () => assignedConversation(T0, T0 + MINUTE), agentA],
  ] as const)('rejects a free-form reply in %s at exactly 24h as window_expired', (_name, build, actor) => {
    expectRejected(build(), reply(), actor, 'window_expired', T0 + 24 * HOUR);
    expectRejected(build(), reply(), actor, 'window_expired', T0 + 30 * HOUR);
  });

  it.each([
    ['open', () => openConversation(T0)],
    ['assigned', () => assignedConversation(T0, T0 + MINUTE)],
  ] as const)('accepts a free-form reply in %s at 24h minus 1ms', (_name, build) => {
    expect(decide(build(), reply(), agentA, policy, T0 + 24 * HOUR - 1).ok).toBe(true);
  });

  it.each([
    ['open', () => openConversation(T0), 'assigned'],
    ['assigned', () => assignedConversation(T0, T0 + MINUTE), 'assigned'],
    ['closed', () => closedConversation(T0), 'closed'],
  ] as const)('still accepts a template in %s after the window has passed', (_name, build, status) => {
    const decision = accepted(decide(build(), template(), agentA, policy, T0 + 30 * HOUR));
    expect(decision.state.status).toBe(status);
    expect(sentMessages(decision.effects)).toHaveLength(1);
  });

  it('records the expiry once as an event from and to the same state by the system, and nothing else changes', () => {
    const state = assignedConversation(T0, T0 + MINUTE);
    expect(nextDeadline(state, policy)).toBe(T0 + 24 * HOUR);
    const decision = accepted(decide(state, timer, system, policy, T0 + 24 * HOUR));
    expect(decision.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', episode: 1 });
    expect(events(decision.effects)).toEqual([
      expect.objectContaining({ from: 'assigned', to: 'assigned', reason: 'window_expired', actor: { kind: 'system', id: null, role: null } }),
    ]);
    expect(nextDeadline(decision.state, policy)).toBe(T0 + MINUTE + 48 * HOUR);
    expect(accepted(decide(decision.state, timer, system, policy, T0 + 25 * HOUR)).changed).toBe(false);
  });

  it('reopens the window when the customer writes again', () => {
    let state = step(openConversation(T0), timer, system, T0 + 24 * HOUR);
    state = step(state, customerMessage(), customer, T0 + 26 * HOUR);
    expect(decide(state, reply(), agentA, policy, T0 + 26 * HOUR).ok).toBe(true);
  });

  it('runs the window from the provider sentAt when it is earlier than now, and from now when it is ahead', () => {
    const early = step(fresh(), customerMessage({ sentAt: T0 - HOUR }), customer, T0);
    expect(windowExpiresAt(early, policy)).toBe(T0 + 23 * HOUR);
    const ahead = step(fresh(), customerMessage({ sentAt: T0 + HOUR }), customer, T0);
    expect(windowExpiresAt(ahead, policy)).toBe(T0 + 24 * HOUR);
  });
});

describe('More rules: a repeated customer message (same provider message id) is recorded once', () => {
  it.each([
    ['open', openConversation],
    ['assigned', () => assignedConversation()],
  ] as const)('accepts the redelivery in %s without recording or changing anything', (_name, build) => {
    const state = step(build(), customerMessage({ messageId: 'dup-1' }), customer, T0 + HOUR);
    const decision = accepted(decide(state, customerMessage({ messageId: 'dup-1', text: 'again' }), customer, policy, T0 + 2 * HOUR));
    expect(decision).toEqual({ ok: true, state, effects: [], changed: false });
  });

  it('does not reopen a closed conversation for a redelivered message of the previous episode', () => {
    let state = step(fresh(), customerMessage({ messageId: 'dup-2' }), customer, T0);
    state = step(state, resolve, owner, T0 + HOUR);
    const decision = accepted(decide(state, customerMessage({ messageId: 'dup-2' }), customer, policy, T0 + 2 * HOUR));
    expect(decision.changed).toBe(false);
    expect(decision.state.status).toBe('closed');
  });
});

describe('More rules: unread count is the customer messages since the last outbound message of the episode', () => {
  it('counts customer messages, resets on an outbound reply or template, and counts again after', () => {
    let state = openConversation(T0);
    state = step(state, customerMessage(), customer, T0 + MINUTE);
    state = step(state, customerMessage(), customer, T0 + 2 * MINUTE);
    expect(state.unreadCount).toBe(3);
    state = step(state, reply(), agentA, T0 + 3 * MINUTE);
    expect(state.unreadCount).toBe(0);
    state = step(state, customerMessage(), customer, T0 + 4 * MINUTE);
    expect(state.unreadCount).toBe(1);
    state = step(state, template(), agentA, T0 + 5 * MINUTE);
    expect(state.unreadCount).toBe(0);
  });

  it('does not clear unread on assignment, take over or reassignment (no message went out)', () => {
    let state = step(openConversation(T0), customerMessage(), customer, T0 + MINUTE);
    state = step(state, assign('agent-a'), manager, T0 + 2 * MINUTE);
    state = step(state, takeOver, admin, T0 + 3 * MINUTE);
    expect(state.unreadCount).toBe(2);
  });

  it('keeps the unread count of the episode when it is resolved without an outbound message', () => {
    let state = step(openConversation(T0), customerMessage(), customer, T0 + MINUTE);
    state = step(state, resolve, manager, T0 + 2 * MINUTE);
    expect(state.unreadCount).toBe(2);
  });

  it('starts the next episode at one unread, not counting the previous episode', () => {
    let state = step(openConversation(T0), customerMessage(), customer, T0 + MINUTE);
    state = step(state, resolve, manager, T0 + 2 * MINUTE);
    state = step(state, customerMessage(), customer, T0 + 3 * MINUTE);
    expect(state).toMatchObject({ episode: 2, unreadCount: 1 });
  });
});

describe('More rules: every transition is kept as an event with when, from, to, why and who', () => {
  it('numbers the events of a whole lifecycle in order and names each actor', () => {
    const trail: TransitionEvent[] = [];
    let state = fresh();
    const run = (input: Input, actor: Actor, now: number) => {
      const decision = accepted(decide(state, input, actor, policy, now));
      trail.push(...events(decision.effects));
      state = decision.state;
    };
    run(customerMessage(), customer, T0);
    run(reply(), agentA, T0 + MINUTE);
    run(takeOver, manager, T0 + 2 * MINUTE);
    run(resolve, manager, T0 + 3 * MINUTE);
    run(customerMessage(), customer, T0 + HOUR);
    run(assign('agent-b'), agentB, T0 + 2 * HOUR);
    run(timer, system, T0 + 25 * HOUR);
    run(timer, system, T0 + 50 * HOUR);
    expect(trail.map(({ seq, at, episode, from, to, reason, actor }) => ({ seq, at, episode, from, to, reason, who: actor.kind + ':' + (actor.id ?? '') }))).toEqual([
      { seq: 1, at: T0, episode: 1, from: null, to: 'open', reason: 'first_customer_message', who: 'customer:' },
      { seq: 2, at: T0 + MINUTE, episode: 1, from: 'open', to: 'assigned', reason: 'reply', who: 'user:agent-a' },
      { seq: 3, at: T0 + 2 * MINUTE, episode: 1, from: 'assigned', to: 'assigned', reason: 'take_over', who: 'user:manager-1' },
      { seq: 4, at: T0 + 3 * MINUTE, episode: 1, from: 'assigned', to: 'closed', reason: 'resolved', who: 'user:manager-1' },
      { seq: 5, at: T0 + HOUR, episode: 2, from: 'closed', to: 'open', reason: 'customer_message', who: 'customer:' },
      { seq: 6, at: T0 + 2 * HOUR, episode: 2, from: 'open', to: 'assigned', reason: 'claimed', who: 'user:agent-b' },
      { seq: 7, at: T0 + 25 * HOUR, episode: 2, from: 'assigned', to: 'assigned', reason: 'window_expired', who: 'system:' },
      { seq: 8, at: T0 + 50 * HOUR, episode: 2, from: 'assigned', to: 'closed', reason: 'inactivity', who: 'system:' },
    ]);
    expect(state.eventSeq).toBe(8);
  });
});

describe('More rules: rejected actions change nothing and say why with a stable code', () => {
  it.each([
    ['a not_assignee reply', assignedConversation, reply(), agentB, 'not_assignee'],
    ['a closed reply', closedConversation, reply(), agentA, 'conversation_closed'],
    ['an expired-window reply', openConversation, reply(), agentA, 'window_expired'],
    ['a forbidden timer', assignedConversation, timer, service, 'forbidden'],
  ] as const)('leaves the state exactly as it was after %s', (_name, build, input, actor, code) => {
    expectRejected(build(), input, actor, code, T0 + 30 * HOUR);
  });

  it('never mutates the state it was given, even when it accepts', () => {
    const state = deepFreeze(openConversation());
    const before = structuredClone(state);
    accepted(decide(state, reply(), agentA, policy, later));
    expect(state).toStrictEqual(before);
  });
});

describe('More rules: a customer reply to a campaign lands as open and keeps the campaign it answered', () => {
  it('opens a new conversation with the campaign id and keeps the reference on the message', () => {
    const decision = accepted(
      decide(fresh(), customerMessage({ replyTo: { messageId: 'camp-msg-1', campaignId: 'spring-sale' } }), customer, policy, T0),
    );
    expect(decision.state).toMatchObject({ status: 'open', campaignId: 'spring-sale', episode: 1 });
    expect(recordedMessages(decision.effects)[0]!.replyTo).toEqual({ messageId: 'camp-msg-1', campaignId: 'spring-sale' });
  });

  it('reopens a closed conversation as open with the campaign id, and the next episode without one forgets it', () => {
    let state = step(closedConversation(), customerMessage({ replyTo: { campaignId: 'winback' } }), customer, T0 + HOUR);
    expect(state).toMatchObject({ status: 'open', episode: 2, campaignId: 'winback', assigneeId: null });
    state = step(state, resolve, owner, T0 + 2 * HOUR);
    expect(state.campaignId).toBe('winback');
    state = step(state, customerMessage(), customer, T0 + 3 * HOUR);
    expect(state).toMatchObject({ episode: 3, campaignId: null });
  });
});
