/**
 * Answer or reroute (SPEC 9, `answerWithin`): the deadline runs while the conversation is assigned and a
 * customer message waits for a user's message, from the later of the assignment and that message; when
 * it falls due the conversation goes back to open (`unanswered`), unassigned, and, with routing on, asks
 * to be routed to anyone but the users who left it unanswered this episode. A state without `answer` (a
 * run before the `answer-within` patch) has none of it.
 */
import fc from 'fast-check';
import { withAnswerState } from '../../workflows/conversation/core/answer-within';
import type { Actor, ConversationState, Decision, Effect, Input } from '../../workflows/conversation/core/lifecycle';
import { decide, deadlines, nextDeadline } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { settled } from '../../workflows/conversation/core/settle';
import { HOUR, MINUTE, T0, accepted, agentA, agentB, assign, customer, customerMessage, deepFreeze, events, fresh, owner, reply, resolve, step, system, timer } from './lifecycle-fixtures';

const manual: Policy = applyPolicyPatch(defaultPolicy, { answerWithin: '10m' });
const routed: Policy = applyPolicyPatch(defaultPolicy, { answerWithin: '10m', routing: { mode: 'round_robin', rules: [], sticky: true } });

const answerDeadline = (state: ConversationState, policy: Policy) => deadlines(state, policy).find((d) => d.kind === 'answerWithin')?.at ?? null;
const routingRequests = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'requestRouting' ? [e.request] : []));

/** Customer writes at T0, agent A claims at T0 + 1m (a run that took the patch). */
function claimed(policy: Policy, state = withAnswerState(fresh())): ConversationState {
  const open = step(state, customerMessage(), customer, T0, policy);
  return step(open, assign('agent-a'), agentA, T0 + MINUTE, policy);
}

describe('answerWithin: the deadline', () => {
  it('a state without `answer` (a run before the patch) has no answerWithin deadline', () => {
    expect(answerDeadline(claimed(manual, fresh()), manual)).toBeNull();
  });

  it('is off when the policy has no answerWithin', () => {
    expect(answerDeadline(claimed(defaultPolicy), defaultPolicy)).toBeNull();
  });

  it('runs from the assignment when the customer wrote before it', () => {
    expect(answerDeadline(claimed(manual), manual)).toBe(T0 + 11 * MINUTE);
  });

  it('runs from the customer message when it came after the assignment (and after a reply)', () => {
    const answered = step(claimed(manual), reply(), agentA, T0 + 2 * MINUTE, manual);
    expect(answerDeadline(answered, manual)).toBeNull();
    const again = step(answered, customerMessage(), customer, T0 + 30 * MINUTE, manual);
    expect(answerDeadline(again, manual)).toBe(T0 + 40 * MINUTE);
    // A second customer message does not move it: the customer has waited since the first.
    const more = step(again, customerMessage(), customer, T0 + 35 * MINUTE, manual);
    expect(answerDeadline(more, manual)).toBe(T0 + 40 * MINUTE);
  });

  it('gives a new assignee the whole time; the same assignee again keeps it', () => {
    const reassigned = step(claimed(manual), assign('agent-b'), owner, T0 + 5 * MINUTE, manual);
    expect(answerDeadline(reassigned, manual)).toBe(T0 + 15 * MINUTE);
    const same = step(reassigned, { type: 'tags', add: ['vip'], remove: [] }, owner, T0 + 6 * MINUTE, manual);
    expect(answerDeadline(same, manual)).toBe(T0 + 15 * MINUTE);
  });

  it('does not run while open, and not after a user answered', () => {
    const open = step(withAnswerState(fresh()), customerMessage(), customer, T0, manual);
    expect(answerDeadline(open, manual)).toBeNull();
    expect(answerDeadline(step(claimed(manual), reply(), agentA, T0 + 2 * MINUTE, manual), manual)).toBeNull();
  });
});

