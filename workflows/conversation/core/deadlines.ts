/**
 * Every clock of the lifecycle as a pure function of state and policy: when the window closes, when
 * each timeout falls due, and whose capacity the conversation consumes right now. The shell sleeps
 * until `nextDeadline` and then feeds `{ type: 'timer' }`; a deadline that moved meanwhile is simply
 * not due yet, so moving one never needs a cancelled timer.
 */
import type { ConversationState } from './model';
import type { Policy, PolicyFields } from './policy';
import { effective } from './policy';
import { slaDeadline } from './conversation-sla';
import { answerWithinAt } from './answer-within';

export type Effective = ReturnType<typeof effective>;

// `effective` is idempotent, so these accept a stored policy or an already resolved one.
const resolve = effective;

/** The window closes `serviceWindow` after the customer last wrote, or earlier if the provider said it had (131047). */
export function windowExpiresAt(state: ConversationState, policy: Policy): number | null {
  if (state.lastCustomerMessageAt === null) return null;
  const byClock = state.lastCustomerMessageAt + resolve(policy).serviceWindowMs;
  return state.windowClosedAt === null || state.windowClosedAt === undefined ? byClock : Math.min(byClock, state.windowClosedAt);
}

/** Default preset: an assigned conversation closes after `autoCloseAfter` of customer silence. */
export function autoCloseAt(state: ConversationState, policy: Policy): number | null {
  const ms = resolve(policy).autoCloseAfterMs;
  if (ms === null || state.status !== 'assigned' || state.lastCustomerMessageAt === null || state.assignedAt === null) return null;
  return Math.max(state.lastCustomerMessageAt, state.assignedAt) + ms;
}

export type DeadlineKind = 'autoClose' | 'idleClose' | 'waitingClose' | 'csatTimeout' | 'wrapUpCapacity' | 'agentReconnect' | 'answerWithin' | 'snoozeEnd' | 'windowExpiry' | 'sla';

/** Every pending deadline, in the order a timer applies them when several are due at once. */
export function deadlines(state: ConversationState, policy: Policy): { kind: DeadlineKind; at: number }[] {
  const p = resolve(policy);
  const out: { kind: DeadlineKind; at: number }[] = [];
  const push = (kind: DeadlineKind, at: number | null) => {
    if (at !== null) out.push({ kind, at });
  };
  push('autoClose', autoCloseAt(state, p));
  if (p.idleCloseAfterMs !== null && (state.status === 'open' || state.status === 'assigned') && state.lastActivityAt !== null) {
    push('idleClose', state.lastActivityAt + p.idleCloseAfterMs);
  }
  if (state.status === 'waiting' && p.waitingTimeoutMs !== null) {
    push('waitingClose', Math.max(state.statusSince ?? 0, state.lastActivityAt ?? 0) + p.waitingTimeoutMs);
  }
  if (state.status === 'resolved' && state.statusSince !== null) push('csatTimeout', state.statusSince + p.csat.timeoutMs);
  if (state.status === 'wrap_up' && state.heldBy !== null && typeof p.wrapUpCapacity === 'number' && state.statusSince !== null) {
    push('wrapUpCapacity', state.statusSince + p.wrapUpCapacity);
  }
  if (state.status === 'assigned' && state.disconnectedAt !== null && p.agentReconnectTimeoutMs !== null) {
    push('agentReconnect', state.disconnectedAt + p.agentReconnectTimeoutMs);
  }
  // SPEC 9: the assignee's time to answer a waiting customer (only in runs that took `answer-within`).
  push('answerWithin', answerWithinAt(state, p.answerWithinMs));
  // SPEC 9: a snoozed conversation wakes at `snoozedUntil` (rules-snooze.ts); no inactivity or idle close runs meanwhile.
  if (state.status === 'snoozed' && typeof state.snoozedUntil === 'number') push('snoozeEnd', state.snoozedUntil);
  const window = windowExpiresAt(state, p);
  if (window !== null && !['closed', 'resolved', 'in_flow'].includes(state.status) && state.windowExpiryRecordedFor !== state.lastCustomerMessageAt) {
    push('windowExpiry', window);
  }
  // SPEC 9: the next SLA warning or breach joins the one timer; the rule is a no-op whose `timer` input the
  // SLA clock then applies (conversation-sla.ts). Last, so lifecycle deadlines due at the same instant go first.
  push('sla', slaDeadline(state, p));
  return out;
}

/**
 * The deadline a `timer` input applies at `now`: the first due one in `deadlines` order, or undefined.
 * The rule (`onTimer`) and the shell's guard against a deadline that does not move (`settle.ts`) both
 * ask here, so they agree on which deadline was decided.
 */
export function dueDeadline(state: ConversationState, policy: Policy, now: number): { kind: DeadlineKind; at: number } | undefined {
  return deadlines(state, policy).find((d) => d.at <= now);
}

/** The earliest moment at which a `timer` input would change something, or null. */
export function nextDeadline(state: ConversationState, policy: Policy): number | null {
  const all = deadlines(state, policy);
  return all.length === 0 ? null : Math.min(...all.map((d) => d.at));
}

/**
 * Whose capacity the conversation consumes at `now` (SPEC section 3): the assignee while assigned;
 * during wrap-up as the policy says (always, never, or for a number of minutes); nobody otherwise —
 * `waiting` and `snoozed` consume none.
 */
export function capacityHolder(state: ConversationState, policy: Pick<PolicyFields, 'wrapUpCapacity'>, now: number): string | null {
  if (state.status === 'assigned') return state.assigneeId;
  if (state.status !== 'wrap_up') return null;
  const block = policy.wrapUpCapacity;
  if (block === 'always') return state.assigneeId;
  if (typeof block === 'number' && state.statusSince !== null && now < state.statusSince + block) return state.assigneeId;
  return null;
}
