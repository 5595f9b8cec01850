/**
 * The SLA clock (sla.ts) wired into the lifecycle (SPEC section 9, issue 25): which SLA inputs a decision
 * amounts to, the events they fire, and the due moment the shell's single timer also waits for. Pure.
 *
 * Why from the decision's effects, not from each rule: every rule already says what happened through
 * its effects (a transition event, a timeline message), in the order it happened; reading them here
 * keeps the rules untouched and cannot miss a rule that moves the status.
 *
 * The gate: a state without `sla` (a run from before the `sla-clocks` patch, or one whose history says
 * the patch was not taken) has no SLA at all; the shell seeds `sla` (`withSlaState`) when the patch is
 * taken, which is how old states start from `initialSla` at their next input.
 */
import type { BusinessCalendar } from './business-hours';
import { businessCalendar } from './business-hours';
import type { Actor, ConversationState, Decision, Effect, Input, TransitionEvent } from './model';
import type { Policy } from './policy';
import { effective, slaPolicyOf } from './policy';
import type { StoredBusinessHours } from './policy-codecs';
import { businessHoursOf } from './policy-codecs';
import type { SlaContext, SlaEvent, SlaInput, SlaPriority, SlaState } from './sla';
import { applySla, initialSla, nextSlaDeadline } from './sla';

type Accepted = Extract<Decision, { ok: true }>;

// One compiled calendar per business-hours object: a policy keeps its object for its life (it crosses
// continue-as-new as JSON and is parsed into a new one), so identity is a safe key. The value is a pure
// function of the hours, so sharing it across workflows in one isolate changes no answer.
let cached: { hours: StoredBusinessHours; calendar: BusinessCalendar } | undefined;
/** The account's compiled business hours (null: always open), shared with the out-of-office rule (out-of-office.ts). */
export function calendarOf(hours: StoredBusinessHours | null | undefined): BusinessCalendar | null {
  if (hours === null || hours === undefined) return null;
  if (cached?.hours !== hours) cached = { hours, calendar: businessCalendar(businessHoursOf(hours)) };
  return cached.calendar;
}

/** What the SLA module reads besides its state: the policy's targets and the account's business hours. */
export function slaContextOf(policy: Policy): SlaContext {
  const e = effective(policy);
  return { policy: slaPolicyOf(e), businessHours: calendarOf(e.businessHours) };
}

/**
 * A state as the `sla-clocks` patch starts it: one without `sla` gets `initialSla` at the status it is
 * in (no clock runs until its next customer message or status change: its past is not in state), with
 * the priority a recovered run read from the stored view.
 */
export function withSlaState(state: ConversationState, priority: SlaPriority | null = null): ConversationState {
  if (state.sla !== undefined) return state;
  return { ...state, sla: { ...initialSla(), status: state.status, priority } };
}

/** The next warning or breach moment, or null (no SLA state, no target, paused). */
export function slaDeadline(state: ConversationState, policy: Policy): number | null {
  return state.sla === undefined ? null : nextSlaDeadline(state.sla, slaContextOf(policy));
}

/**
 * The SLA inputs a decision amounts to, in the order of its effects: each transition is a status; an
 * inbound timeline message a customer message; an outbound one a user's message when a user acted, else
 * a system message (out of office, surveys, a service's template: they never satisfy a target); an
 * internal one (a note) nothing. A timer
 * input is a timer at `now`, a priority input a priority at `now`.
 */
export function slaInputsOf(input: Input, actor: Actor, effects: readonly Effect[], now: number): SlaInput[] {
  const out: SlaInput[] = [];
  if (input.type === 'priority') out.push({ type: 'priority', priority: input.priority, at: now });
  for (const effect of effects) {
    if (effect.type === 'recordEvent') {
      const event = effect.event;
      if ((event.type ?? 'transition') === 'transition' && event.from !== event.to) out.push({ type: 'status', status: event.to, at: event.at });
    } else if (effect.type === 'recordMessage') {
      const { message } = effect;
      // A note (SPEC 10) answers nobody and asks nothing: no SLA input at all.
      if (message.direction === 'inbound') out.push({ type: 'customerMessage', at: message.at });
      else if (message.direction === 'outbound') out.push({ type: actor.kind === 'user' ? 'userMessage' : 'systemMessage', at: message.at });
    }
  }
  if (input.type === 'timer') out.push({ type: 'timer', at: now });
  return out;
}

/** An SLA event as an entry of the conversation's events: no change of status, by the system. */
function slaEntry(state: ConversationState, event: SlaEvent, seq: number, at: number): TransitionEvent {
  return {
    seq,
    at,
    episode: state.episode,
    from: state.status,
    to: state.status,
    reason: event.type,
    actor: { kind: 'system', id: null, role: null },
    assigneeBefore: state.assigneeId,
    assigneeAfter: state.assigneeId,
    rule: null,
    details: null,
    type: event.type,
    metric: event.metric,
    dueAt: event.dueAt,
  };
}

/**
 * Runs a decision's SLA inputs through the SLA clock of its state: the new SLA state, and each warning
 * or breach as an event entry after the decision's own effects. A state without `sla` is left as it is.
 */
export function withSla(decision: Accepted, input: Input, actor: Actor, policy: Policy, now: number): Accepted {
  if (!decision.changed || decision.state.sla === undefined) return decision;
  const inputs = slaInputsOf(input, actor, decision.effects, now);
  if (inputs.length === 0) return decision;
  const ctx = slaContextOf(policy);
  let sla: SlaState = decision.state.sla;
  let state = decision.state;
  const effects: Effect[] = [...decision.effects];
  for (const next of inputs) {
    const applied = applySla(sla, next, ctx);
    sla = applied.state;
    for (const event of applied.events) {
      const entry = slaEntry(state, event, state.eventSeq + 1, now);
      state = { ...state, eventSeq: entry.seq };
      effects.push({ type: 'recordEvent', event: entry });
    }
  }
  return { ...decision, state: { ...state, sla }, effects };
}
