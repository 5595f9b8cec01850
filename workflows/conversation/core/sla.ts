/**
 * The SLA clock of SPEC section 9 as a pure module: its own small state (which the conversation state
 * will carry), a reducer over SLA inputs, and queries for due times. No clock and no randomness: every
 * time comes in an input. Not wired yet; the shell will feed it what the lifecycle decided (messages,
 * status changes, priority and policy changes) and sleep until `nextSlaDeadline`, then feed a timer.
 *
 * Why spans, not a due time: each metric keeps the intervals during which its clock ran. Every due time
 * is derived from them under the policy and business hours in force, so a priority change, a policy
 * change, even a change of business hours, recomputes due times exactly from the conversation's own
 * timestamps. A span opens and closes only at a pause, a resume, the start or the stop of a clock, so
 * the list stays as short as the episode's pauses.
 *
 * Decisions (see also the comments at each):
 * - Pauses: `waiting` and `snoozed` pause every clock; `in_flow` pauses the response clocks only (the
 *   automation is answering; its time is not counted), while resolution runs from the episode's start.
 *   The view's `paused` is true while the status pauses every clock and some clock with a target waits.
 * - A warning fires `slaWarnBefore` of counted (business) time before the breach, so it always leaves
 *   that much working time; none fires when the target is not longer than `slaWarnBefore`.
 * - A warning whose moment has passed (a policy or priority change, a late timer) fires at once if the
 *   breach has not come yet; once the breach is due, only the breach fires. A breach is never skipped:
 *   every input first applies what fell due up to its time, as if the timer had fired then.
 * - A due moment is a deadline: a reply at exactly `dueAt` comes too late (as a timer at `dueAt` does).
 * - A breach stays recorded for the episode even if a later policy lengthens the target.
 * - A new episode (a status leaving `closed`/`resolved`) starts every clock afresh.
 */
import type { Status } from './model';
import type { BusinessCalendar } from './business-hours';

export type SlaMetric = 'firstResponse' | 'nextResponse' | 'resolution';
export const slaMetrics: readonly SlaMetric[] = ['firstResponse', 'nextResponse', 'resolution'];

export type SlaPriority = 'urgent' | 'high' | 'normal' | 'low';
export const slaPriorities: readonly SlaPriority[] = ['urgent', 'high', 'normal', 'low'];

/** One priority's targets in milliseconds of counted time; absent or null: that metric has no target. */
export type SlaTargets = { [M in SlaMetric]?: number | null };

export interface SlaPolicy {
  /**
   * Targets per priority. A priority without an entry uses `normal`'s; an entry that is present is taken
   * whole (a metric it leaves out is off, it is not filled from `normal`).
   */
  targets: { [P in SlaPriority]?: SlaTargets };
  /** How much counted time before the breach the warning fires; null: no warnings. */
  warnBeforeMs: number | null;
  /** Count business time only (SPEC: default true when business hours are set). */
  businessHoursOnly: boolean;
}

/** What the SLA clock needs of business hours: the two arithmetic queries of a `BusinessCalendar`. */
export type BusinessClock = Pick<BusinessCalendar, 'addBusinessTime' | 'businessTimeBetween'>;

/** Plain wall time: used when `businessHoursOnly` is false or the account has no business hours. */
export const alwaysOpen: BusinessClock = {
  addBusinessTime: (fromMs, durationMs) => fromMs + durationMs,
  businessTimeBetween: (fromMs, toMs) => Math.max(0, toMs - fromMs),
};

/** What the queries and the reducer read besides the state: the policy and the account's business hours. */
export interface SlaContext {
  policy: SlaPolicy;
  /** The account's business hours; null: always open. */
  businessHours: BusinessClock | null;
}

/** The statuses the SLA clock knows: the lifecycle's (`snoozed` among them, SPEC section 9). */
export type SlaStatus = Status;

/** An interval during which a metric's clock ran; `to` null while it runs. */
export interface SlaSpan {
  from: number;
  to: number | null;
}

/** One metric's clock in the current episode (or, for nextResponse, the current cycle). */
export interface MetricClock {
  /** When the clock was started (it may have started paused, e.g. a customer message during `in_flow`). */
  startedAt: number;
  spans: SlaSpan[];
  /** Why and when the clock stopped for good: its target met, or the episode ended first. */
  stop: { at: number; why: 'met' | 'episode_ended' } | null;
  warned: boolean;
  breached: boolean;
}

