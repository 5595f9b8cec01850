/**
 * Settling the deadlines that passed (`settled`, what the workflow runs before and after its inputs):
 * every due deadline is decided once, in order, and a timer rule that changes the state without moving
 * its deadline stops the loop with a clear error instead of deciding it again without end.
 * (That every `DeadlineKind` has a rule is the type of `onDeadline` in rules-system.ts, not a test.)
 */
import { decide, nextDeadline } from '../../workflows/conversation/core/lifecycle';
import type { ConversationState, Decision } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import type { DeadlineDidNotMoveError } from '../../workflows/conversation/core/errors';
import { isDeadlineDidNotMove } from '../../workflows/conversation/core/errors';
import { settled } from '../../workflows/conversation/core/settle';
import { HOUR, MINUTE, T0, assignedConversation, system } from './lifecycle-fixtures';

test('an assigned conversation past its window and its auto-close settles into closed, each deadline decided once', () => {
  const state = assignedConversation();
  const result = settled(state, defaultPolicy, T0 + 49 * HOUR);
  expect(result.state.status).toBe('closed');
  expect(result.decisions.length).toBeGreaterThanOrEqual(1);
  expect(nextDeadline(result.state, defaultPolicy)).toBeNull();
});

test('nothing due settles to the same state with no decisions', () => {
  const state = assignedConversation();
  expect(settled(state, defaultPolicy, T0 + 2 * MINUTE)).toEqual({ state, decisions: [] });
});

test('a timer rule that bumps the version but leaves its deadline due fails with the deadline named, instead of looping', () => {
  const state = assignedConversation();
  let calls = 0;
  // What an unhandled deadline kind did before the typed table: a new version, the same deadline.
  const brokenRule = (at: ConversationState): Decision => {
    calls += 1;
    return { ok: true, state: { ...at, version: at.version + 1 }, effects: [], changed: true };
  };
  let thrown: unknown;
  try {
    settled(state, defaultPolicy, T0 + 25 * HOUR, brokenRule);
  } catch (error) {
    thrown = error;
  }
  expect(isDeadlineDidNotMove(thrown)).toBe(true);
  expect((thrown as DeadlineDidNotMoveError).deadline.kind).toBe('windowExpiry');
  expect((thrown as Error).message).toMatch(/windowExpiry deadline at .* is still due after deciding it/);
  expect(calls).toBe(1);
});

test('the real rules move every deadline they decide (a settle of many due deadlines terminates)', () => {
  const state = assignedConversation();
  const now = T0 + 400 * 24 * HOUR;
  expect(() => settled(state, defaultPolicy, now)).not.toThrow();
  expect(settled(state, defaultPolicy, now).state).toEqual(
    // The same as deciding timers by hand until nothing changes.
    ((): ConversationState => {
      let at = state;
      for (;;) {
        const d = decide(at, { type: 'timer' }, system, defaultPolicy, now);
        if (!d.ok || !d.changed) return at;
        at = d.state;
      }
    })(),
  );
});
