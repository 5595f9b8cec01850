/**
 * Snooze (SPEC 9, core/rules-snooze.ts) as a table of cases and as properties over random histories:
 * who may snooze and from where, what `until` may be, what runs and what does not while snoozed, and
 * every way it wakes.
 */
import fc from 'fast-check';
import { withSlaState } from '../../workflows/conversation/core/conversation-sla';
import type { Actor, ConversationState, Input } from '../../workflows/conversation/core/lifecycle';
import { autoCloseAt, capacityHolder, deadlines, decide, nextDeadline, windowExpiresAt } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy, effective } from '../../workflows/conversation/core/policy';
import { maxSnoozeMs, parseSnoozeUntil, withSnoozeState } from '../../workflows/conversation/core/rules-snooze';
import { settled } from '../../workflows/conversation/core/settle';
import { toView } from '../../workflows/conversation/core/view';
import {
  HOUR,
  MINUTE,
  T0,
  accepted,
  admin,
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
  rejected,
  resolve,
  service,
  step,
  system,
  timer,
} from './lifecycle-fixtures';

const snooze = (until: string): Input => ({ type: 'snooze', until });
const unsnooze: Input = { type: 'unsnooze' };
const release = (userId: string): Input => ({ type: 'release', userId, reason: 'agent_deactivated' });
const routed: Policy = applyPolicyPatch(defaultPolicy, { routing: { mode: 'round_robin', rules: [] } });

/** Episode 1 on a run that took the `snooze` patch: a customer message at T0, claimed by agent A a minute later. */
function assigned(policy: Policy = defaultPolicy): ConversationState {
  const open = step(withSnoozeState(fresh()), customerMessage(), customer, T0, policy);
  return step(open, assign('agent-a'), agentA, T0 + MINUTE, policy);
}
/** Snoozed by agent A at T0 + 2m for two hours. */
function snoozed(policy: Policy = defaultPolicy): ConversationState {
  return step(assigned(policy), snooze('2h'), agentA, T0 + 2 * MINUTE, policy);
}

