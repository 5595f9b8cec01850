/**
 * Invariants of the lifecycle over random histories: random inputs from random actors at random,
 * never-decreasing times, including timers fired exactly at, just before and after the next deadline.
 * Every step is checked against the state before it, so a failure shrinks to the shortest history
 * that breaks a rule.
 */
import fc from 'fast-check';
import type { Actor, ConversationState, Decision, Input } from '../../workflows/conversation/core/lifecycle';
import { decide, nextDeadline, windowExpiresAt } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import { HOUR, MINUTE, SECOND, T0, admin, agentA, agentB, customer, deepFreeze, fresh, manager, owner, service, system } from './lifecycle-fixtures';

/** Runs per property; each run is a history of up to `maxSteps` inputs. */
const numRuns = 400;
const maxSteps = 60;

const agentC: Actor = { kind: 'user', userId: 'agent-c', role: 'agent' };
const actors: Actor[] = [owner, admin, manager, agentA, agentB, agentC, service, customer, system];
const assigneeIds = ['owner-1', 'manager-1', 'agent-a', 'agent-b', 'agent-c'];

const actorArb = fc.constantFrom(...actors);

// A small pool of provider ids so that redeliveries happen often.
const customerMessageArb: fc.Arbitrary<Input> = fc
  .record({
    id: fc.integer({ min: 0, max: 25 }),
    campaignId: fc.option(fc.constantFrom('spring', 'winback'), { nil: undefined }),
  })
  .map(({ id, campaignId }) => ({
    type: 'customerMessage' as const,
    message: { messageId: `m${id}`, text: `text ${id}`, ...(campaignId ? { replyTo: { campaignId } } : {}) },
  }));

const inputArb: fc.Arbitrary<Input> = fc.oneof(
  { weight: 4, arbitrary: customerMessageArb },
  { weight: 3, arbitrary: fc.constant<Input>({ type: 'reply', content: { kind: 'text', text: 'hi' } }) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'template', content: { kind: 'template', template: { name: 'follow_up' } } }) },
  { weight: 2, arbitrary: fc.constantFrom(...assigneeIds).map((assigneeId): Input => ({ type: 'assign', assigneeId })) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'takeOver' }) },
  { weight: 1, arbitrary: fc.constant<Input>({ type: 'resolve' }) },
  { weight: 2, arbitrary: fc.constant<Input>({ type: 'timer' }) },
);

// Time moves by nothing, a little, or a lot, so both sides of the 24h and 48h lines are visited; mostly a
// little, so that conversations live long enough inside the window to be replied to.
const gapArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 10 * MINUTE }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 30 * HOUR }) },
  { weight: 1, arbitrary: fc.constantFrom(24 * HOUR, 48 * HOUR, 24 * HOUR - 1, 48 * HOUR - 1) },
);

/** One step of a history: an input from an actor after a gap, or the system timer relative to the next deadline. */
type Step =
  | { kind: 'act'; input: Input; actor: Actor; asAssignee: boolean; gap: number; sentAtOffset: number | undefined }
  | { kind: 'deadline'; offset: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('act' as const),
      input: inputArb,
      actor: actorArb,
      // A random actor is rarely the assignee; this makes the assignee act often enough to matter.
      asAssignee: fc.boolean(),
      gap: gapArb,
      sentAtOffset: fc.option(fc.integer({ min: -3 * HOUR, max: HOUR }), { nil: undefined }),
    }),
  },
  // The shell sleeps until the deadline and fires `timer`; -1 checks nothing is due a moment before, >0 a late timer.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deadline' as const), offset: fc.constantFrom(-1, 0, 0, 0, SECOND, 5 * HOUR) }) },
);

// size 'max': without it fast-check keeps arrays to about ten items, too short to close and reopen often.
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: maxSteps, size: 'max' });

interface Observed {
  before: ConversationState;
  after: ConversationState | null;
  input: Input;
  actor: Actor;
  now: number;
  decision: Decision;
}

/** Replays a history, handing every step to `check`; returns the final state. */
function replay(history: Step[], check: (o: Observed) => void, policy: Policy = defaultPolicy): ConversationState {
  let state = fresh();
  let now = T0;
  for (const step of history) {
    let input: Input;
    let actor: Actor;
    if (step.kind === 'act') {
      now += step.gap;
      // Customer messages come from the customer, except when the random actor is a service (a forbidden
      // sender the table covers); other inputs come from any actor, allowed or not.
      actor = step.input.type === 'customerMessage' && step.actor.kind !== 'service' ? customer : step.actor;
      const assignee = actors.find((a) => a.kind === 'user' && a.userId === state.assigneeId);
      if (step.asAssignee && assignee && step.input.type !== 'customerMessage') actor = assignee;
      input =
        step.input.type === 'customerMessage' && step.sentAtOffset !== undefined
          ? { ...step.input, message: { ...step.input.message, sentAt: now + step.sentAtOffset } }
          : step.input;
    } else {
      const due = nextDeadline(state, policy);
      if (due === null) continue;
      now = Math.max(now, due + step.offset);
      input = { type: 'timer' };
      actor = system;
    }
    const before = deepFreeze(state);
    const decision = decide(before, input, actor, policy, now);
    check({ before, after: decision.ok ? decision.state : null, input, actor, now, decision });
    if (decision.ok) state = decision.state;
  }
  return state;
}

function holdsFor(check: (o: Observed) => void): void {
  fc.assert(
    fc.property(historyArb, (history) => {
      replay(history, check);
    }),
    { numRuns },
  );
}