export interface SlaState {
  status: SlaStatus;
  /** The conversation's priority; null reads as `normal`. */
  priority: SlaPriority | null;
  /** The first response was given (or a user wrote before any customer did) this episode. */
  responded: boolean;
  firstResponse: MetricClock | null;
  nextResponse: MetricClock | null;
  resolution: MetricClock | null;
  /** Metrics breached this episode, each once, in the order they breached. */
  breached: SlaMetric[];
}

export type SlaInput =
  | { type: 'customerMessage'; at: number }
  | { type: 'userMessage'; at: number }
  /** Out of office, surveys: recorded so the contract is explicit; they never satisfy a target. */
  | { type: 'systemMessage'; at: number }
  /** The status the conversation entered at `at`. */
  | { type: 'status'; status: SlaStatus; at: number }
  | { type: 'priority'; priority: SlaPriority | null; at: number }
  /** The context now holds a new policy (or business hours): due times follow from the spans. */
  | { type: 'policy'; at: number }
  | { type: 'timer'; at: number };

export interface SlaEvent {
  type: 'sla_warning' | 'sla_breached';
  metric: SlaMetric;
  dueAt: number;
}

export interface SlaView {
  firstResponseDueAt: number | null;
  nextResponseDueAt: number | null;
  resolutionDueAt: number | null;
  breached: SlaMetric[];
  paused: boolean;
}

/** A conversation before its first episode (its status starts `closed`, as in model.ts). */
export function initialSla(): SlaState {
  return { status: 'closed', priority: null, responded: false, firstResponse: null, nextResponse: null, resolution: null, breached: [] };
}

function assertNever(value: never): never {
  throw new Error(`unexpected SLA value ${JSON.stringify(value)}`);
}

function isEnded(status: SlaStatus): boolean {
  return status === 'closed' || status === 'resolved';
}

/** Statuses that stop every clock: SPEC section 9's pause. */
function pausesAll(status: SlaStatus): boolean {
  return status === 'waiting' || status === 'snoozed';
}

/** Whether a started, unstopped clock of `metric` counts time in `status`. */
function runsIn(metric: SlaMetric, status: SlaStatus): boolean {
  if (isEnded(status) || pausesAll(status)) return false;
  switch (metric) {
    case 'firstResponse':
    case 'nextResponse':
      // Automation time is not counted for responses (SPEC: "from the end of in_flow").
      return status !== 'in_flow';
    case 'resolution':
      return true;
    default:
      return assertNever(metric);
  }
}

function isRunning(clock: MetricClock): boolean {
  const last = clock.spans[clock.spans.length - 1];
  return last !== undefined && last.to === null;
}

function startClock(metric: SlaMetric, status: SlaStatus, at: number): MetricClock {
  return { startedAt: at, spans: runsIn(metric, status) ? [{ from: at, to: null }] : [], stop: null, warned: false, breached: false };
}

/** Opens or closes the clock's span so that it runs exactly when `status` lets it. */
function syncClock(clock: MetricClock | null, metric: SlaMetric, status: SlaStatus, at: number): MetricClock | null {
  if (clock === null || clock.stop !== null) return clock;
  const should = runsIn(metric, status);
  if (should === isRunning(clock)) return clock;
  if (should) return { ...clock, spans: [...clock.spans, { from: at, to: null }] };
  return { ...clock, spans: closeSpans(clock.spans, at) };
}

function closeSpans(spans: SlaSpan[], at: number): SlaSpan[] {
  return spans.map((s) => (s.to === null ? { from: s.from, to: Math.max(s.from, at) } : s));
}

function stopClock(clock: MetricClock | null, why: 'met' | 'episode_ended', at: number): MetricClock | null {
  if (clock === null || clock.stop !== null) return clock;
  return { ...clock, spans: closeSpans(clock.spans, at), stop: { at, why } };
}

/** The clock that counts: business hours when the policy says so and the account has them, else wall time. */
export function slaClock(ctx: SlaContext): BusinessClock {
  return ctx.policy.businessHoursOnly && ctx.businessHours !== null ? ctx.businessHours : alwaysOpen;
}