describe('snooze: who, from where, until when', () => {
  test('the assignee snoozes for a duration: snoozed, keeps the assignee, holds no capacity, wakes at the time', () => {
    const d = accepted(decide(assigned(), snooze('2h'), agentA, defaultPolicy, T0 + 2 * MINUTE));
    expect(d.state).toMatchObject({ status: 'snoozed', assigneeId: 'agent-a', snoozedUntil: T0 + 2 * MINUTE + 2 * HOUR, heldBy: null });
    expect(events(d.effects)).toMatchObject([{ from: 'assigned', to: 'snoozed', reason: 'snoozed', assigneeAfter: 'agent-a' }]);
    expect(toView(d.state, defaultPolicy)).toMatchObject({ status: 'snoozed', snoozedUntil: new Date(T0 + 2 * MINUTE + 2 * HOUR).toISOString(), autoCloseAt: null });
    expect(nextDeadline(d.state, defaultPolicy)).toBe(T0 + 2 * MINUTE + 2 * HOUR);
  });

  test('an ISO time with a zone is that moment; "window" is snoozeWakeBeforeWindow before the window closes', () => {
    const at = new Date(T0 + 5 * HOUR).toISOString();
    expect(accepted(decide(assigned(), snooze(at), agentA, defaultPolicy, T0 + 2 * MINUTE)).state.snoozedUntil).toBe(T0 + 5 * HOUR);
    expect(accepted(decide(assigned(), snooze('2025-01-06T12:00:00+01:00'), agentA, defaultPolicy, T0 + 2 * MINUTE)).state.snoozedUntil).toBe(Date.UTC(2025, 0, 6, 11));
    const state = assigned();
    const window = windowExpiresAt(state, defaultPolicy)!;
    expect(accepted(decide(state, snooze('window'), agentA, defaultPolicy, T0 + 2 * MINUTE)).state.snoozedUntil).toBe(window - HOUR);
    const thirty = applyPolicyPatch(defaultPolicy, { snoozeWakeBeforeWindow: '30m' });
    expect(accepted(decide(state, snooze('window'), agentA, thirty, T0 + 2 * MINUTE)).state.snoozedUntil).toBe(window - 30 * MINUTE);
  });

  test('a supervisor snoozes an open conversation; it wakes to open and asks for routing', () => {
    const open = step(withSnoozeState(fresh()), customerMessage(), customer, T0, routed);
    const s = step(open, snooze('1h'), manager, T0 + MINUTE, routed);
    expect(s).toMatchObject({ status: 'snoozed', assigneeId: null, heldBy: null });
    const woke = accepted(decide(s, timer, system, routed, T0 + MINUTE + HOUR));
    expect(woke.state).toMatchObject({ status: 'open', assigneeId: null, snoozedUntil: null });
    expect(events(woke.effects)).toMatchObject([{ from: 'snoozed', to: 'open', reason: 'snooze_ended', actor: { kind: 'system' } }]);
    expect(woke.effects.some((e) => e.type === 'requestRouting')).toBe(true);
  });

  test('a snoozed conversation is snoozed again to move its wake-up', () => {
    const again = accepted(decide(snoozed(), snooze('5h'), agentA, defaultPolicy, T0 + HOUR));
    expect(again.state).toMatchObject({ status: 'snoozed', snoozedUntil: T0 + 6 * HOUR });
  });

  const closedState = () => step(assigned(), resolve, agentA, T0 + 2 * MINUTE);
  const openState = () => step(withSnoozeState(fresh()), customerMessage(), customer, T0);
  const windowGone = () => assigned(); // decided a day later, after the window closed
  it.each<[string, () => ConversationState, Input, Actor, number, string, RegExp | null]>([
    ['a service', assigned, snooze('2h'), service, T0 + 2 * MINUTE, 'forbidden', null],
    ['the customer', assigned, snooze('2h'), customer, T0 + 2 * MINUTE, 'forbidden', null],
    ['another agent', assigned, snooze('2h'), agentB, T0 + 2 * MINUTE, 'not_assignee', null],
    ['an agent, on an open conversation', openState, snooze('2h'), agentA, T0 + MINUTE, 'forbidden', null],
    ['a closed conversation', closedState, snooze('2h'), agentA, T0 + 3 * MINUTE, 'conversation_closed', null],
    ['a new conversation', () => withSnoozeState(fresh()), snooze('2h'), owner, T0, 'conversation_closed', null],
    ['"window" after the wake moment passed', windowGone, snooze('window'), agentA, T0 + 23 * HOUR + 30 * MINUTE, 'window_expired', null],
    ['a run from before the snooze patch', () => step(step(fresh(), customerMessage(), customer, T0), assign('agent-a'), agentA, T0 + MINUTE), snooze('2h'), agentA, T0 + 2 * MINUTE, 'conflict', null],
    ['an ISO time in the past', assigned, snooze(new Date(T0).toISOString()), agentA, T0 + 2 * MINUTE, 'validation_failed', /^until: must be in the future/],
    ['now', assigned, snooze('0s'), agentA, T0 + 2 * MINUTE, 'validation_failed', /^until: must be in the future/],
    ['more than a year ahead', assigned, snooze('366d'), agentA, T0 + 2 * MINUTE, 'validation_failed', /^until: at most 365 days/],
    ['an ISO time without a zone', assigned, snooze('2025-01-06T12:00:00'), agentA, T0 + 2 * MINUTE, 'validation_failed', /^until: expected/],
    ['words', assigned, snooze('tomorrow'), agentA, T0 + 2 * MINUTE, 'validation_failed', /^until: expected/],
    ['unsnooze of an assigned conversation', assigned, unsnooze, agentA, T0 + 2 * MINUTE, 'conflict', null],
    ['unsnooze by another agent', snoozed, unsnooze, agentB, T0 + 3 * MINUTE, 'not_assignee', null],
    ['unsnooze of a closed conversation', closedState, unsnooze, admin, T0 + 3 * MINUTE, 'conversation_closed', null],
    ['a reply while snoozed', snoozed, { type: 'reply', content: { kind: 'text', text: 'hi' } }, agentA, T0 + 3 * MINUTE, 'conflict', null],
  ])('refuses %s', (_name, state, input, actor, now, code, message) => {
    const before = deepFreeze(state());
    const r = rejected(decide(before, input, actor, defaultPolicy, now));
    expect(r.code).toBe(code);
    if (message) expect(r.message).toMatch(message);
  });

  test('parseSnoozeUntil reads what the API accepts and bounds it', () => {
    expect(parseSnoozeUntil('window', T0)).toEqual({ kind: 'window' });
    expect(parseSnoozeUntil('1h30m', T0)).toEqual({ kind: 'at', at: T0 + 90 * MINUTE });
    expect(parseSnoozeUntil('365d', T0)).toEqual({ kind: 'at', at: T0 + maxSnoozeMs });
    expect(parseSnoozeUntil('2025-01-06T09:00:00.500Z', T0)).toEqual({ kind: 'at', at: T0 + 500 });
    expect(parseSnoozeUntil('2025-13-06T09:00:00Z', T0)).toHaveProperty('error');
  });
});