describe('answerWithin: when it falls due', () => {
  it('manual routing: back to open, reason unanswered, assignee cleared, nothing asked of a router', () => {
    const state = claimed(manual);
    expect(nextDeadline(state, manual)).toBe(T0 + 11 * MINUTE);
    expect(accepted(decide(state, timer, system, manual, T0 + 11 * MINUTE - 1)).changed).toBe(false);
    const d = accepted(decide(state, timer, system, manual, T0 + 11 * MINUTE));
    expect(events(d.effects)).toEqual([
      expect.objectContaining({ from: 'assigned', to: 'open', reason: 'unanswered', actor: { kind: 'system', id: null, role: null }, assigneeBefore: 'agent-a', assigneeAfter: null }),
    ]);
    expect(d.state).toMatchObject({ status: 'open', assigneeId: null, answer: { assigneeSince: null, unansweredBy: ['agent-a'] } });
    expect(routingRequests(d.effects)).toEqual([]);
    // The customer still waits: unread and waitingSince are kept.
    expect(d.state.waitingSince).toBe(state.waitingSince);
    expect(d.state.unreadCount).toBe(state.unreadCount);
    expect(answerDeadline(d.state, manual)).toBeNull();
  });

  it('routing on: routed again, avoiding every user who left it unanswered this episode', () => {
    const first = accepted(decide(claimed(routed), timer, system, routed, T0 + 11 * MINUTE));
    expect(first.effects).toContainEqual({ type: 'reportAssignment', assigneeId: null });
    expect(routingRequests(first.effects)).toEqual([expect.objectContaining({ previousAssigneeId: 'agent-a', avoid: ['agent-a'] })]);
    const toB = step(first.state, { type: 'routed', assigneeId: 'agent-b', rule: 'fallback' }, system, T0 + 12 * MINUTE, routed);
    expect(answerDeadline(toB, routed)).toBe(T0 + 22 * MINUTE);
    const second = accepted(decide(toB, timer, system, routed, T0 + 22 * MINUTE));
    expect(routingRequests(second.effects)).toEqual([expect.objectContaining({ avoid: ['agent-a', 'agent-b'] })]);
  });

  it('a new episode forgets who left it unanswered', () => {
    const rerouted = accepted(decide(claimed(routed), timer, system, routed, T0 + 11 * MINUTE)).state;
    const closed = step(step(rerouted, assign('agent-b'), agentB, T0 + 12 * MINUTE, routed), resolve, agentB, T0 + 13 * MINUTE, routed);
    expect(closed.answer?.unansweredBy).toEqual(['agent-a']);
    const next = accepted(decide(closed, customerMessage(), customer, routed, T0 + HOUR));
    expect(next.state.answer?.unansweredBy).toEqual([]);
    expect(routingRequests(next.effects)).toEqual([expect.not.objectContaining({ avoid: expect.anything() })]);
  });

  it('the shell settles it before a late reply: the late reply then claims the open conversation', () => {
    const state = claimed(manual);
    const s = settled(state, manual, T0 + 20 * MINUTE);
    expect(s.state.status).toBe('open');
    const late = accepted(decide(s.state, reply(), agentA, manual, T0 + 20 * MINUTE));
    expect(late.state).toMatchObject({ status: 'assigned', assigneeId: 'agent-a', waitingSince: null });
  });
});

// ---- Properties over random histories ----

const agentC: Actor = { kind: 'user', userId: 'agent-c', role: 'agent' };
const users = [agentA, agentB, agentC] as Extract<Actor, { kind: 'user' }>[];

type Step =
  | { kind: 'customer'; gap: number }
  | { kind: 'reply'; gap: number }
  | { kind: 'assign'; to: number; gap: number }
  | { kind: 'routed'; to: number; gap: number }
  | { kind: 'resolve'; gap: number }
  | { kind: 'release'; gap: number }
  | { kind: 'deadline'; offset: number };

const gapArb = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 12 * MINUTE }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 * HOUR }) });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('customer' as const), gap: gapArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reply' as const), gap: gapArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('assign' as const), to: fc.nat(2), gap: gapArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('routed' as const), to: fc.nat(2), gap: gapArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resolve' as const), gap: gapArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), gap: gapArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deadline' as const), offset: fc.constantFrom(-1, 0, 0, 1) }) },
);
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: 50, size: 'max' });