describe('lifecycle invariants over random histories', () => {
  it('keeps exactly one assignee while assigned and none while open or closed', () => {
    holdsFor(({ after }) => {
      if (!after) return;
      if (after.status === 'assigned') {
        expect(typeof after.assigneeId).toBe('string');
        expect(after.assigneeId).not.toBe('');
      } else {
        expect(after.assigneeId).toBeNull();
      }
    });
  });

  it('accepts a free-form reply in assigned only from the assignee', () => {
    holdsFor(({ before, input, actor, decision }) => {
      if (input.type !== 'reply' || before.status !== 'assigned' || !decision.ok) return;
      expect(actor.kind === 'user' && actor.userId === before.assigneeId).toBe(true);
    });
  });

  it('never accepts a free-form reply outside the service window or in closed', () => {
    holdsFor(({ before, input, now, decision }) => {
      if (input.type !== 'reply' || !decision.ok) return;
      expect(before.status).not.toBe('closed');
      const expires = windowExpiresAt(before, defaultPolicy);
      expect(expires).not.toBeNull();
      expect(now).toBeLessThan(expires!);
    });
  });

  it('never decreases the episode and increases it by one only on a customer message to a closed conversation', () => {
    holdsFor(({ before, after, input }) => {
      if (!after) return;
      expect(after.episode).toBeGreaterThanOrEqual(before.episode);
      if (after.episode !== before.episode) {
        expect(input.type).toBe('customerMessage');
        expect(before.status).toBe('closed');
        expect(after.episode).toBe(before.episode + 1);
        expect(after.status).toBe('open');
      }
    });
  });

  it('changes nothing on a rejection: the decision carries no state and the frozen input state is intact', () => {
    holdsFor(({ before, decision }) => {
      if (decision.ok) return;
      expect(Object.keys(decision).sort()).toEqual(['code', 'message', 'ok']);
      expect(['forbidden', 'not_assignee', 'conversation_closed', 'window_expired']).toContain(decision.code);
      expect(Object.isFrozen(before)).toBe(true);
    });
  });

  it('increases the version by exactly one on each changed decision and keeps the very same state otherwise', () => {
    holdsFor(({ before, decision }) => {
      if (!decision.ok) return;
      if (decision.changed) {
        expect(decision.state.version).toBe(before.version + 1);
        expect(decision.effects.length).toBeGreaterThan(0);
      } else {
        expect(decision.state).toBe(before);
        expect(decision.effects).toEqual([]);
      }
    });
  });

  it('numbers events and messages with strictly increasing, unique sequence numbers that the state remembers', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const eventSeqs: number[] = [];
        const messageSeqs: number[] = [];
        const final = replay(history, ({ decision }) => {
          if (!decision.ok) return;
          for (const effect of decision.effects) {
            if (effect.type === 'recordEvent') eventSeqs.push(effect.event.seq);
            if (effect.type === 'recordMessage') messageSeqs.push(effect.message.seq);
          }
          // A send always refers to a message recorded in the same decision.
          for (const effect of decision.effects) {
            if (effect.type === 'send') expect(decision.effects).toContainEqual({ type: 'recordMessage', message: effect.message });
          }
        });
        for (const seqs of [eventSeqs, messageSeqs]) {
          seqs.forEach((seq, i) => expect(seq).toBe(i + 1));
        }
        expect(final.eventSeq).toBe(eventSeqs.length);
        expect(final.messageSeq).toBe(messageSeqs.length);
      }),
      { numRuns },
    );
  });

  it('leaves no deadline in the past right after a timer at or after the deadline, so the shell cannot spin', () => {
    holdsFor(({ before, after, input, now }) => {
      if (input.type !== 'timer' || !after) return;
      const due = nextDeadline(before, defaultPolicy);
      if (due === null || now < due) return;
      expect(after).not.toBe(before); // a due timer always does something
      const next = nextDeadline(after, defaultPolicy);
      if (next !== null) expect(next).toBeGreaterThan(now);
    });
  });

  it('changes nothing when the timer fires before the next deadline', () => {
    holdsFor(({ before, input, actor, now, decision }) => {
      if (input.type !== 'timer' || actor.kind !== 'system') return;
      const due = nextDeadline(before, defaultPolicy);
      if (due !== null && now >= due) return;
      expect(decision).toEqual({ ok: true, state: before, effects: [], changed: false });
    });
  });

  it('keeps the state plain JSON', () => {
    holdsFor(({ after }) => {
      if (!after) return;
      expect(JSON.parse(JSON.stringify(after))).toStrictEqual(after);
    });
  });

  it('keeps unread equal to the customer messages recorded since the last outbound message of the episode', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        let unread = 0;
        replay(history, ({ before, decision }) => {
          if (!decision.ok) return;
          if (decision.state.episode !== before.episode) unread = 0;
          for (const effect of decision.effects) {
            if (effect.type === 'recordMessage') unread = effect.message.direction === 'inbound' ? unread + 1 : 0;
          }
          expect(decision.state.unreadCount).toBe(unread);
        });
      }),
      { numRuns },
    );
  });

  it('records every customer message id at most once', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const seen = new Set<string>();
        replay(history, ({ decision }) => {
          if (!decision.ok) return;
          for (const effect of decision.effects) {
            if (effect.type !== 'recordMessage' || effect.message.direction !== 'inbound') continue;
            expect(seen.has(effect.message.messageId)).toBe(false);
            seen.add(effect.message.messageId);
          }
        });
      }),
      { numRuns },
    );
  });
});
