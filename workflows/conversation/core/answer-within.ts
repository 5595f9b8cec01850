/**
 * Answer or reroute (SPEC 9, `answerWithin`): an assigned conversation whose customer waits for a
 * user's message longer than the policy allows goes back to `open` (reason `unanswered`) and, with
 * routing on, to someone else. Pure; the deadline joins the others in deadlines.ts, its rule is in
 * rules-system.ts, and `Draft.done` keeps this state (`answerBookkeeping`).
 *
 * The gate: a state without `answer` (a run from before the `answer-within` patch, or one whose history
 * says the patch was not taken) never has the deadline; the shell seeds it (`withAnswerState`).
 */
import type { AnswerState, ConversationState } from './model';

/**
 * When the assignee's time to answer runs out, or null: only while `assigned` and a customer message
 * waits for a user's message (`waitingSince`, the oldest unanswered one, which a user's reply or
 * template clears and a system message does not). It runs from the later of the moment the current
 * assignee got the conversation and that message, so a new assignee gets the whole time.
 */
export function answerWithinAt(state: ConversationState, answerWithinMs: number | null): number | null {
  const answer = state.answer;
  if (answerWithinMs === null || answer === undefined || state.status !== 'assigned') return null;
  if (state.waitingSince === null || answer.assigneeSince === null) return null;
  return Math.max(answer.assigneeSince, state.waitingSince) + answerWithinMs;
}

/** A state as the `answer-within` patch starts it; one carried or recovered while assigned counts from its assignment. */
export function withAnswerState(state: ConversationState): ConversationState {
  if (state.answer !== undefined) return state;
  return { ...state, answer: { assigneeSince: state.status === 'assigned' ? (state.assignedAt ?? null) : null, unansweredBy: [] } };
}

/**
 * The answer state after a decision, from the state before (`base`) and after it: the episode's list of
 * users who left it unanswered starts empty with each episode, and `assigneeSince` moves whenever the
 * conversation becomes assigned or changes hands (a reassignment gives the new assignee the whole time).
 */
export function answerBookkeeping(base: ConversationState, next: ConversationState, now: number): AnswerState | undefined {
  const answer = next.answer;
  if (answer === undefined) return undefined;
  const newEpisode = next.episode !== base.episode;
  const unansweredBy = newEpisode ? [] : answer.unansweredBy;
  let assigneeSince: number | null = null;
  if (next.status === 'assigned' && next.assigneeId !== null) {
    const sameHands = !newEpisode && base.status === 'assigned' && base.assigneeId === next.assigneeId;
    assigneeSince = sameHands ? (answer.assigneeSince ?? now) : now;
  }
  if (unansweredBy === answer.unansweredBy && assigneeSince === answer.assigneeSince) return answer;
  return { assigneeSince, unansweredBy };
}

/** The users routing should avoid for this episode (the router honours it unless nobody else is eligible). */
export function avoidOf(state: ConversationState): string[] {
  return state.answer?.unansweredBy ?? [];
}
