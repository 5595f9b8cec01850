/**
 * The SLA clock of SPEC section 9 (core/sla.ts): first response, next response and resolution, their
 * pauses, warnings and breaches, as tables and as properties, in wall time and in business time.
 */
import fc from 'fast-check';
import { businessCalendar } from '../../workflows/conversation/core/business-hours';
import type { BusinessHours } from '../../workflows/conversation/core/business-hours';
import { alwaysOpen, applySla, initialSla, nextSlaDeadline, slaView } from '../../workflows/conversation/core/sla';
import type {
  BusinessClock,
  SlaContext,
  SlaEvent,
  SlaInput,
  SlaMetric,
  SlaPolicy,
  SlaPriority,
  SlaState,
  SlaStatus,
  SlaView,
} from '../../workflows/conversation/core/sla';

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const week = 7 * day;
/** Monday 7 December 2026, 10:00 UTC. */
const t0 = Date.UTC(2026, 11, 7, 10, 0);
const numRuns = 300;

const policy: SlaPolicy = {
  targets: {
    urgent: { firstResponse: 2 * minute, nextResponse: 2 * minute, resolution: 30 * minute },
    normal: { firstResponse: 10 * minute, nextResponse: 5 * minute, resolution: hour },
    low: { resolution: 4 * hour },
  },
  warnBeforeMs: minute,
  businessHoursOnly: false,
};
const wall: SlaContext = { policy, businessHours: null };

/**
 * Open 09:00-17:00 UTC on weekdays, written the slow obvious way (a day at a time) so that it is easy
 * to believe. Stands in for business-hours.ts's calendar.
 */
function openOn(dayStart: number): [number, number] | null {
  const weekday = new Date(dayStart).getUTCDay();
  return weekday === 0 || weekday === 6 ? null : [dayStart + 9 * hour, dayStart + 17 * hour];
}
const officeHours: BusinessClock = {
  businessTimeBetween(from, to) {
    let total = 0;
    for (let d = Math.floor(from / day) * day; d < to; d += day) {
      const open = openOn(d);
      if (open !== null) total += Math.max(0, Math.min(to, open[1]) - Math.max(from, open[0]));
    }
    return total;
  },
  addBusinessTime(from, duration) {
    let rest = duration;
    for (let d = Math.floor(from / day) * day, n = 0; n < 3_660; d += day, n++) {
      const open = openOn(d);
      if (open === null) continue;
      const start = Math.max(from, open[0]);
      if (start >= open[1]) continue;
      if (rest <= open[1] - start) return start + rest;
      rest -= open[1] - start;
    }
    return null;
  },
};
const business: SlaContext = { policy: { ...policy, businessHoursOnly: true }, businessHours: officeHours };

const at = (minutes: number) => t0 + minutes * minute;
const status = (s: SlaStatus, minutes: number): SlaInput => ({ type: 'status', status: s, at: at(minutes) });
const customer = (minutes: number): SlaInput => ({ type: 'customerMessage', at: at(minutes) });
const user = (minutes: number): SlaInput => ({ type: 'userMessage', at: at(minutes) });
const system = (minutes: number): SlaInput => ({ type: 'systemMessage', at: at(minutes) });
const timer = (minutes: number): SlaInput => ({ type: 'timer', at: at(minutes) });
const priority = (p: SlaPriority | null, minutes: number): SlaInput => ({ type: 'priority', priority: p, at: at(minutes) });

/** Applies inputs in order (each with its own context, when given as a pair); all events in order. */
function run(inputs: (SlaInput | [SlaInput, SlaContext])[], ctx: SlaContext = wall, from: SlaState = initialSla()): { state: SlaState; events: SlaEvent[] } {
  let state = from;
  const events: SlaEvent[] = [];
  for (const item of inputs) {
    const [input, c] = Array.isArray(item) ? item : [item, ctx];
    const out = applySla(state, input, c);
    state = out.state;
    events.push(...out.events);
  }
  return { state, events };
}

/** An episode that opened at minute 0 with a customer message. */
const opened = [status('open', 0), customer(0)];

const warning = (metric: SlaMetric, dueAt: number): SlaEvent => ({ type: 'sla_warning', metric, dueAt });
const breach = (metric: SlaMetric, dueAt: number): SlaEvent => ({ type: 'sla_breached', metric, dueAt });

