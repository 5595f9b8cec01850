/**
 * Applies every deadline that has passed, one `timer` decision at a time, without committing anything:
 * the shell applies the decisions, and an update validator can look at the settled state. Pure, so a
 * test can drive it with a rule that misbehaves.
 */
import { dueDeadline } from './deadlines';
import { decide } from './lifecycle';
import type { ConversationState, Decision } from './model';
import type { Policy } from './policy';
import { effective } from './policy';
import { DeadlineDidNotMoveError } from './errors';

export type Accepted = Extract<Decision, { ok: true }>;

/**
 * Deadlines that passed come first: an input decided after its deadline (in the same workflow task, or
 * after the worker was down) must not undo it — a customer writing 25h into a 24h waiting timeout
 * starts a new episode, and a reconnect after the timeout does not keep the conversation.
 * `decideTimer` is the lifecycle's `decide` except in the test of the guard.
 */
export function settled(
  state: ConversationState,
  policy: Policy,
  now: number,
  decideTimer: (state: ConversationState, policy: Policy, now: number) => Decision = (s, p, n) => decide(s, { type: 'timer' }, system, p, n),
): { state: ConversationState; decisions: Accepted[] } {
  const p = effective(policy); // once for every deadline and decision below (policy.ts)
  let at = state;
  const decisions: Accepted[] = [];
  for (let due = dueDeadline(at, p, now); due !== undefined; due = dueDeadline(at, p, now)) {
    const decision = decideTimer(at, p, now);
    if (!decision.ok || !decision.changed) break;
    const again = dueDeadline(decision.state, p, now);
    if (again !== undefined && again.kind === due.kind && again.at === due.at) throw new DeadlineDidNotMoveError({ conversationId: state.conversationId, deadline: due });
    decisions.push(decision);
    at = decision.state;
  }
  return { state: at, decisions };
}

const system = { kind: 'system' } as const;