/** The target of `metric` for the conversation's priority, or null when none applies. */
export function slaTarget(state: SlaState, policy: SlaPolicy, metric: SlaMetric): number | null {
  const targets = policy.targets[state.priority ?? 'normal'] ?? policy.targets.normal;
  const ms = targets?.[metric];
  return ms === undefined || ms === null ? null : ms;
}

/**
 * The moment the clock has counted `amount` of time, walking its spans in order; null if it has not yet
 * and is not running (paused, or stopped), or if the business clock never gets there. The moment may lie
 * in the past: a target shortened by a policy change.
 */
function momentAfter(clock: MetricClock, amount: number, counting: BusinessClock): number | null {
  let counted = 0;
  for (const span of clock.spans) {
    if (span.to === null) return counting.addBusinessTime(span.from, amount - counted);
    const inSpan = counting.businessTimeBetween(span.from, span.to);
    if (counted + inSpan >= amount) return counting.addBusinessTime(span.from, amount - counted);
    counted += inSpan;
  }
  return null;
}

interface MetricDeadlines {
  /** The breach moment: null when met or stopped, no target, or paused before reaching it. */
  dueAt: number | null;
  /** The warning moment, when a warning still applies to this clock. */
  warnAt: number | null;
}

function metricDeadlines(state: SlaState, metric: SlaMetric, ctx: SlaContext): MetricDeadlines {
  const clock = state[metric];
  const target = slaTarget(state, ctx.policy, metric);
  if (clock === null || clock.stop !== null || target === null) return { dueAt: null, warnAt: null };
  const counting = slaClock(ctx);
  const dueAt = momentAfter(clock, target, counting);
  const lead = ctx.policy.warnBeforeMs;
  // A target no longer than the lead would warn at the very start: noise, so no warning then.
  const warnAt = lead !== null && lead > 0 && target > lead ? momentAfter(clock, target - lead, counting) : null;
  // A paused clock warns only once it runs again (its warning moment can only have passed by a policy
  // change); a breach reached before the pause is due at once, because a breach is never skipped.
  if (!isRunning(clock)) return { dueAt, warnAt: null };
  return { dueAt, warnAt };
}

/** The view of SPEC section 9: due times (null once met, while paused, or with no target), breaches, paused. */
export function slaView(state: SlaState, ctx: SlaContext): SlaView {
  const due = (metric: SlaMetric): number | null => {
    const clock = state[metric];
    return clock !== null && isRunning(clock) ? metricDeadlines(state, metric, ctx).dueAt : null;
  };
  const waits = slaMetrics.some((m) => {
    const clock = state[m];
    return clock !== null && clock.stop === null && slaTarget(state, ctx.policy, m) !== null;
  });
  return {
    firstResponseDueAt: due('firstResponse'),
    nextResponseDueAt: due('nextResponse'),
    resolutionDueAt: due('resolution'),
    breached: [...state.breached],
    paused: pausesAll(state.status) && waits,
  };
}

/** What a timer would fire for one metric: its next warning or breach, with the breach's due time. */
function pendingOf(state: SlaState, metric: SlaMetric, ctx: SlaContext): { type: SlaEvent['type']; at: number; dueAt: number } | null {
  const clock = state[metric];
  if (clock === null || clock.breached) return null;
  const { dueAt, warnAt } = metricDeadlines(state, metric, ctx);
  if (dueAt === null) return null;
  if (!clock.warned && warnAt !== null && warnAt < dueAt) return { type: 'sla_warning', at: warnAt, dueAt };
  return { type: 'sla_breached', at: dueAt, dueAt };
}

/** The next warning or breach a timer would fire, with its metric (the Web UI's timer label names it), or null. */
export function nextSlaEvent(state: SlaState, ctx: SlaContext): (SlaEvent & { at: number }) | null {
  let next: (SlaEvent & { at: number }) | null = null;
  for (const metric of slaMetrics) {
    const pending = pendingOf(state, metric, ctx);
    if (pending !== null && (next === null || pending.at < next.at)) next = { ...pending, metric };
  }
  return next;
}

/** The next moment a warning or breach falls due (possibly already past: fire now), or null. */
export function nextSlaDeadline(state: SlaState, ctx: SlaContext): number | null {
  let next: number | null = null;
  for (const metric of slaMetrics) {
    const pending = pendingOf(state, metric, ctx);
    if (pending !== null && (next === null || pending.at < next)) next = pending.at;
  }
  return next;
}

