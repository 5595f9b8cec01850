/**
 * What the Temporal Web UI says about a conversation's clocks, in words (issue 22, item 11; issue 25).
 * Pure, so the workflow test and the unit tests read the same sentences the operator does.
 */
import { slaContextOf } from './conversation-sla';
import type { DeadlineKind } from './deadlines';
import { deadlines } from './deadlines';
import type { ConversationState } from './model';
import type { Policy } from './policy';
import type { SlaMetric } from './sla';
import { nextSlaEvent } from './sla';
import { iso } from './view';

/** What each deadline does, in words. One entry per kind: a new kind does not compile without its words. */
const deadlineWords: { [K in DeadlineKind]: string | ((state: ConversationState, policy: Policy) => string) } = {
  autoClose: 'auto-close (inactivity)',
  idleClose: 'idle close',
  waitingClose: 'waiting times out',
  csatTimeout: 'survey times out',
  wrapUpCapacity: 'wrap-up frees capacity',
  agentReconnect: 'agent reconnect times out',
  answerWithin: 'answer-within: reroute if unanswered',
  snoozeEnd: 'snooze ends',
  windowExpiry: 'window closes',
  sla: slaWords,
};

const metricWords: { [M in SlaMetric]: string } = { firstResponse: 'first response', nextResponse: 'next response', resolution: 'resolution' };

/** The SLA deadline names its metric and whether a warning or the breach is next ("SLA first response due"). */
function slaWords(state: ConversationState, policy: Policy): string {
  const next = state.sla === undefined ? null : nextSlaEvent(state.sla, slaContextOf(policy));
  if (next === null) return 'SLA warning or breach due';
  const metric = metricWords[next.metric];
  return next.type === 'sla_breached' ? `SLA ${metric} due` : `SLA ${metric} warning (due ${iso(next.dueAt)})`;
}

function wordsOf(kind: DeadlineKind, state: ConversationState, policy: Policy): string {
  const words = deadlineWords[kind];
  return typeof words === 'string' ? words : words(state, policy);
}

/** One pending deadline: "window closes at 2026-12-07T10:00:00.000Z", "SLA first response due at …". */
export function deadlineLabel(kind: DeadlineKind, at: number, state: ConversationState, policy: Policy): string {
  return `${wordsOf(kind, state, policy)} at ${iso(at)}`;
}

/**
 * A timer's summary: the instant it wakes the conversation, and the deadlines due at that instant when it
 * was armed, in words ("wake-up at …Z, armed for: SLA first response due; auto-close (inactivity)"). A
 * summary cannot change while the timer is pending, and a customer message may move those deadlines
 * later without a new timer (no churn, DESIGN.md "Timer labels"), so it says what the timer was armed
 * for, which stays true; the deadlines as they are now are in the run's details. With nothing due
 * exactly then (not expected: the timer is armed for the earliest deadline) it says only that it checks.
 */
export function timerLabel(state: ConversationState, policy: Policy, at: number): string {
  const due = deadlines(state, policy).filter((d) => d.at === at);
  if (due.length === 0) return wakeUpLabel(at);
  return `wake-up at ${iso(at)}, armed for: ${due.map((d) => wordsOf(d.kind, state, policy)).join('; ')}`;
}

/** The wake-up alone: "wake-up at … to check the deadlines" (the label from 2026-12-06 until issue 25). */
export function wakeUpLabel(at: number): string {
  return `wake-up at ${iso(at)} to check the deadlines`;
}
