import fc from 'fast-check';
import type { ConversationState, Input } from '../../workflows/conversation/core/lifecycle';
import { decide, dedupeWindow } from '../../workflows/conversation/core/lifecycle';
import { needsStoreCheck } from '../../workflows/conversation/core/dedupe';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import { MINUTE, T0, customer, fresh } from './lifecycle-fixtures';

/**
 * Issue 24, item 10 (SPEC section 12): a customer message whose provider id was ever recorded changes
 * nothing, however late it is replayed. The shell (workflow.ts) decides a message whose id the window
 * does not hold only after asking the store when `needsStoreCheck` says so; modelled here with the
 * store as the set of ids the decisions recorded.
 */
type Step = { id: number; gap: number } | { resolve: true };

/** Decides the steps as the workflow does, answering the store's question from what was recorded. */
function run(steps: Step[], check: (state: ConversationState, id: string, recorded: Set<string>) => void): Map<string, number> {
  let state = fresh();
  let now = T0;
  const recordedTimes = new Map<string, number>();
  const stored = new Set<string>();
  for (const step of steps) {
    let input: Input;
    if ('resolve' in step) {
      input = { type: 'resolve' };
    } else {
      const messageId = `m${step.id}`;
      now += step.gap;
      check(state, messageId, stored);
      if (needsStoreCheck(state, messageId) && stored.has(messageId)) continue;
      input = { type: 'customerMessage', message: { messageId, text: 'hi' } };
    }
    const decision = decide(state, input, 'resolve' in step ? { kind: 'user', userId: 'owner-1', role: 'owner' } : customer, defaultPolicy, now);
    if (!decision.ok) continue;
    state = decision.state;
    for (const effect of decision.effects) {
      if (effect.type === 'recordMessage' && effect.message.direction === 'inbound') {
        stored.add(effect.message.messageId);
        recordedTimes.set(effect.message.messageId, (recordedTimes.get(effect.message.messageId) ?? 0) + 1);
      }
    }
  }
  return recordedTimes;
}

// Long histories over a pool larger than the window, so ids fall out of it and come back.
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ id: fc.integer({ min: 0, max: dedupeWindow + 150 }), gap: fc.integer({ min: 0, max: MINUTE }) }) },
  { weight: 1, arbitrary: fc.constant({ resolve: true as const }) },
);
const historyArb = fc.array(stepArb, { minLength: dedupeWindow, maxLength: 3 * dedupeWindow, size: 'max' });

test('property: with the store asked when the window cannot tell, every provider id is recorded at most once', () => {
  fc.assert(
    fc.property(historyArb, (steps) => {
      const times = run(steps, () => undefined);
      for (const [, n] of times) expect(n).toBe(1);
    }),
    // No shrinking: a counterexample is hundreds of steps long, and shrinking one takes minutes.
    { numRuns: 25, endOnFailure: true },
  );
});

test('property: the store is skipped only for ids that were never recorded', () => {
  fc.assert(
    fc.property(historyArb, (steps) => {
      run(steps, (state, id, recorded) => {
        if (!needsStoreCheck(state, id) && !state.recentMessageIds.includes(id)) expect(recorded.has(id)).toBe(false);
      });
    }),
    // No shrinking: a counterexample is hundreds of steps long, and shrinking one takes minutes.
    { numRuns: 25, endOnFailure: true },
  );
});

test('a young conversation never asks the store; one past the window asks only for ids outside it', () => {
  let state = fresh();
  for (let i = 0; i < dedupeWindow + 20; i++) {
    if (i < dedupeWindow) expect(needsStoreCheck(state, `m${i}`)).toBe(false);
    const decision = decide(state, { type: 'customerMessage', message: { messageId: `m${i}`, text: 'hi' } }, customer, defaultPolicy, T0 + i);
    if (!decision.ok) throw new Error(decision.message);
    state = decision.state;
  }
  expect(needsStoreCheck(state, 'm0')).toBe(true);
  expect(needsStoreCheck(state, `m${dedupeWindow + 19}`)).toBe(false);
  expect(needsStoreCheck(state, 'never-seen')).toBe(true);
  // Without the store, the window alone lets the oldest id in again: the gap the durable check closes.
  const replayed = decide(state, { type: 'customerMessage', message: { messageId: 'm0', text: 'hi' } }, customer, defaultPolicy, T0 + 10 * MINUTE);
  expect(replayed.ok && replayed.changed).toBe(true);
});