/**
 * Fires every warning and breach due at `at`, each once per metric per cycle. When the breach is due
 * too, the warning is not fired (it would say nothing the breach does not) but counted as given.
 */
function fireDue(state: SlaState, at: number, ctx: SlaContext): { state: SlaState; events: SlaEvent[] } {
  const fired: { at: number; event: SlaEvent }[] = [];
  let next = state;
  for (const metric of slaMetrics) {
    const clock = next[metric];
    const pending = pendingOf(next, metric, ctx);
    if (clock === null || pending === null) continue;
    const { dueAt } = pending;
    if (dueAt <= at) {
      fired.push({ at: dueAt, event: { type: 'sla_breached', metric, dueAt } });
      next = { ...next, [metric]: { ...clock, warned: true, breached: true }, breached: next.breached.includes(metric) ? next.breached : [...next.breached, metric] };
    } else if (pending.type === 'sla_warning' && pending.at <= at) {
      fired.push({ at: pending.at, event: { type: 'sla_warning', metric, dueAt } });
      next = { ...next, [metric]: { ...clock, warned: true } };
    }
  }
  // In the order they fell due; metrics in their fixed order on a tie (the sort is stable).
  fired.sort((a, b) => a.at - b.at);
  return { state: next, events: fired.map((f) => f.event) };
}

/** Applies one input. Everything due up to the input's time fires first, so no breach is ever skipped. */
export function applySla(state: SlaState, input: SlaInput, ctx: SlaContext): { state: SlaState; events: SlaEvent[] } {
  const caught = fireDue(state, input.at, ctx);
  return { state: applyInput(caught.state, input), events: caught.events };
}

function applyInput(state: SlaState, input: SlaInput): SlaState {
  const { at } = input;
  switch (input.type) {
    case 'timer':
    case 'policy':
    case 'systemMessage':
      // Due times are derived from the spans under the context's policy; system messages satisfy nothing.
      return state;
    case 'priority':
      return { ...state, priority: input.priority };
    case 'status':
      return onStatus(state, input.status, at);
    case 'customerMessage':
      return onCustomerMessage(state, at);
    case 'userMessage':
      return onUserMessage(state, at);
    default:
      return assertNever(input);
  }
}

function onStatus(state: SlaState, status: SlaStatus, at: number): SlaState {
  if (isEnded(state.status) && !isEnded(status)) {
    // A new episode: fresh clocks, resolution from its start. The customer message that opened it comes
    // after this input (the lifecycle records the transition before the message) and starts the first
    // response.
    return { ...state, status, responded: false, firstResponse: null, nextResponse: null, breached: [], resolution: startClock('resolution', status, at) };
  }
  if (!isEnded(state.status) && isEnded(status)) {
    return {
      ...state,
      status,
      resolution: stopClock(state.resolution, 'met', at),
      firstResponse: stopClock(state.firstResponse, 'episode_ended', at),
      nextResponse: stopClock(state.nextResponse, 'episode_ended', at),
    };
  }
  return {
    ...state,
    status,
    firstResponse: syncClock(state.firstResponse, 'firstResponse', status, at),
    nextResponse: syncClock(state.nextResponse, 'nextResponse', status, at),
    resolution: syncClock(state.resolution, 'resolution', status, at),
  };
}

function onCustomerMessage(state: SlaState, at: number): SlaState {
  // In an ended episode (a survey answer) nothing runs: the reopening status must come first.
  if (isEnded(state.status)) return state;
  if (!state.responded) {
    // The episode's first customer message starts the first response; later ones before it change nothing.
    return state.firstResponse === null ? { ...state, firstResponse: startClock('firstResponse', state.status, at) } : state;
  }
  // After a user's message, the first customer message starts a new next-response cycle.
  const cycle = state.nextResponse;
  if (cycle !== null && cycle.stop === null) return state;
  return { ...state, nextResponse: startClock('nextResponse', state.status, at) };
}

function onUserMessage(state: SlaState, at: number): SlaState {
  if (isEnded(state.status)) return state;
  return {
    ...state,
    // A user writing before any customer message also ends the wait for a first response.
    responded: true,
    firstResponse: stopClock(state.firstResponse, 'met', at),
    nextResponse: stopClock(state.nextResponse, 'met', at),
  };
}