describe('first response', () => {
  it('is due its target after the episode’s first customer message', () => {
    const { state } = run([...opened, customer(3)]);
    expect(slaView(state, wall)).toEqual({ firstResponseDueAt: at(10), nextResponseDueAt: null, resolutionDueAt: at(60), breached: [], paused: false });
  });

  it('is met by the first message a user sends, and then shows no due time', () => {
    const { state, events } = run([...opened, user(4), timer(30)]);
    expect(slaView(state, wall).firstResponseDueAt).toBeNull();
    expect(events).toEqual([]);
  });

  it('warns slaWarnBefore ahead and breaches at the due moment, once each', () => {
    const { state, events } = run([...opened, timer(9), timer(9.5), timer(10), timer(11), timer(20)]);
    expect(events).toEqual([warning('firstResponse', at(10)), breach('firstResponse', at(10))]);
    expect(slaView(state, wall).breached).toEqual(['firstResponse']);
  });

  it('counts a reply at exactly the due moment as late, even before the timer fired', () => {
    const { state, events } = run([...opened, timer(9), user(10)]);
    expect(events).toEqual([warning('firstResponse', at(10)), breach('firstResponse', at(10))]);
    expect(slaView(state, wall).breached).toEqual(['firstResponse']);
  });

  it('is not satisfied by system messages (out of office, surveys)', () => {
    const { state, events } = run([...opened, system(1), system(5), timer(10)]);
    expect(events.map((e) => e.type)).toEqual(['sla_breached']);
    expect(slaView(state, wall).breached).toEqual(['firstResponse']);
  });

  it('starts at the end of in_flow when the customer wrote to the automation', () => {
    const { state } = run([status('in_flow', 0), customer(0), customer(5)]);
    expect(slaView(state, wall)).toMatchObject({ firstResponseDueAt: null, resolutionDueAt: at(60), paused: false });
    const after = run([status('open', 20)], wall, state).state;
    expect(slaView(after, wall)).toMatchObject({ firstResponseDueAt: at(30), resolutionDueAt: at(60) });
  });

  it('does not count automation time when a flow runs in the middle of the wait', () => {
    const { state } = run([...opened, status('in_flow', 2), status('open', 12)]);
    expect(slaView(state, wall).firstResponseDueAt).toBe(at(20));
  });

  it('never starts when a user wrote before any customer message; the customer then starts a next response', () => {
    const { state } = run([status('open', 0), user(1), customer(2)]);
    expect(slaView(state, wall)).toMatchObject({ firstResponseDueAt: null, nextResponseDueAt: at(7) });
  });
});

describe('next response', () => {
  it('runs from the first customer message after a user’s message to the next user message', () => {
    const steps = run([...opened, user(1), customer(2), customer(3)]);
    expect(slaView(steps.state, wall).nextResponseDueAt).toBe(at(7));
    expect(slaView(run([user(4)], wall, steps.state).state, wall).nextResponseDueAt).toBeNull();
  });

  it('starts a new cycle that may warn and breach again; breached lists the metric once', () => {
    const { state, events } = run([...opened, user(1), customer(2), timer(6), timer(7), user(8), customer(10), timer(14), timer(15)]);
    expect(events).toEqual([
      warning('nextResponse', at(7)),
      breach('nextResponse', at(7)),
      warning('nextResponse', at(15)),
      breach('nextResponse', at(15)),
    ]);
    expect(slaView(state, wall).breached).toEqual(['nextResponse']);
  });

  it('ignores system messages in both directions', () => {
    const { state } = run([...opened, user(1), system(2), customer(3), system(4)]);
    expect(slaView(state, wall).nextResponseDueAt).toBe(at(8));
  });
});

