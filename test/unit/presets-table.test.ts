/**
 * The presets of SPEC section 3 as executable tables: one test per transition row of seed 004's tables
 * under the `work_items` preset, one per status of seed 002 under `status_inbox`, and the overrides that
 * show a preset is nothing but field values. Every state is reached through `decide` (never written by
 * hand), every decision runs on a frozen state, and capacity is checked both as the `heldBy` the state
 * keeps and as the `reportAssignment` effects the router hears under a routing mode.
 */
import type { Actor, ConversationState, Effect, Input } from '../../workflows/conversation/core/lifecycle';
import { capacityHolder, deadlines, decide, nextDeadline } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { defaultPolicy, effective, presets } from '../../workflows/conversation/core/policy';
import { manualRouting } from '../../workflows/routing/routing';
import type { Accepted } from './lifecycle-fixtures';
import {
  HOUR,
  MINUTE,
  T0,
  accepted,
  agentA,
  agentB,
  assign,
  customer,
  customerMessage,
  deepFreeze,
  events,
  fresh,
  manager,
  owner,
  recordedMessages,
  rejected,
  reply,
  resolve,
  sentMessages,
  service,
  system,
  takeOver,
  template,
  timer,
  userRef,
} from './lifecycle-fixtures';
import type { UserActor } from './lifecycle-fixtures';

const workItems: Policy = { preset: 'work_items', ...presets.work_items, version: 1 };
const statusInbox: Policy = { preset: 'status_inbox', ...presets.status_inbox, version: 1 };
/** The same preset with the router in charge, so capacity changes become `reportAssignment` effects. */
const routedBy = (policy: Policy): Policy => ({ ...policy, routing: { ...manualRouting, mode: 'round_robin' } });

const end: Input = { type: 'end' };
const leave: Input = { type: 'leave' };
const revive: Input = { type: 'revive' };
const releaseToQueue: Input = { type: 'releaseToQueue' };
const transfer = (team: string): Input => ({ type: 'transfer', team });
const customerLeft: Input = { type: 'customerLeft' };
const csatAnswer = (score: number): Input => ({ type: 'csatAnswer', score });
const presence = (userId: string, online: boolean): Input => ({ type: 'agentPresence', userId, online });
const routed = (assigneeId: string, rule = 'rules[0]'): Input => ({ type: 'routed', assigneeId, rule });
const flowStart = (priority = false): Input => ({ type: 'flowStart', priority });
const flowEndAssigning = (assignTo: { userId: string } | { team: string } | null): Input => ({ type: 'flowEnd', assignTo });
const tags = (add: string[], remove: string[] = []): Input => ({ type: 'tags', add, remove });
const broadcast = (priority = false): Input => ({ type: 'broadcast', template: { name: 'spring_sale', language: 'en' }, priority });

/** One accepted decision on a frozen state: a rule that mutated its input would throw. */
function act(policy: Policy, state: ConversationState, input: Input, actor: Actor, now: number): Accepted {
  return accepted(decide(deepFreeze(state), input, actor, policy, now));
}
const stepUnder = (policy: Policy, state: ConversationState, input: Input, actor: Actor, now: number) => act(policy, state, input, actor, now).state;

/** A rejection names the expected code and leaves the state as it was. */
function expectRejected(policy: Policy, state: ConversationState, input: Input, actor: Actor, code: string, now = T0 + HOUR): void {
  const before = structuredClone(state);
  const decision = rejected(decide(deepFreeze(state), input, actor, policy, now));
  expect(decision.code).toBe(code);
  expect(state).toStrictEqual(before);
}

/** Fires the timer until nothing more is due at `now` (a window expiry may be recorded first). */
function timersAt(policy: Policy, state: ConversationState, now: number): { state: ConversationState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (let i = 0; i < 10; i++) {
    const decision = act(policy, state, timer, system, now);
    if (!decision.changed) return { state, effects };
    state = decision.state;
    effects.push(...decision.effects);
  }
  throw new Error('the timer kept changing the conversation');
}

const routingEffects = (effects: Effect[]) => effects.filter((e) => e.type === 'requestRouting' || e.type === 'reportAssignment');
const reports = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'reportAssignment' ? [e.assigneeId] : []));
const transitions = (effects: Effect[]) => events(effects).map((e) => [e.from, e.to, e.reason]);
const deadlineOf = (policy: Policy, state: ConversationState, kind: string) => deadlines(state, policy).find((d) => d.kind === kind)?.at;