describe('while snoozed, and the wake', () => {
  test('neither the inactivity close nor the idle close runs; the SLA clocks are paused', () => {
    const idle = applyPolicyPatch(defaultPolicy, { idleCloseAfter: '1h', sla: { normal: { firstResponse: '10m' } } });
    const open = step(withSlaState(withSnoozeState(fresh())), customerMessage(), customer, T0, idle);
    const s = step(step(open, assign('agent-a'), agentA, T0 + MINUTE, idle), snooze('7d'), agentA, T0 + 2 * MINUTE, idle);
    expect(deadlines(s, idle).map((d) => d.kind)).toEqual(['snoozeEnd', 'windowExpiry']);
    expect(autoCloseAt(s, idle)).toBeNull();
    expect(toView(s, idle).sla).toMatchObject({ paused: true, firstResponseDueAt: null });
  });

  test('at `until` it wakes to its assignee, and the inactivity clock starts again from the wake', () => {
    const wakeAt = T0 + 2 * MINUTE + 2 * HOUR;
    expect(accepted(decide(snoozed(), timer, system, defaultPolicy, wakeAt - 1)).changed).toBe(false);
    const woke = accepted(decide(snoozed(), timer, system, defaultPolicy, wakeAt));
    expect(woke.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', snoozedUntil: null, assignedAt: wakeAt, lastActivityAt: wakeAt });
    expect(events(woke.effects)).toMatchObject([{ from: 'snoozed', to: 'assigned', reason: 'snooze_ended' }]);
    expect(autoCloseAt(woke.state, defaultPolicy)).toBe(wakeAt + effective(defaultPolicy).autoCloseAfterMs!);
  });

  test('a customer message wakes it (reason customer_message) and is recorded', () => {
    const woke = accepted(decide(snoozed(), customerMessage(), customer, defaultPolicy, T0 + HOUR));
    expect(woke.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', snoozedUntil: null, assignedAt: T0 + HOUR, unreadCount: 2 });
    expect(events(woke.effects)).toMatchObject([{ from: 'snoozed', to: 'assigned', reason: 'customer_message' }]);
    expect(woke.effects.some((e) => e.type === 'recordMessage')).toBe(true);
  });

  test('unsnooze wakes it now (reason unsnoozed), by the assignee or a supervisor', () => {
    for (const actor of [agentA, admin]) {
      const woke = accepted(decide(snoozed(), unsnooze, actor, defaultPolicy, T0 + HOUR));
      expect(woke.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', snoozedUntil: null });
      expect(events(woke.effects)).toMatchObject([{ from: 'snoozed', to: 'assigned', reason: 'unsnoozed' }]);
    }
  });

  test('resolving a snoozed conversation closes it and drops its wake-up', () => {
    const closed = step(snoozed(), resolve, agentA, T0 + HOUR);
    expect(closed).toMatchObject({ status: 'closed', snoozedUntil: null });
    expect(nextDeadline(closed, defaultPolicy)).toBeNull();
  });

  test('a deactivated assignee leaves it snoozed and unassigned; it wakes to open and is routed again', () => {
    const s = snoozed(routed);
    const released = accepted(decide(s, release('agent-a'), system, routed, T0 + HOUR));
    expect(released.state).toMatchObject({ status: 'snoozed', assigneeId: null, snoozedUntil: s.snoozedUntil });
    expect(events(released.effects)).toMatchObject([{ from: 'snoozed', to: 'snoozed', reason: 'agent_deactivated', assigneeBefore: 'agent-a', assigneeAfter: null }]);
    const woke = accepted(decide(released.state, timer, system, routed, s.snoozedUntil!));
    expect(woke.state).toMatchObject({ status: 'open', assigneeId: null });
    expect(woke.effects.find((e) => e.type === 'requestRouting')).toMatchObject({ request: { previousAssigneeId: 'agent-a' } });
  });

  test('under routing, snoozing frees the slot and the wake takes it back (reported to the router)', () => {
    const a = assigned(routed);
    const s = accepted(decide(a, snooze('1h'), agentA, routed, T0 + 2 * MINUTE));
    expect(s.effects.filter((e) => e.type === 'reportAssignment')).toEqual([{ type: 'reportAssignment', assigneeId: null }]);
    const woke = accepted(decide(s.state, unsnooze, agentA, routed, T0 + 3 * MINUTE));
    expect(woke.effects.filter((e) => e.type === 'reportAssignment')).toEqual([{ type: 'reportAssignment', assigneeId: 'agent-a' }]);
  });
});

describe('snooze over random histories', () => {
  const actors: Actor[] = [owner, manager, agentA, agentB, customer, system];
  const inputArb: fc.Arbitrary<Input> = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 }).map((n): Input => ({ type: 'customerMessage', message: { messageId: `m${n}`, text: 't' } })) },
    { weight: 3, arbitrary: fc.constantFrom('30m', '2h', '1d', 'window', '0s', 'soon').map(snooze) },
    { weight: 2, arbitrary: fc.constant(unsnooze) },
    { weight: 2, arbitrary: fc.constantFrom('agent-a', 'agent-b').map(assign) },
    { weight: 1, arbitrary: fc.constant(resolve) },
    { weight: 1, arbitrary: fc.constantFrom('agent-a', 'agent-b').map(release) },
    { weight: 3, arbitrary: fc.constant(timer) },
  );
  const stepArb = fc.record({ input: inputArb, actor: fc.constantFrom(...actors), gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 * HOUR }), fc.integer({ min: 1, max: 30 * HOUR })) });

  test('snoozed holds no capacity, runs no close, wakes only at or after its time, and its field says when', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 50 }), fc.boolean(), (steps, routing) => {
        const policy = routing ? routed : defaultPolicy;
        let state = withSnoozeState(fresh());
        let now = T0;
        for (const { input, actor, gap } of steps) {
          now += gap;
          // Deadlines that passed are decided before any input, as the workflow does (core/settle.ts).
          state = settled(state, policy, now).state;
          // A timer fires at the next deadline, as the workflow's would.
          const at = input.type === 'timer' ? Math.max(now, nextDeadline(state, policy) ?? now) : now;
          now = at;
          const d = decide(deepFreeze(state), input, input.type === 'timer' || input.type === 'release' ? system : input.type === 'customerMessage' ? customer : actor, policy, now);
          if (!d.ok) continue;
          const before = state;
          state = d.state;
          expect(state.status === 'snoozed').toBe(typeof state.snoozedUntil === 'number');
          if (state.status === 'snoozed') {
            expect(state.heldBy).toBeNull();
            expect(capacityHolder(state, effective(policy), now)).toBeNull();
            expect(deadlines(state, policy).map((x) => x.kind)).not.toContain('autoClose');
            expect(deadlines(state, policy).map((x) => x.kind)).not.toContain('idleClose');
            expect(state.snoozedUntil!).toBeGreaterThan(now);
          }
          for (const e of events(d.effects)) {
            if (e.reason === 'snooze_ended') expect(now).toBeGreaterThanOrEqual(before.snoozedUntil!);
            if (e.from === 'snoozed' && e.to === 'assigned' && ['snooze_ended', 'customer_message', 'unsnoozed'].includes(e.reason)) {
              // Back to whoever held it, with the inactivity clock started at the wake.
              expect(state.assigneeId).toBe(before.assigneeId);
              expect(state.assignedAt).toBe(now);
            }
            if (e.from === 'snoozed' && e.to === 'open') expect(before.assigneeId).toBeNull();
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