interface Observed {
  before: ConversationState;
  input: Input;
  now: number;
  decision: Extract<Decision, { ok: true }>;
}

function replay(history: Step[], policy: Policy, check: (o: Observed) => void): void {
  let state = withAnswerState(fresh());
  let now = T0;
  let n = 0;
  for (const s of history) {
    let input: Input;
    let actor: Actor;
    if (s.kind === 'deadline') {
      const due = nextDeadline(state, policy);
      if (due === null) continue;
      now = Math.max(now, due + s.offset);
      input = timer;
      actor = system;
    } else {
      now += s.gap;
      const holder = users.find((u) => u.userId === state.assigneeId) ?? agentA;
      switch (s.kind) {
        case 'customer':
          n += 1;
          [input, actor] = [{ type: 'customerMessage', message: { messageId: `p-${n}`, text: 'hi' } }, customer];
          break;
        case 'reply':
          [input, actor] = [reply(), holder];
          break;
        case 'assign':
          [input, actor] = [assign(users[s.to]!.userId), owner];
          break;
        case 'routed':
          [input, actor] = [{ type: 'routed', assigneeId: users[s.to]!.userId, rule: 'fallback' }, system];
          break;
        case 'resolve':
          [input, actor] = [resolve, owner];
          break;
        case 'release':
          [input, actor] = [{ type: 'releaseToQueue' }, holder];
          break;
      }
    }
    // As the shell: deadlines that passed first.
    for (const d of settled(state, policy, now).decisions) {
      check({ before: state, input: timer, now, decision: d });
      state = d.state;
    }
    const before = deepFreeze(state);
    const decision = decide(before, input, actor, policy, now);
    if (decision.ok) {
      check({ before, input, now, decision });
      state = decision.state;
    }
  }
}

const holds = (check: (o: Observed) => void) =>
  fc.assert(
    fc.property(historyArb, fc.constantFrom(manual, routed), (history, policy) => replay(history, policy, check)),
    { numRuns: 300 },
  );

describe('answerWithin over random histories', () => {
  it('the deadline exists exactly while assigned with a customer waiting, and never earlier than answerWithin after the assignment or the message', () => {
    holds(({ decision }) => {
      const after = decision.state;
      const at = answerDeadline(after, manual);
      expect(at !== null).toBe(after.status === 'assigned' && after.waitingSince !== null);
      if (at !== null) expect(at).toBe(Math.max(after.answer!.assigneeSince!, after.waitingSince!) + 10 * MINUTE);
    });
  });

  it('a conversation leaves its assignee as unanswered only by the timer, at or after the deadline, from assigned to open, naming them', () => {
    holds(({ before, input, now, decision }) => {
      const unanswered = events(decision.effects).filter((e) => e.reason === 'unanswered');
      if (unanswered.length === 0) return;
      expect(input.type).toBe('timer');
      expect(now).toBeGreaterThanOrEqual(answerDeadline(before, manual)!);
      expect(now - before.answer!.assigneeSince!).toBeGreaterThanOrEqual(10 * MINUTE);
      expect(unanswered).toEqual([expect.objectContaining({ from: 'assigned', to: 'open', assigneeBefore: before.assigneeId, assigneeAfter: null })]);
      expect(decision.state.answer!.unansweredBy).toContain(before.assigneeId);
    });
  });

  it('every routing request avoids exactly the users who left this episode unanswered, and a new episode starts with nobody avoided', () => {
    holds(({ before, decision }) => {
      const avoided = decision.state.answer!.unansweredBy;
      if (decision.state.episode !== before.episode) expect(avoided).toEqual([]);
      for (const request of routingRequests(decision.effects)) expect(request.avoid ?? []).toEqual(avoided);
      expect(new Set(avoided).size).toBe(avoided.length);
    });
  });
});