/** States reached under `policy` the way the workflow reaches them: customer at T0, agent A claims at T0+1m. */
function scenarios(policy: Policy) {
  const open = (at = T0) => stepUnder(policy, fresh(), customerMessage(), customer, at);
  const assigned = (at = T0) => stepUnder(policy, open(at), assign('agent-a'), agentA, at + MINUTE);
  const waiting = (at = T0) => stepUnder(policy, assigned(at), leave, agentA, at + 2 * MINUTE);
  const wrapUp = (at = T0) => stepUnder(policy, assigned(at), end, agentA, at + 2 * MINUTE);
  const closed = (at = T0) => stepUnder(policy, wrapUp(at), end, agentA, at + 3 * MINUTE);
  const resolved = (at = T0) => stepUnder(policy, assigned(at), resolve, agentA, at + 2 * MINUTE);
  const inFlow = (at = T0) => stepUnder(policy, open(at), flowStart(), service, at + MINUTE);
  return { open, assigned, waiting, wrapUp, closed, resolved, inFlow };
}

describe('work_items preset (seed 004)', () => {
  const policy = workItems;
  const routedPolicy = routedBy(workItems);
  const s = scenarios(policy);
  const r = scenarios(routedPolicy);

  describe('Open -> Active (assigned)', () => {
    it('an agent picking an open conversation from the queue assigns it to them and consumes their capacity', () => {
      const { state, effects } = act(policy, s.open(), assign('agent-a'), agentA, T0 + MINUTE);
      expect(state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', heldBy: 'agent-a', episode: 1 });
      expect(events(effects)).toEqual([expect.objectContaining({ from: 'open', to: 'assigned', reason: 'claimed', actor: userRef(agentA as UserActor), assigneeAfter: 'agent-a' })]);
      expect(capacityHolder(state, effective(policy), T0 + MINUTE)).toBe('agent-a');
    });

    it('routing pushing an open conversation to an agent assigns it with the rule and reports their capacity to the router', () => {
      const opened = act(routedPolicy, fresh(), customerMessage(), customer, T0);
      expect(routingEffects(opened.effects)).toEqual([{ type: 'requestRouting', request: expect.objectContaining({ team: null, since: T0 }) }]);
      const { state, effects } = act(routedPolicy, opened.state, routed('agent-a', 'rules[1]'), system, T0 + MINUTE);
      expect(state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', heldBy: 'agent-a' });
      expect(events(effects)).toEqual([expect.objectContaining({ from: 'open', to: 'assigned', reason: 'routing', rule: 'rules[1]', actor: { kind: 'system', id: null, role: null } })]);
      expect(reports(effects)).toEqual(['agent-a']);
    });
  });

  describe('Open -> Closed', () => {
    it('a customer who leaves before the conversation is assigned closes it with reason customer_left, and the router drops it from its queue', () => {
      const { state, effects } = act(routedPolicy, r.open(), customerLeft, customer, T0 + MINUTE);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'customer_left', closedAt: T0 + MINUTE, assigneeId: null, heldBy: null });
      expect(transitions(effects)).toEqual([['open', 'closed', 'customer_left']]);
      expect(routingEffects(effects)).toEqual([{ type: 'reportAssignment', assigneeId: null }]);
    });
  });

  describe('Active -> Wrap-up', () => {
    it('the agent ending an assigned conversation moves it to wrap_up, keeping the assignee and (always) their capacity', () => {
      const { state, effects } = act(routedPolicy, r.assigned(), end, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'wrap_up', assigneeId: 'agent-a', heldBy: 'agent-a', closedReason: null });
      expect(transitions(effects)).toEqual([['assigned', 'wrap_up', 'ended']]);
      expect(reports(effects)).toEqual([]);
    });

    it('the customer ending or disconnecting from an assigned conversation moves it to wrap_up for the agent', () => {
      const { state, effects } = act(policy, s.assigned(), customerLeft, customer, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'wrap_up', assigneeId: 'agent-a', heldBy: 'agent-a' });
      expect(events(effects)).toEqual([expect.objectContaining({ from: 'assigned', to: 'wrap_up', reason: 'customer_left', actor: { kind: 'customer', id: null, role: null } })]);
    });

    it('another agent cannot end a conversation that is not theirs', () => {
      expectRejected(policy, s.assigned(), end, agentB, 'not_assignee');
    });
  });

  describe('Active -> Open', () => {
    it('the agent releasing the conversation to the queue returns it to open without an assignee and asks the router again', () => {
      const { state, effects } = act(routedPolicy, r.assigned(), releaseToQueue, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'open', assigneeId: null, heldBy: null, routeTeam: null, lastAssigneeId: 'agent-a' });
      expect(transitions(effects)).toEqual([['assigned', 'open', 'released']]);
      expect(routingEffects(effects)).toEqual([
        { type: 'reportAssignment', assigneeId: null },
        { type: 'requestRouting', request: expect.objectContaining({ previousAssigneeId: 'agent-a', team: null }) },
      ]);
    });

    it("the agent transferring the conversation to another team's queue returns it to open, routed to that team", () => {
      const { state, effects } = act(routedPolicy, r.assigned(), transfer('billing'), agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'open', assigneeId: null, heldBy: null, routeTeam: 'billing' });
      expect(transitions(effects)).toEqual([['assigned', 'open', 'transferred']]);
      expect(routingEffects(effects)).toEqual([
        { type: 'reportAssignment', assigneeId: null },
        { type: 'requestRouting', request: expect.objectContaining({ team: 'billing' }) },
      ]);
    });

    it('an agent disconnect not followed by a reconnect returns the conversation to open when the 5-minute timeout passes, and not a moment before', () => {
      const disconnected = stepUnder(policy, s.assigned(), presence('agent-a', false), system, T0 + 2 * MINUTE);
      expect(disconnected).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', disconnectedAt: T0 + 2 * MINUTE });
      const due = T0 + 7 * MINUTE;
      expect(deadlineOf(policy, disconnected, 'agentReconnect')).toBe(due);

      expect(timersAt(policy, disconnected, due - 1).state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a' });
      const { state, effects } = act(policy, disconnected, timer, system, due);
      expect(state).toMatchObject({ status: 'open', assigneeId: null, heldBy: null, disconnectedAt: null });
      expect(events(effects)).toEqual([expect.objectContaining({ from: 'assigned', to: 'open', reason: 'agent_disconnected', actor: { kind: 'system', id: null, role: null } })]);
    });

    it('an agent who reconnects within the timeout keeps the conversation assigned', () => {
      const disconnected = stepUnder(policy, s.assigned(), presence('agent-a', false), system, T0 + 2 * MINUTE);
      const reconnected = stepUnder(policy, disconnected, presence('agent-a', true), system, T0 + 6 * MINUTE);
      expect(reconnected.disconnectedAt).toBeNull();
      expect(deadlineOf(policy, reconnected, 'agentReconnect')).toBeUndefined();
      expect(timersAt(policy, reconnected, T0 + HOUR).state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', heldBy: 'agent-a' });
    });

    it("another agent's disconnect does not start the timeout", () => {
      const decision = act(policy, s.assigned(), presence('agent-b', false), system, T0 + 2 * MINUTE);
      expect(decision.changed).toBe(false);
    });
  });

  describe('Active -> Waiting', () => {
    it('the agent leaving without ending moves the conversation to waiting, keeping the assignee but consuming no capacity', () => {
      const { state, effects } = act(routedPolicy, r.assigned(), leave, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'waiting', assigneeId: 'agent-a', heldBy: null });
      expect(transitions(effects)).toEqual([['assigned', 'waiting', 'left_by_agent']]);
      // Capacity is given back; the conversation is not put back in the queue.
      expect(routingEffects(effects)).toEqual([{ type: 'reportAssignment', assigneeId: null }]);
      expect(capacityHolder(state, effective(routedPolicy), T0 + 3 * MINUTE)).toBeNull();
    });
  });

  describe('Active -> Closed', () => {
    it('the agent resolving the conversation closes it at once with reason resolved, sending no survey', () => {
      const { state, effects } = act(routedPolicy, r.assigned(), resolve, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'resolved', assigneeId: null, heldBy: null });
      expect(transitions(effects)).toEqual([['assigned', 'closed', 'resolved']]);
      expect(sentMessages(effects)).toEqual([]);
      expect(reports(effects)).toEqual([null]);
    });
  });

  describe('Wrap-up -> Closed', () => {
    it('the agent ending the wrap-up closes the conversation with reason ended and frees their capacity', () => {
      const { state, effects } = act(routedPolicy, r.wrapUp(), end, agentA, T0 + 3 * MINUTE);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'ended', assigneeId: null, heldBy: null });
      expect(transitions(effects)).toEqual([['wrap_up', 'closed', 'ended']]);
      expect(reports(effects)).toEqual([null]);
    });

    it('a customer message during wrap-up is recorded without leaving wrap_up', () => {
      const { state, effects } = act(policy, s.wrapUp(), customerMessage(), customer, T0 + 3 * MINUTE);
      expect(state).toMatchObject({ status: 'wrap_up', assigneeId: 'agent-a', episode: 1 });
      expect(events(effects)).toEqual([]);
      expect(recordedMessages(effects)).toHaveLength(1);
    });
  });

  describe('wrap-up capacity per policy', () => {
    it('blocked always: the capacity stays held for the whole wrap-up, however long, and is freed on close', () => {
      const wrap = r.wrapUp();
      expect(wrap.heldBy).toBe('agent-a');
      expect(deadlineOf(routedPolicy, wrap, 'wrapUpCapacity')).toBeUndefined();
      const days = timersAt(routedPolicy, wrap, T0 + 72 * HOUR);
      expect(days.state).toMatchObject({ status: 'wrap_up', heldBy: 'agent-a' });
      expect(reports(days.effects)).toEqual([]);
      expect(capacityHolder(days.state, effective(routedPolicy), T0 + 72 * HOUR)).toBe('agent-a');
    });

    it('blocked never: the capacity is released as the conversation enters wrap_up', () => {
      const never = routedBy({ ...workItems, wrapUpCapacity: 'never' });
      const { state, effects } = act(never, scenarios(never).assigned(), end, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'wrap_up', assigneeId: 'agent-a', heldBy: null });
      expect(reports(effects)).toEqual([null]);
      expect(capacityHolder(state, effective(never), T0 + 2 * MINUTE)).toBeNull();
    });

    it('blocked for 10 minutes: the capacity stays held until then and is released while the conversation stays in wrap_up', () => {
      const tenMinutes = routedBy({ ...workItems, wrapUpCapacity: 10 * MINUTE });
      const wrap = act(tenMinutes, scenarios(tenMinutes).assigned(), end, agentA, T0 + 2 * MINUTE);
      expect(wrap.state).toMatchObject({ status: 'wrap_up', heldBy: 'agent-a' });
      expect(reports(wrap.effects)).toEqual([]);
      const due = T0 + 12 * MINUTE;
      expect(deadlineOf(tenMinutes, wrap.state, 'wrapUpCapacity')).toBe(due);
      expect(capacityHolder(wrap.state, effective(tenMinutes), due - 1)).toBe('agent-a');
      expect(capacityHolder(wrap.state, effective(tenMinutes), due)).toBeNull();

      expect(timersAt(tenMinutes, wrap.state, due - 1).state.heldBy).toBe('agent-a');
      const { state, effects } = act(tenMinutes, wrap.state, timer, system, due);
      expect(state).toMatchObject({ status: 'wrap_up', assigneeId: 'agent-a', heldBy: null });
      expect(events(effects)).toEqual([]);
      expect(reports(effects)).toEqual([null]);
      // Ending the wrap-up later reports nothing more: the capacity was already given back.
      expect(reports(act(tenMinutes, state, end, agentA, due + MINUTE).effects)).toEqual([]);
    });

    it('a customer who leaves sends the conversation to wrap-up under the same capacity policy', () => {
      const never = routedBy({ ...workItems, wrapUpCapacity: 'never' });
      const { state, effects } = act(never, scenarios(never).assigned(), customerLeft, customer, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'wrap_up', heldBy: null });
      expect(reports(effects)).toEqual([null]);
    });
  });

  describe('Waiting -> Closed', () => {
    it('a waiting conversation with no activity closes with reason inactivity when the 24-hour timeout passes, and not before', () => {
      const waiting = s.waiting();
      const due = deadlineOf(policy, waiting, 'waitingClose');
      expect(due).toBe(T0 + 2 * MINUTE + 24 * HOUR);
      expect(timersAt(policy, waiting, due! - 1).state).toMatchObject({ status: 'waiting', assigneeId: 'agent-a' });
      const { state, effects } = timersAt(policy, waiting, due!);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'inactivity', assigneeId: null, heldBy: null });
      expect(events(effects).at(-1)).toMatchObject({ from: 'waiting', to: 'closed', reason: 'inactivity', actor: { kind: 'system' } });
    });

    it("the agent's activity while waiting moves the inactivity timeout later", () => {
      const waiting = stepUnder(policy, s.waiting(), template(), agentA, T0 + 10 * HOUR);
      expect(deadlineOf(policy, waiting, 'waitingClose')).toBe(T0 + 34 * HOUR);
    });
  });

  describe('Waiting -> Active (assigned)', () => {
    it('the agent reviving a waiting conversation assigns it to them again and consumes their capacity', () => {
      const { state, effects } = act(routedPolicy, r.waiting(), revive, agentA, T0 + HOUR);
      expect(state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', heldBy: 'agent-a' });
      expect(transitions(effects)).toEqual([['waiting', 'assigned', 'revived']]);
      expect(reports(effects)).toEqual(['agent-a']);
    });

    it('another agent cannot revive it', () => {
      expectRejected(policy, s.waiting(), revive, agentB, 'not_assignee');
    });
  });

  describe('Waiting -> Open', () => {
    it('the customer writing within the timeout sends a waiting conversation back to the queue, in the same episode', () => {
      const { state, effects } = act(routedPolicy, r.waiting(), customerMessage(), customer, T0 + HOUR);
      expect(state).toMatchObject({ status: 'open', assigneeId: null, heldBy: null, episode: 1 });
      // Nobody has answered since the first message, so both are unread.
      expect(state.unreadCount).toBe(2);
      expect(transitions(effects)).toEqual([['waiting', 'open', 'customer_returned']]);
      expect(routingEffects(effects)).toEqual([{ type: 'requestRouting', request: expect.objectContaining({ previousAssigneeId: 'agent-a' }) }]);
    });
  });

  describe('Closed', () => {
    const agentActions: [string, Input, Actor][] = [
      ['revive', revive, agentA],
      ['assign', assign('agent-a'), agentA],
      ['assign by a supervisor', assign('agent-b'), manager],
      ['reply', reply(), agentA],
      ['end', end, agentA],
      ['leave', leave, agentA],
      ['release to queue', releaseToQueue, agentA],
      ['transfer', transfer('billing'), agentA],
      ['take over', takeOver, manager],
      ['resolve', resolve, agentA],
    ];

    it.each(agentActions)('closed is final for agents: %s is rejected with conversation_closed', (_name, input, actor) => {
      expectRejected(policy, s.closed(), input, actor, 'conversation_closed');
    });

    it('a new customer message starts a new episode in open, with no assignee', () => {
      const { state, effects } = act(routedPolicy, r.closed(), customerMessage(), customer, T0 + HOUR);
      expect(state).toMatchObject({ status: 'open', episode: 2, assigneeId: null, heldBy: null, closedReason: null, unreadCount: 1 });
      expect(events(effects)).toEqual([expect.objectContaining({ from: 'closed', to: 'open', reason: 'customer_message', episode: 2 })]);
      expect(routingEffects(effects)).toEqual([{ type: 'requestRouting', request: expect.objectContaining({ previousAssigneeId: 'agent-a' }) }]);
    });
  });

  describe('overrides', () => {
    it('with wrapUpCapacity null, ending an assigned conversation closes it straight away with reason ended', () => {
      const noWrapUp: Policy = { ...workItems, wrapUpCapacity: null };
      const { state, effects } = act(noWrapUp, scenarios(noWrapUp).assigned(), end, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'ended', heldBy: null });
      expect(transitions(effects)).toEqual([['assigned', 'closed', 'ended']]);
    });

    it('with wrapUpCapacity null, a customer who leaves an assigned conversation closes it with reason customer_left', () => {
      const noWrapUp: Policy = { ...workItems, wrapUpCapacity: null };
      const { state } = act(noWrapUp, scenarios(noWrapUp).assigned(), customerLeft, customer, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'customer_left' });
    });

    it('with waitingTimeout null, leaving without ending is rejected with conflict', () => {
      const noWaiting: Policy = { ...workItems, waitingTimeoutMs: null };
      expectRejected(noWaiting, scenarios(noWaiting).assigned(), leave, agentA, 'conflict');
    });

    it('with agentReconnectTimeout null, a disconnected agent keeps the conversation', () => {
      const noReconnect: Policy = { ...workItems, agentReconnectTimeoutMs: null };
      const decision = act(noReconnect, scenarios(noReconnect).assigned(), presence('agent-a', false), system, T0 + 2 * MINUTE);
      expect(decision.changed).toBe(false);
      expect(nextDeadline(decision.state, noReconnect)).not.toBe(T0 + 7 * MINUTE);
    });

    it('the default preset ignores a customer who leaves and has no waiting state', () => {
      const d = scenarios(defaultPolicy);
      expect(act(defaultPolicy, d.open(), customerLeft, customer, T0 + MINUTE).changed).toBe(false);
      expectRejected(defaultPolicy, d.assigned(), leave, agentA, 'conflict');
    });
  });
});

