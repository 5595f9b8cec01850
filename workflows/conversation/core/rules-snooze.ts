/**
 * Snooze (SPEC 9): a user puts a conversation aside until a time. `snoozed` keeps its assignee, consumes
 * no capacity (`capacityHolder` counts only `assigned` and wrap-up), and neither the inactivity close nor
 * the SLA clocks run in it (deadlines.ts; sla.ts pauses on `snoozed`). It wakes at `snoozedUntil` (the
 * deadline `snoozeEnd`, reason `snooze_ended`), at the next customer message (`customer_message`,
 * rules-customer.ts) or on `unsnooze` (`unsnoozed`): back to `assigned` with the inactivity clock started
 * again from the wake, or to `open` (routed again) when nobody holds it any more — snoozed from open by a
 * supervisor, or its assignee was deactivated meanwhile (`onRelease` clears the assignee and leaves it
 * snoozed).
 */
import { windowExpiresAt } from './deadlines';
import type { Context } from './draft';
import { Draft, reject, unchanged } from './draft';
import type { Actor, ConversationState, Decision } from './model';
import { isEnded, isNew, isSupervisor } from './model';
import { parseDuration } from './durations';

/** The furthest a snooze may reach: a year (a typo like "2000h" is refused, not slept on). */
export const maxSnoozeMs = 365 * 86_400_000;

/**
 * An ISO-8601 time with a date, a time and an explicit zone (`Z` or `+01:00`): without a zone the
 * moment would depend on the machine's timezone, which the workflow must never read.
 */
const isoWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** What `until` says: a moment, or the end of the window (which needs the state and policy). */
export type SnoozeUntil = { kind: 'at'; at: number } | { kind: 'window' };

/**
 * Reads `until` as the API and the rule both do: "window", a duration from `now` ("2h", "1d"), or an
 * ISO time with a zone. An error (what is wrong with `until`) when it is none of those, not in the
 * future, or more than `maxSnoozeMs` ahead.
 */
export function parseSnoozeUntil(until: string, now: number): SnoozeUntil | { error: string } {
  if (until === 'window') return { kind: 'window' };
  const duration = parseDuration(until);
  let at: number;
  if (duration !== undefined) at = now + duration;
  else if (isoWithZone.test(until) && Number.isFinite(Date.parse(until))) at = Date.parse(until);
  else return { error: 'expected an ISO-8601 time with a zone (2026-12-07T09:00:00Z), a duration ("2h") or "window"' };
  if (at <= now) return { error: 'must be in the future' };
  if (at - now > maxSnoozeMs) return { error: 'at most 365 days ahead' };
  return { kind: 'at', at };
}

/**
 * Seeds the snooze field of a state (the shell does, when the run takes the `snooze` patch): a state
 * without it is from a run that cannot snooze.
 */
export function withSnoozeState(state: ConversationState): ConversationState {
  return state.snoozedUntil === undefined ? { ...state, snoozedUntil: null } : state;
}

type User = Extract<Actor, { kind: 'user' }>;

/** The holder of the conversation or a supervisor; nobody holds an open one, so only supervisors act on it. */
const mayActAsHolder = (state: ConversationState, user: User) => isSupervisor(user.role) || (state.assigneeId !== null && state.assigneeId === user.userId);

/**
 * `snooze { until }`: the assignee or a supervisor, from `assigned` (or from `open`, a supervisor); a
 * snoozed conversation may be snoozed again to move its wake-up. Rejections in the lifecycle's order:
 * forbidden, validation_failed (`until`), conversation_closed, not_assignee, window_expired, conflict.
 */
export function onSnooze(ctx: Context, input: { until: string }): Decision {
  const { state, now, actor } = ctx;
  if (actor.kind !== 'user') return reject('forbidden', 'only users of the account snooze conversations');
  const until = parseSnoozeUntil(input.until, now);
  if ('error' in until) return reject('validation_failed', `until: ${until.error}`);
  if (isNew(state) || isEnded(state.status)) return reject('conversation_closed', 'the conversation is closed');
  if (state.snoozedUntil === undefined) return reject('conflict', 'this conversation runs on code from before snooze; it can be snoozed from its next run');
  if (state.status === 'open' && !isSupervisor(actor.role)) return reject('forbidden', 'only owners, admins and managers snooze open conversations; claim it first');
  if (state.status !== 'open' && state.status !== 'assigned' && state.status !== 'snoozed') {
    return reject('conflict', `a conversation in ${state.status} cannot be snoozed`);
  }
  if (state.status !== 'open' && !mayActAsHolder(state, actor)) return reject('not_assignee', `only the assignee (${state.assigneeId}) or a supervisor can snooze it`);
  let at: number;
  if (until.kind === 'window') {
    const windowEnd = windowExpiresAt(state, ctx.policy);
    const wake = windowEnd === null ? null : windowEnd - ctx.policy.snoozeWakeBeforeWindowMs;
    if (wake === null || wake <= now) return reject('window_expired', 'the 24-hour window closes too soon to snooze until before it closes');
    at = wake;
  } else {
    at = until.at;
  }
  if (state.status === 'snoozed' && state.snoozedUntil === at) return unchanged(state);
  const draft = new Draft(ctx);
  draft.transition('snoozed', 'snoozed', { snoozedUntil: at, disconnectedAt: null });
  draft.set({ lastActivityAt: now });
  return draft.done();
}

/** `unsnooze`: the holder or a supervisor wakes a snoozed conversation now. */
export function onUnsnooze(ctx: Context): Decision {
  const { state, actor } = ctx;
  if (actor.kind !== 'user') return reject('forbidden', 'only users of the account unsnooze conversations');
  if (isNew(state) || isEnded(state.status)) return reject('conversation_closed', 'the conversation is closed');
  if (state.status !== 'snoozed') return reject('conflict', `the conversation is ${state.status}, not snoozed`);
  if (!mayActAsHolder(state, actor)) return reject('not_assignee', `only the assignee (${state.assigneeId}) or a supervisor can unsnooze it`);
  const draft = new Draft(ctx);
  wake(draft, 'unsnoozed', ctx.now);
  return draft.done();
}

/**
 * Wakes a snoozed conversation (the caller knows it is): to its assignee, whose inactivity clock starts
 * again now (`assignedAt`, `lastActivityAt`), even at capacity — it was theirs; the router then offers
 * them nothing new until they are below it. Nobody holds it: to open, where routing takes it.
 */
export function wake(draft: Draft, reason: 'snooze_ended' | 'customer_message' | 'unsnoozed', now: number): void {
  if (draft.state.assigneeId !== null) draft.transition('assigned', reason, { snoozedUntil: null, assignedAt: now, lastActivityAt: now, disconnectedAt: null });
  else draft.transition('open', reason, { snoozedUntil: null, assignedAt: null, lastActivityAt: now });
}
