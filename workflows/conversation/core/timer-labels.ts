/**
 * What the Temporal Web UI says about a conversation's clocks, in words (issue 22, item 11). Pure, so
 * the workflow test and the unit tests read the same sentences the operator does.
 */
import type { DeadlineKind } from './deadlines';
import { iso } from './view';

const deadlineWords: { [K in DeadlineKind]: string } = {
  autoClose: 'auto-close',
  idleClose: 'idle close',
  waitingClose: 'waiting times out',
  csatTimeout: 'survey times out',
  wrapUpCapacity: 'wrap-up frees capacity',
  agentReconnect: 'agent reconnect times out',
  snoozeEnd: 'snooze ends',
  windowExpiry: 'window closes',
  sla: 'SLA warning or breach due',
};

/** One pending deadline: "window closes at 2026-12-07T10:00:00.000Z". */
export function deadlineLabel(kind: DeadlineKind, at: number): string {
  return `${deadlineWords[kind]} at ${iso(at)}`;
}

/**
 * A timer's summary: the instant it wakes the conversation to check its deadlines. True for as long as
 * the timer is pending, whatever moves the deadlines meanwhile (DESIGN.md, "Timer labels").
 */
export function wakeUpLabel(at: number): string {
  return `wake-up at ${iso(at)} to check the deadlines`;
}