describe('status_inbox preset (seed 002)', () => {
  const policy = statusInbox;
  const routedPolicy = routedBy(statusInbox);
  const s = scenarios(policy);

  it('Not contacted: a contact that never wrote has no episode, and flows, broadcasts, replies and tags cannot touch it', () => {
    expect(fresh()).toMatchObject({ episode: 0, assigneeId: null });
    expectRejected(policy, fresh(), flowStart(true), service, 'conversation_closed');
    expectRejected(policy, fresh(), broadcast(true), service, 'conversation_closed');
    expectRejected(policy, fresh(), reply(), agentA, 'conversation_closed');
    expectRejected(policy, fresh(), tags(['vip']), agentA, 'conversation_closed');
  });

  it('New: the first customer message opens the conversation unanswered, unread and without an assignee', () => {
    const { state, effects } = act(policy, fresh(), customerMessage(), customer, T0);
    expect(state).toMatchObject({ status: 'open', episode: 1, unreadCount: 1, assigneeId: null, heldBy: null });
    expect(transitions(effects)).toEqual([[null, 'open', 'first_customer_message']]);
  });

  it('In progress: an agent answering a new conversation takes it to assigned and reads it', () => {
    const { state, effects } = act(policy, s.open(), reply('hi!'), agentA, T0 + MINUTE);
    expect(state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', unreadCount: 0, heldBy: 'agent-a' });
    expect(transitions(effects)).toEqual([['open', 'assigned', 'reply']]);
    expect(sentMessages(effects)).toEqual([expect.objectContaining({ kind: 'text', text: 'hi!', authorId: 'agent-a' })]);
  });

  describe('Resolved (CSAT)', () => {
    it('resolving sends the survey template through the channel and waits in resolved without an assignee', () => {
      const { state, effects } = act(policy, s.assigned(), resolve, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'resolved', assigneeId: null, heldBy: null, closedReason: null, csatScore: null });
      expect(transitions(effects)).toEqual([['assigned', 'resolved', 'resolved']]);
      expect(effects.filter((e) => e.type === 'send')).toEqual([
        { type: 'send', message: expect.objectContaining({ direction: 'outbound', kind: 'template', template: { name: 'csat_survey' }, authorId: null }) },
      ]);
      expect(deadlineOf(policy, state, 'csatTimeout')).toBe(T0 + 2 * MINUTE + 24 * HOUR);
    });

    it("the customer's answer closes a resolved conversation with reason resolved and keeps the score", () => {
      const { state, effects } = act(policy, s.resolved(), csatAnswer(4), customer, T0 + HOUR);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'resolved', csatScore: 4, closedAt: T0 + HOUR });
      expect(transitions(effects)).toEqual([['resolved', 'closed', 'resolved']]);
    });

    it('with no answer, the conversation closes with reason csat_timeout when the 24-hour timeout passes, and not before', () => {
      const resolved = s.resolved();
      const due = T0 + 2 * MINUTE + 24 * HOUR;
      expect(timersAt(policy, resolved, due - 1).state).toMatchObject({ status: 'resolved' });
      const { state, effects } = timersAt(policy, resolved, due);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'csat_timeout', csatScore: null });
      expect(transitions(effects)).toEqual([['resolved', 'closed', 'csat_timeout']]);
    });

    it('an answer when no survey is waiting is rejected with conflict', () => {
      expectRejected(policy, s.assigned(), csatAnswer(5), customer, 'conflict');
    });

    it('a resolved conversation is ended for agents: replies and assignment are rejected with conversation_closed', () => {
      expectRejected(policy, s.resolved(), reply(), agentA, 'conversation_closed');
      expectRejected(policy, s.resolved(), assign('agent-a'), manager, 'conversation_closed');
    });
  });

  describe('Closed', () => {
    it('closed after the survey answer, a customer message starts a new episode as New', () => {
      const closed = stepUnder(policy, s.resolved(), csatAnswer(5), customer, T0 + HOUR);
      const { state } = act(policy, closed, customerMessage(), customer, T0 + 2 * HOUR);
      expect(state).toMatchObject({ status: 'open', episode: 2, csatScore: null, closedReason: null });
    });

    it('with CSAT switched off, resolving closes at once with reason resolved and sends nothing', () => {
      const noCsat: Policy = { ...statusInbox, csat: { ...presets.status_inbox.csat, enabled: false } };
      const { state, effects } = act(noCsat, scenarios(noCsat).assigned(), resolve, agentA, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'resolved' });
      expect(sentMessages(effects)).toEqual([]);
    });
  });

  describe('In a flow', () => {
    it('a service starts a flow on a new conversation: in_flow, without an assignee', () => {
      const { state, effects } = act(policy, s.open(), flowStart(), service, T0 + MINUTE);
      expect(state).toMatchObject({ status: 'in_flow', assigneeId: null, heldBy: null });
      expect(transitions(effects)).toEqual([['open', 'in_flow', 'flow_started']]);
    });

    it('an agent cannot start a flow, and a flow interrupts an agent only with priority', () => {
      expectRejected(policy, s.open(), flowStart(), agentA, 'forbidden');
      expectRejected(policy, s.assigned(), flowStart(false), service, 'conflict');
      expect(act(policy, s.assigned(), flowStart(true), service, T0 + 2 * MINUTE).state).toMatchObject({ status: 'in_flow', assigneeId: null, heldBy: null });
    });

    it('a flow on a closed conversation starts a new episode', () => {
      const closed = stepUnder(policy, s.resolved(), csatAnswer(3), customer, T0 + HOUR);
      expect(act(policy, closed, flowStart(), service, T0 + 2 * HOUR).state).toMatchObject({ status: 'in_flow', episode: 2, csatScore: null, closedReason: null });
    });

    it('customer messages during a flow are recorded without a status change and without counting as unread', () => {
      const inFlow = s.inFlow();
      const { state, effects } = act(policy, inFlow, customerMessage({ text: 'option 2' }), customer, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'in_flow', assigneeId: null, unreadCount: inFlow.unreadCount, lastCustomerMessageAt: T0 + 2 * MINUTE });
      expect(events(effects)).toEqual([]);
      expect(recordedMessages(effects)).toEqual([expect.objectContaining({ direction: 'inbound', text: 'option 2' })]);
    });

    it('agents cannot reply while a flow runs', () => {
      expectRejected(policy, s.inFlow(), reply(), agentA, 'conflict');
    });

    it('a flow ending by assigning a user makes the conversation In progress for them and marks it unread', () => {
      const inFlow = stepUnder(policy, stepUnder(policy, s.open(), reply(), agentA, T0 + MINUTE), flowStart(true), service, T0 + 2 * MINUTE);
      expect(inFlow.unreadCount).toBe(0);
      const { state, effects } = act(policy, inFlow, flowEndAssigning({ userId: 'agent-b' }), service, T0 + 3 * MINUTE);
      expect(state).toMatchObject({ status: 'assigned', assigneeId: 'agent-b', heldBy: 'agent-b' });
      expect(state.unreadCount).toBeGreaterThanOrEqual(1);
      expect(transitions(effects)).toEqual([['in_flow', 'assigned', 'flow_assigned']]);
    });

    it('a flow ending by assigning a team puts the conversation in that team\'s queue, unread, and asks the router for that team', () => {
      const inFlow = scenarios(routedPolicy).inFlow();
      const { state, effects } = act(routedPolicy, inFlow, flowEndAssigning({ team: 'sales' }), service, T0 + 3 * MINUTE);
      expect(state).toMatchObject({ status: 'open', assigneeId: null, routeTeam: 'sales' });
      expect(state.unreadCount).toBeGreaterThanOrEqual(1);
      expect(transitions(effects)).toEqual([['in_flow', 'open', 'flow_assigned_team']]);
      expect(routingEffects(effects)).toEqual([{ type: 'requestRouting', request: expect.objectContaining({ team: 'sales' }) }]);
      // Routing then picks inside the team: the conversation becomes In progress.
      expect(act(routedPolicy, state, routed('agent-b', 'team:sales'), system, T0 + 4 * MINUTE).state).toMatchObject({ status: 'assigned', assigneeId: 'agent-b', routeTeam: null });
    });

    it('a flow ending without an assignment closes the conversation with reason flow_ended', () => {
      const { state, effects } = act(policy, s.inFlow(), flowEndAssigning(null), service, T0 + 3 * MINUTE);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'flow_ended', assigneeId: null });
      expect(transitions(effects)).toEqual([['in_flow', 'closed', 'flow_ended']]);
    });

    it('flows are rejected with conflict under a policy without them', () => {
      expectRejected(workItems, scenarios(workItems).open(), flowStart(), service, 'conflict');
    });
  });

  describe('tags', () => {
    it('tags can be added while new, in progress and after closing', () => {
      const opened = stepUnder(policy, s.open(), tags(['lead']), agentA, T0 + MINUTE);
      const assigned = stepUnder(policy, stepUnder(policy, opened, assign('agent-a'), agentA, T0 + 2 * MINUTE), tags(['vip']), agentA, T0 + 3 * MINUTE);
      expect(assigned.tags).toEqual(['lead', 'vip']);
      const closed = stepUnder(policy, stepUnder(policy, assigned, resolve, agentA, T0 + 4 * MINUTE), csatAnswer(5), customer, T0 + 5 * MINUTE);
      expect(stepUnder(policy, closed, tags(['happy']), agentA, T0 + 6 * MINUTE).tags).toEqual(['lead', 'vip', 'happy']);
    });

    it('tags can be removed before closing', () => {
      const tagged = stepUnder(policy, s.assigned(), tags(['vip']), agentA, T0 + 2 * MINUTE);
      expect(stepUnder(policy, tagged, tags([], ['vip']), agentA, T0 + 3 * MINUTE).tags).toEqual([]);
    });

    it('removing a tag after closing is rejected with conversation_closed when the policy locks tags, in resolved and in closed', () => {
      const tagged = stepUnder(policy, s.assigned(), tags(['vip']), agentA, T0 + 2 * MINUTE);
      const resolved = stepUnder(policy, tagged, resolve, agentA, T0 + 3 * MINUTE);
      expectRejected(policy, resolved, tags([], ['vip']), manager, 'conversation_closed');
      const closed = stepUnder(policy, resolved, csatAnswer(2), customer, T0 + 4 * MINUTE);
      expectRejected(policy, closed, tags(['new'], ['vip']), owner, 'conversation_closed');
    });

    it('without lockTagsOnClose, tags can be removed after closing', () => {
      const tagged = stepUnder(workItems, scenarios(workItems).assigned(), tags(['vip']), agentA, T0 + 2 * MINUTE);
      const closed = stepUnder(workItems, tagged, resolve, agentA, T0 + 3 * MINUTE);
      expect(stepUnder(workItems, closed, tags([], ['vip']), agentA, T0 + 4 * MINUTE).tags).toEqual([]);
    });
  });

  describe('auto-archive', () => {
    it('with autoArchive, closing archives the conversation and a new episode brings it back', () => {
      const archiving: Policy = { ...statusInbox, autoArchive: true };
      const a = scenarios(archiving);
      const closed = stepUnder(archiving, a.resolved(), csatAnswer(5), customer, T0 + HOUR);
      expect(closed).toMatchObject({ status: 'closed', archived: true });
      expect(stepUnder(archiving, closed, customerMessage(), customer, T0 + 2 * HOUR)).toMatchObject({ status: 'open', episode: 2, archived: false });
    });

    it('without autoArchive, a closed conversation stays in the inbox', () => {
      expect(stepUnder(policy, s.resolved(), csatAnswer(5), customer, T0 + HOUR).archived).toBe(false);
    });
  });

  describe('broadcasts', () => {
    it.each([
      ['New', () => s.open()],
      ['In progress', () => s.assigned()],
      ['Resolved', () => s.resolved()],
      ['In a flow', () => s.inFlow()],
    ])('a broadcast without priority to a conversation that is %s is rejected with conflict', (_name, state) => {
      expectRejected(policy, state(), broadcast(false), service, 'conflict');
    });

    it('a broadcast reaches a closed conversation as a template and leaves it closed', () => {
      const closed = stepUnder(policy, s.resolved(), csatAnswer(5), customer, T0 + HOUR);
      const { state, effects } = act(policy, closed, broadcast(false), service, T0 + 2 * HOUR);
      expect(state.status).toBe('closed');
      expect(sentMessages(effects)).toEqual([expect.objectContaining({ kind: 'template', template: { name: 'spring_sale', language: 'en' } })]);
    });

    it('a broadcast with priority reaches a conversation that is in progress', () => {
      const { state, effects } = act(policy, s.assigned(), broadcast(true), service, T0 + 2 * MINUTE);
      expect(state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a' });
      expect(sentMessages(effects)).toHaveLength(1);
    });
  });

  describe('idle auto-close', () => {
    const idle: Policy = { ...statusInbox, idleCloseAfterMs: 2 * HOUR };

    it('with idleCloseAfter set, an in-progress conversation with no activity closes with reason idle when the time passes, and not before', () => {
      const assigned = scenarios(idle).assigned();
      expect(timersAt(idle, assigned, T0 + MINUTE + 2 * HOUR - 1).state.status).toBe('assigned');
      const { state, effects } = timersAt(idle, assigned, T0 + MINUTE + 2 * HOUR);
      expect(state).toMatchObject({ status: 'closed', closedReason: 'idle', assigneeId: null });
      expect(transitions(effects)).toEqual([['assigned', 'closed', 'idle']]);
    });

    it('with idleCloseAfter set, a new conversation nobody answered closes as idle too', () => {
      expect(timersAt(idle, scenarios(idle).open(), T0 + 2 * HOUR).state).toMatchObject({ status: 'closed', closedReason: 'idle' });
    });

    it('without idleCloseAfter, the preset never closes a conversation by itself', () => {
      expect(nextDeadline(s.assigned(), policy)).toBe(T0 + 24 * HOUR); // only the window expiry is pending
      expect(timersAt(policy, s.assigned(), T0 + 365 * 24 * HOUR).state.status).toBe('assigned');
    });
  });

  it('the default preset with CSAT enabled resolves to resolved and sends the survey', () => {
    const csat: Policy = { ...defaultPolicy, csat: { enabled: true, template: 'how_did_we_do', timeoutMs: HOUR } };
    const { state, effects } = act(csat, scenarios(csat).assigned(), resolve, agentA, T0 + 2 * MINUTE);
    expect(state.status).toBe('resolved');
    expect(sentMessages(effects)).toEqual([expect.objectContaining({ template: { name: 'how_did_we_do' } })]);
    expect(timersAt(csat, state, T0 + 2 * MINUTE + HOUR).state).toMatchObject({ status: 'closed', closedReason: 'csat_timeout' });
  });
});