describe('resolution', () => {
  it.each<SlaStatus>(['closed', 'resolved'])('runs from the episode’s start and is met at %s', (end) => {
    const { state, events } = run([...opened, user(1), status(end, 30), timer(120)]);
    expect(slaView(state, wall)).toEqual({ firstResponseDueAt: null, nextResponseDueAt: null, resolutionDueAt: null, breached: [], paused: false });
    expect(events).toEqual([]);
  });

  it('breaches an hour after the start when nobody closes it', () => {
    const { events } = run([...opened, user(1), timer(59), timer(60)]);
    expect(events).toEqual([warning('resolution', at(60)), breach('resolution', at(60))]);
  });

  it('keeps running through wrap_up until the conversation closes', () => {
    const { state } = run([...opened, user(1), status('wrap_up', 20)]);
    expect(slaView(state, wall).resolutionDueAt).toBe(at(60));
  });

  it('stops the open response clocks when the episode ends, without a breach', () => {
    const { state, events } = run([...opened, status('closed', 2), timer(100)]);
    expect(events).toEqual([]);
    expect(state.firstResponse?.stop).toEqual({ at: at(2), why: 'episode_ended' });
  });
});

describe('pause and resume', () => {
  it.each<SlaStatus>(['waiting', 'snoozed'])('pauses every clock while %s, and paused time is not counted', (pause) => {
    const paused = run([...opened, status('assigned', 1), status(pause, 2)]).state;
    expect(slaView(paused, wall)).toEqual({ firstResponseDueAt: null, nextResponseDueAt: null, resolutionDueAt: null, breached: [], paused: true });
    expect(nextSlaDeadline(paused, wall)).toBeNull();
    const resumed = run([status('assigned', 62)], wall, paused).state;
    expect(slaView(resumed, wall)).toEqual({ firstResponseDueAt: at(70), nextResponseDueAt: null, resolutionDueAt: at(120), breached: [], paused: false });
  });

  it('fires nothing while paused, then warns and breaches on the resumed schedule', () => {
    const { events } = run([...opened, status('snoozed', 5), timer(9), timer(10), timer(100), status('open', 100), timer(104), timer(105)]);
    expect(events).toEqual([warning('firstResponse', at(105)), breach('firstResponse', at(105))]);
  });

  it('is not paused when no clock with a target waits', () => {
    const none: SlaContext = { policy: { targets: {}, warnBeforeMs: null, businessHoursOnly: false }, businessHours: null };
    expect(slaView(run([...opened, status('waiting', 1)]).state, none).paused).toBe(false);
  });

  it('starts the first response paused when the customer writes to a waiting conversation that stays waiting', () => {
    const { state } = run([status('open', 0), status('waiting', 0), customer(1), status('open', 10)]);
    expect(slaView(state, wall).firstResponseDueAt).toBe(at(20));
  });
});

describe('priority change mid-clock', () => {
  it('recomputes due times from the conversation’s own timestamps', () => {
    const { state } = run([...opened, priority('urgent', 1)]);
    expect(slaView(state, wall)).toMatchObject({ firstResponseDueAt: at(2), resolutionDueAt: at(30) });
    expect(slaView(run([priority('normal', 1)], wall, state).state, wall)).toMatchObject({ firstResponseDueAt: at(10), resolutionDueAt: at(60) });
  });

  it('fires a warning whose moment already passed at once, while the breach is still ahead', () => {
    const { state, events } = run([...opened, priority('urgent', 1.5)]);
    expect(events).toEqual([]);
    expect(nextSlaDeadline(state, wall)).toBe(at(1));
    expect(run([timer(1.5)], wall, state).events).toEqual([warning('firstResponse', at(2))]);
  });

  it('fires only the breach, at once and with the exact past due time, when both moments passed', () => {
    const { state } = run([...opened, status('assigned', 1), priority('urgent', 5)]);
    expect(nextSlaDeadline(state, wall)).toBeLessThanOrEqual(at(5));
    expect(run([timer(5)], wall, state).events).toEqual([breach('firstResponse', at(2))]);
  });

  it('falls back to normal’s targets for a priority without an entry, and takes a present entry whole', () => {
    expect(slaView(run([...opened, priority('high', 0)]).state, wall)).toMatchObject({ firstResponseDueAt: at(10), resolutionDueAt: at(60) });
    expect(slaView(run([...opened, priority('low', 0)]).state, wall)).toMatchObject({ firstResponseDueAt: null, resolutionDueAt: at(240) });
    expect(slaView(run([...opened, priority(null, 0)]).state, wall)).toMatchObject({ firstResponseDueAt: at(10) });
  });
});

