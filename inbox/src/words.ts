import type { ApiFailure, Transition } from './api';
import { timeLeft } from './time';

/**
 * The page's words for what the API says in codes: transitions as sentences, refusals as advice, the
 * policy's durations as a person says them. Pure, so test/unit/inbox-words.test.ts covers every case.
 */

const units: Record<string, [string, string]> = { ms: ['millisecond', 'milliseconds'], s: ['second', 'seconds'], m: ['minute', 'minutes'], h: ['hour', 'hours'], d: ['day', 'days'] };

/** "24h" → "24-hour", "20s" → "20-second", "90m" → "90-minute"; anything else as written. */
export function serviceWindowWords(duration: string): string {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(duration.trim());
  if (!match) return `${duration}`;
  return `${match[1]}-${units[match[2]!]![0]}`;
}

/** "a" or "an" before a word, by its sound as far as a first letter tells. */
export const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

type NameOf = (id: string | null) => string;

/** The reasons the lifecycle records (workflows/conversation/rules-*.ts), in words; unknown ones fall back. */
const reasonWords: Record<string, (t: Transition, who: string, to: string) => string> = {
  claimed: (_t, who) => `${cap(who)} claimed it`,
  assigned: (_t, who, to) => `${cap(who)} assigned it to ${to}`,
  routing: (_t, _who, to) => `Routed to ${to}`,
  reply: (_t, _who, to) => `${cap(to)} took it by replying`,
  template: (_t, _who, to) => `${cap(to)} took it by sending a template`,
  take_over: (_t, who) => `${cap(who)} took it over`,
  resolved: (_t, who) => `${cap(who)} resolved it`,
  inactivity: () => 'Closed: the customer stayed silent',
  idle: () => 'Closed: nobody wrote for too long',
  window_expired: () => "The customer-service window closed: templates only until the customer writes",
  first_customer_message: () => 'The customer started the conversation',
  customer_message: (t, _who, to) =>
    t.from === null ? 'The customer started the conversation' : t.from === 'snoozed' ? `The customer wrote: the snooze ended, back to ${to}` : `The customer wrote again: reopened`,
  customer_returned: () => 'The customer came back: back to the queue',
  customer_left: () => 'The customer left',
  release: (_t, who) => `${cap(who)} released it to the queue`,
  released: (_t, who) => `${cap(who)} released it to the queue`,
  transfer: (t) => `Transferred to team ${String(t.details?.team ?? '')}`.trim(),
  transferred: (t) => `Transferred to team ${String(t.details?.team ?? '')}`.trim(),
  agent_disconnected: () => 'The assignee went offline: back to the queue',
  // SPEC 9, answerWithin: the assignee left the customer waiting too long.
  unanswered: () => 'Not answered in time: back to the queue',
  ended: (_t, who) => `${cap(who)} ended it`,
  left_by_agent: (_t, who) => `${cap(who)} set it waiting`,
  revived: (_t, who) => `${cap(who)} revived it`,
  flow_started: () => 'An automation took it',
  flow_ended: () => 'The automation finished',
  flow_assigned: (_t, _who, to) => `The automation handed it to ${to}`,
  flow_assigned_team: () => 'The automation handed it to a team',
  csat_timeout: () => 'Closed: the customer did not rate the conversation',
  delivery_failed: (t) => `A message could not be delivered${deliveryError(t)}`,
  // SPEC 9: snooze and its wakes; a deactivated assignee leaves a snoozed conversation to the queue.
  snoozed: (_t, who) => `${cap(who)} snoozed it`,
  snooze_ended: (_t, _who, to) => `The snooze ended: back to ${to}`,
  unsnoozed: (_t, who, to) => `${cap(who)} unsnoozed it: back to ${to}`,
  agent_deactivated: (t) => (t.to === 'snoozed' ? 'The assignee was deactivated: it wakes to the queue' : 'The assignee was deactivated: back to the queue'),
  // SPEC 9: SLA entries carry their reason as their type; no change of status.
  sla_warning: (t) => `SLA: the ${metricWords(t.metric)} is due soon`,
  sla_breached: (t) => `SLA breached: the ${metricWords(t.metric)} is overdue`,
};

/**
 * SPEC 9 in the list and the header: a breach first (it stays for the episode), else the earliest
 * response due time as a countdown ("reply due in 4m 12s", `now` from the page's one shared clock),
 * else the resolution's; past its due time and before the breach arrives on the stream, "overdue".
 * `title` says the due time by the clock, for hover text. Null when no SLA applies.
 */