describe('policy change mid-clock', () => {
  const shorter: SlaContext = { ...wall, policy: { ...policy, targets: { normal: { firstResponse: 4 * minute, resolution: 20 * minute } } } };

  it('recomputes due times from the spans under the new policy', () => {
    const { state } = run([...opened, status('waiting', 1), status('open', 3), [{ type: 'policy', at: at(3) }, shorter]]);
    // one minute counted before the pause, three after the resume
    expect(slaView(state, shorter)).toMatchObject({ firstResponseDueAt: at(6), resolutionDueAt: at(22) });
  });

  it('breaches at once when the new target was already exceeded, and records it even if a later policy lengthens it', () => {
    const before = run([...opened, timer(5)]).state;
    const fired = run([[{ type: 'policy', at: at(5) }, shorter], [timer(5), shorter]], wall, before);
    expect(fired.events).toEqual([breach('firstResponse', at(4))]);
    const relaxed = run([{ type: 'policy', at: at(6) }, timer(9), timer(10)], wall, fired.state);
    expect(relaxed.events).toEqual([]);
    expect(slaView(relaxed.state, wall)).toMatchObject({ firstResponseDueAt: at(10), breached: ['firstResponse'] });
  });

  it('breaches a paused clock whose new target was already exceeded, with the moment it was reached', () => {
    const paused = run([...opened, status('waiting', 5)]).state;
    expect(nextSlaDeadline(paused, shorter)).toBe(at(4));
    const fired = run([timer(30)], shorter, paused);
    expect(fired.events).toEqual([breach('firstResponse', at(4))]);
    expect(slaView(fired.state, shorter)).toMatchObject({ firstResponseDueAt: null, paused: true, breached: ['firstResponse'] });
  });

  it('switches a metric off and on again without losing counted time', () => {
    const off: SlaContext = { ...wall, policy: { ...policy, targets: { normal: {} } } };
    const { state, events } = run([...opened, [timer(20), off], [{ type: 'policy', at: at(20) }, off]]);
    expect(events).toEqual([]);
    expect(slaView(state, off).firstResponseDueAt).toBeNull();
    expect(nextSlaDeadline(state, wall)).toBe(at(9));
  });

  it('gives no warning when the target is not longer than slaWarnBefore', () => {
    const lead: SlaContext = { ...wall, policy: { ...policy, warnBeforeMs: 10 * minute } };
    expect(run([...opened, timer(5), timer(10)], lead).events).toEqual([breach('firstResponse', at(10))]);
  });

  it('skips a warning whose breach is due by the time a late timer fires', () => {
    expect(run([...opened, timer(12)]).events).toEqual([breach('firstResponse', at(10))]);
  });
});

describe('episodes', () => {
  it('starts fresh clocks when a closed conversation reopens', () => {
    const first = run([...opened, timer(9), timer(10), status('closed', 20)]);
    expect(first.events).toEqual([warning('firstResponse', at(10)), breach('firstResponse', at(10))]);
    const second = run([status('open', 100), customer(100), timer(109), timer(110)], wall, first.state);
    expect(second.events).toEqual([warning('firstResponse', at(110)), breach('firstResponse', at(110))]);
    expect(slaView(run([status('open', 100), customer(100)], wall, first.state).state, wall)).toEqual({
      firstResponseDueAt: at(110),
      nextResponseDueAt: null,
      resolutionDueAt: at(160),
      breached: [],
      paused: false,
    });
  });

  it('ignores customer and user messages while closed (a survey answer, a template)', () => {
    const closed = run([...opened, user(1), status('resolved', 2), customer(3), user(4), status('closed', 5)]).state;
    expect(slaView(closed, wall)).toEqual({ firstResponseDueAt: null, nextResponseDueAt: null, resolutionDueAt: null, breached: [], paused: false });
    expect(nextSlaDeadline(closed, wall)).toBeNull();
  });

  it('keeps its state as plain JSON', () => {
    const { state } = run([...opened, user(1), customer(2), status('waiting', 3)]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});

describe('business hours', () => {
  const friday = Date.UTC(2026, 11, 11, 0, 0);
  const fri = (h: number, m = 0) => friday + h * hour + m * minute;
  const monday = (h: number, m = 0) => fri(h, m) + 3 * day;

  it("business-hours.ts's calendar counts as the office-hours stand-in does (Friday 16:55 due Monday 09:05)", () => {
    const weekdays = { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']] } as BusinessHours['weekly'];
    const calendar = businessCalendar({ timezone: 'UTC', weekly: weekdays });
    const real: SlaContext = { ...business, businessHours: calendar };
    const inputs: SlaInput[] = [{ type: 'status', status: 'open', at: fri(16, 55) }, { type: 'customerMessage', at: fri(16, 55) }];
    expect(slaView(run(inputs, real).state, real)).toEqual(slaView(run(inputs, business).state, business));
    expect(slaView(run(inputs, real).state, real)).toMatchObject({ firstResponseDueAt: monday(9, 5), resolutionDueAt: monday(9, 55) });
  });

  it('counts only business time: a message at Friday 16:55 is due Monday 09:05', () => {
    const { state } = run([{ type: 'status', status: 'open', at: fri(16, 55) }, { type: 'customerMessage', at: fri(16, 55) }], business);
    expect(slaView(state, business)).toMatchObject({ firstResponseDueAt: monday(9, 5), resolutionDueAt: monday(9, 55) });
  });

  it('warns slaWarnBefore of business time ahead, so the warning leaves that much working time', () => {
    const { state } = run([{ type: 'status', status: 'open', at: fri(16, 52) }, { type: 'customerMessage', at: fri(16, 52) }], business);
    // eight minutes on Friday, two on Monday: due 09:02, and the warning a business minute before
    expect(slaView(state, business).firstResponseDueAt).toBe(monday(9, 2));
    expect(nextSlaDeadline(state, business)).toBe(monday(9, 1));
    const early = run([{ type: 'status', status: 'open', at: fri(16, 40) }, { type: 'customerMessage', at: fri(16, 40) }], business).state;
    expect(nextSlaDeadline(early, business)).toBe(fri(16, 49));
  });

  it('continues the remaining business time on resume', () => {
    const { state } = run(
      [
        { type: 'status', status: 'open', at: fri(16, 56) },
        { type: 'customerMessage', at: fri(16, 56) },
        { type: 'status', status: 'snoozed', at: fri(16, 58) },
        { type: 'status', status: 'assigned', at: monday(11) },
      ],
      business,
    );
    // two business minutes before the snooze, eight to go from Monday 11:00
    expect(slaView(state, business).firstResponseDueAt).toBe(monday(11, 8));
  });

  it('uses wall time when slaBusinessHoursOnly is false, even with business hours', () => {
    const ctx: SlaContext = { policy, businessHours: officeHours };
    const { state } = run([{ type: 'status', status: 'open', at: fri(16, 55) }, { type: 'customerMessage', at: fri(16, 55) }], ctx);
    expect(slaView(state, ctx).firstResponseDueAt).toBe(fri(17, 5));
  });

  it('shows no due time when the calendar never opens', () => {
    const never: BusinessClock = { addBusinessTime: () => null, businessTimeBetween: () => 0 };
    const ctx: SlaContext = { ...business, businessHours: never };
    const { state, events } = run([...opened, timer(10_000)], ctx);
    expect(slaView(state, ctx).firstResponseDueAt).toBeNull();
    expect(events).toEqual([]);
  });
});

// ---- properties --------------------------------------------------------------------------------

type Step =
  | { kind: 'customer' | 'user' | 'system' | 'timer'; gap: number }
  | { kind: 'status'; status: SlaStatus; gap: number }
  | { kind: 'priority'; priority: SlaPriority | null; gap: number };

const liveStatuses: SlaStatus[] = ['open', 'assigned', 'waiting', 'snoozed', 'in_flow'];
const gapArb = fc.integer({ min: 1, max: 20 * minute });
const stepArb = (withPriority: boolean): fc.Arbitrary<Step> =>
  fc.oneof(
    fc.record({ kind: fc.constantFrom('customer' as const, 'user' as const, 'system' as const, 'timer' as const), gap: gapArb }),
    fc.record({ kind: fc.constant('status' as const), status: fc.constantFrom(...liveStatuses), gap: gapArb }),
    ...(withPriority ? [fc.record({ kind: fc.constant('priority' as const), priority: fc.constantFrom<SlaPriority | null>('urgent', 'high', 'normal', 'low', null), gap: gapArb })] : []),
  );
const stepsArb = (withPriority = true) => fc.array(stepArb(withPriority), { maxLength: 40 });

/** One live episode: opened by a customer at `start`, then the steps, each `gap` after the one before. */
function inputsOf(steps: Step[], start = t0): SlaInput[] {
  const inputs: SlaInput[] = [
    { type: 'status', status: 'open', at: start },
    { type: 'customerMessage', at: start },
  ];
  let now = start;
  for (const step of steps) {
    now += step.gap;
    switch (step.kind) {
      case 'customer':
        inputs.push({ type: 'customerMessage', at: now });
        break;
      case 'user':
        inputs.push({ type: 'userMessage', at: now });
        break;
      case 'system':
        inputs.push({ type: 'systemMessage', at: now });
        break;
      case 'timer':
        inputs.push({ type: 'timer', at: now });
        break;
      case 'status':
        inputs.push({ type: 'status', status: step.status, at: now });
        break;
      case 'priority':
        inputs.push({ type: 'priority', priority: step.priority, at: now });
        break;
    }
  }
  return inputs;
}

const dueTimes = (view: SlaView) => [view.firstResponseDueAt, view.nextResponseDueAt, view.resolutionDueAt];

function scaled(ctx: SlaContext, factor: number): SlaContext {
  const targets = Object.fromEntries(
    Object.entries(ctx.policy.targets).map(([p, t]) => [p, Object.fromEntries(Object.entries(t ?? {}).map(([m, ms]) => [m, ms === null || ms === undefined ? ms : Math.round(ms * factor)]))]),
  );
  return { ...ctx, policy: { ...ctx.policy, targets } };
}

describe('properties', () => {
  it.each([
    ['wall time', wall],
    ['business time', business],
  ])('a due time moves monotonically with its target (%s)', (_, ctx) => {
    fc.assert(
      fc.property(stepsArb(), fc.double({ min: 0.1, max: 5, noNaN: true }), fc.double({ min: 0.1, max: 5, noNaN: true }), (steps, a, b) => {
        const [lo, hi] = a <= b ? [scaled(ctx, a), scaled(ctx, b)] : [scaled(ctx, b), scaled(ctx, a)];
        const { state } = run(inputsOf(steps), lo);
        const small = dueTimes(slaView(state, lo));
        const large = dueTimes(slaView(state, hi));
        small.forEach((due, i) => {
          expect(due === null).toBe(large[i] === null);
          if (due !== null) expect(due).toBeLessThanOrEqual(large[i] as number);
        });
      }),
      { numRuns },
    );
  });

  it.each([
    ['wall time, any pause', wall, fc.integer({ min: 1, max: 3 * day })],
    ['business time, whole weeks', business, fc.integer({ min: 1, max: 3 }).map((n) => n * week)],
  ])('paused time never counts (%s)', (_, ctx, pauseArb) => {
    fc.assert(
      fc.property(stepsArb(), fc.nat(), pauseArb, fc.constantFrom<SlaStatus>('waiting', 'snoozed'), (steps, cut, pause, how) => {
        // The same story, once as it is and once with a pause inserted after step `cut` and every later
        // input moved by the pause's length: every due time moves by exactly that length.
        const plain = inputsOf(steps);
        const k = 2 + (cut % (plain.length - 1));
        const before = plain.slice(0, k);
        const resumeTo = [...before].reverse().find((i): i is Extract<SlaInput, { type: 'status' }> => i.type === 'status')?.status ?? 'open';
        const last = before.at(-1)?.at ?? t0;
        const withPause = [
          ...before,
          { type: 'status', status: how, at: last } as SlaInput,
          { type: 'status', status: resumeTo, at: last + pause } as SlaInput,
          ...plain.slice(k).map((i) => ({ ...i, at: i.at + pause })),
        ];
        const viewPlain = slaView(run(plain, ctx).state, ctx);
        const viewPaused = slaView(run(withPause, ctx).state, ctx);
        // A due moment already reached when the pause began stays where it was (it is in the past).
        dueTimes(viewPlain).forEach((due, i) => expect(dueTimes(viewPaused)[i]).toBe(due === null ? null : due <= last ? due : due + pause));
      }),
      { numRuns },
    );
  });

  it('with an always-open clock, dueAt = start + target + paused time (resolution and first response)', () => {
    fc.assert(
      fc.property(stepsArb(false), (steps) => {
        const inputs = inputsOf(steps);
        const { state } = run(inputs, wall);
        // An independent model: walk the inputs and add up the time each clock was paused before it
        // reached its target (a pause after that does not move a due moment already passed).
        let current: SlaStatus = 'open';
        let since = t0;
        let pausedAll = 0;
        let countedAll = 0;
        let firstPaused = 0;
        let firstCounted = 0;
        let firstStart: number | null = null;
        let responded = false;
        for (const input of inputs) {
          const span = input.at - since;
          const allStopped = current === 'waiting' || current === 'snoozed';
          if (allStopped && countedAll < hour) pausedAll += span;
          if (!allStopped) countedAll += span;
          if (firstStart !== null && (allStopped || current === 'in_flow') && firstCounted < 10 * minute) firstPaused += span;
          if (firstStart !== null && !(allStopped || current === 'in_flow')) firstCounted += span;
          since = input.at;
          if (input.type === 'status') current = input.status;
          if (input.type === 'customerMessage' && !responded && firstStart === null) firstStart = input.at;
          if (input.type === 'userMessage') responded = true;
        }
        const view = slaView(state, wall);
        const running = current !== 'waiting' && current !== 'snoozed';
        expect(view.resolutionDueAt).toBe(running ? t0 + hour + pausedAll : null);
        const firstRunning = running && current !== 'in_flow' && !responded && firstStart !== null;
        expect(view.firstResponseDueAt).toBe(firstRunning ? (firstStart as number) + 10 * minute + firstPaused : null);
        // resolution always has a target here, so the view is paused exactly when the status pauses
        expect(view.paused).toBe(!running);
      }),
      { numRuns },
    );
  });

  it.each([
    ['wall time', wall],
    ['business time', business],
  ])('a breach event’s dueAt equals the view’s due time at that moment (%s)', (_, ctx) => {
    fc.assert(
      fc.property(stepsArb(false), (steps) => {
        let state = initialSla();
        for (const input of inputsOf(steps)) {
          const view = slaView(state, ctx);
          const out = applySla(state, input, ctx);
          for (const event of out.events) {
            const key = `${event.metric}DueAt` as const;
            expect(view[key]).toBe(event.dueAt);
            if (event.type === 'sla_breached') expect(event.dueAt).toBeLessThanOrEqual(input.at);
          }
          state = out.state;
        }
      }),
      { numRuns },
    );
  });

  it.each([
    ['wall time', wall],
    ['business time', business],
  ])('events never repeat within a cycle, and a warning never follows its breach (%s)', (_, ctx) => {
    fc.assert(
      fc.property(stepsArb(), (steps) => {
        let state = initialSla();
        const seen = new Set<string>();
        for (const input of inputsOf(steps)) {
          const out = applySla(state, input, ctx);
          for (const event of out.events) {
            // A cycle is known by its start: one per episode for first response and resolution.
            const cycle = `${event.metric}@${state[event.metric]?.startedAt}`;
            const key = `${event.type}:${cycle}`;
            expect(seen.has(key)).toBe(false);
            if (event.type === 'sla_warning') expect(seen.has(`sla_breached:${cycle}`)).toBe(false);
            seen.add(key);
          }
          state = out.state;
        }
      }),
      { numRuns },
    );
  });

  it('a timer at the next deadline always fires something, and nothing fires before it', () => {
    fc.assert(
      fc.property(stepsArb(), fc.constantFrom(wall, business), (steps, ctx) => {
        const { state } = run(inputsOf(steps), ctx);
        const next = nextSlaDeadline(state, ctx);
        if (next === null) return;
        const last = inputsOf(steps).at(-1)?.at ?? t0;
        if (next - 1 >= last) expect(applySla(state, { type: 'timer', at: next - 1 }, ctx).events).toEqual([]);
        expect(applySla(state, { type: 'timer', at: Math.max(next, last) }, ctx).events.length).toBeGreaterThan(0);
      }),
      { numRuns },
    );
  });
});

it('alwaysOpen counts wall time', () => {
  expect(alwaysOpen.addBusinessTime(t0, 5)).toBe(t0 + 5);
  expect(alwaysOpen.businessTimeBetween(t0 + 5, t0)).toBe(0);
});