export function slaBadge(
  c: { sla?: { firstResponseDueAt: string | null; nextResponseDueAt: string | null; resolutionDueAt: string | null; breached: string[]; paused: boolean } },
  now: number,
  timeOf: (iso: string) => string,
): { kind: 'breached' | 'due' | 'overdue' | 'paused'; text: string; title?: string } | null {
  const sla = c.sla;
  if (!sla) return null;
  if (sla.breached.length > 0) return { kind: 'breached', text: `SLA breached: ${sla.breached.map(metricWords).join(', ')}` };
  const reply = [sla.firstResponseDueAt, sla.nextResponseDueAt].filter((d): d is string => d !== null).sort()[0];
  const countdown = (dueAt: string, due: string, overdue: string) => {
    const left = timeLeft(dueAt, now);
    return left === null ? { kind: 'overdue' as const, text: overdue, title: `due ${timeOf(dueAt)}` } : { kind: 'due' as const, text: `${due} ${left}`, title: `due ${timeOf(dueAt)}` };
  };
  if (reply) return countdown(reply, 'reply due in', 'reply overdue');
  if (sla.resolutionDueAt) return countdown(sla.resolutionDueAt, 'resolve in', 'resolution overdue');
  if (sla.paused) return { kind: 'paused', text: 'SLA paused' };
  return null;
}

/** SPEC 9: "until Mon 09:00" for a snoozed conversation (in the browser's time zone, or `timeZone`); null when not snoozed. */
export function snoozedWords(c: { status: string; snoozedUntil?: string | null }, timeZone?: string): string | null {
  if (c.status !== 'snoozed' || !c.snoozedUntil) return null;
  return `until ${new Date(c.snoozedUntil).toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', ...(timeZone ? { timeZone } : {}) })}`;
}

/** A due time as the page shows it: the local hour and minute ("14:05"). */
export const clockTime = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

const metricNames: Record<string, string> = { firstResponse: 'first response', nextResponse: 'next response', resolution: 'resolution' };
const metricWords = (metric: string | undefined) => metricNames[metric ?? ''] ?? 'target';

const cap = (s: string) => (s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s);

function deliveryError(t: Transition): string {
  const error = t.details?.error as { message?: unknown } | undefined;
  return typeof error?.message === 'string' && error.message !== '' ? `: ${error.message}` : '';
}

/** Who acted, in words: a user by name ("you" for the reader), else the system, a service or the customer. */
export function actorWords(t: Transition, nameOf: NameOf): string {
  switch (t.actor.kind) {
    case 'user':
      return nameOf(t.actor.id);
    case 'customer':
      return 'the customer';
    case 'service':
      return t.actor.id ? `service ${t.actor.id}` : 'a service';
    default:
      return 'convoflow';
  }
}

/** One transition as a sentence: "Ana claimed it", "The customer-service window closed". */
export function describeTransition(t: Transition, nameOf: NameOf): string {
  const who = actorWords(t, nameOf);
  const to = t.assigneeAfter ? nameOf(t.assigneeAfter) : 'the queue';
  const words = reasonWords[t.reason];
  if (words) return words(t, who, to);
  const move = t.from && t.from !== t.to ? `${t.from.replace(/_/g, ' ')} → ${t.to.replace(/_/g, ' ')}` : t.to.replace(/_/g, ' ');
  return `${cap(move)} (${t.reason.replace(/_/g, ' ')}) by ${who}`;
}

/** A refusal as advice: what happened and what to do, with people named. */
export function describeRefusal(error: ApiFailure, nameOf: NameOf): string {
  switch (error.code) {
    case 'not_assignee': {
      const holder = /\(([^)]+)\)/.exec(error.message)?.[1];
      return `${holder ? cap(nameOf(holder)) : 'Someone else'} holds this conversation; only they can do this.`;
    }
    case 'window_expired':
      return 'the customer-service window has closed. Send a template instead; free-form replies work again once the customer writes.';
    case 'conversation_closed':
      return 'the conversation is closed. Send a template to write to the customer again.';
    case 'forbidden':
      return 'your role may not do this here.';
    case 'validation_failed':
      return `the server could not accept it: ${error.message}.`;
    case 'unauthenticated':
      return 'you are signed out. Sign in again.';
    case 'conflict':
      return `${error.message}.`;
    case 'template_unavailable':
      return 'Meta does not let this template be sent now (it is not approved). Choose another one.';
    default:
      return error.message;
  }
}
