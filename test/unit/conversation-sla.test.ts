/**
 * The SLA clock wired into the lifecycle (SPEC 9, issue 25): decisions feed it through their effects,
 * SLA warnings and breaches are event entries with no change of status, the next SLA moment joins the
 * deadlines, and a state without `sla` (a run before the `sla-clocks` patch) has none of it.
 */
import fc from 'fast-check';
import { withSlaState } from '../../workflows/conversation/core/conversation-sla';
import type { ConversationState, Input, TransitionEvent } from '../../workflows/conversation/core/lifecycle';
import { decide, deadlines, nextDeadline } from '../../workflows/conversation/core/lifecycle';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { settled } from '../../workflows/conversation/core/settle';
import { toView } from '../../workflows/conversation/core/view';
import { HOUR, MINUTE, SECOND, T0, accepted, agentA, assign, customer, customerMessage, fresh, owner, reply, system, timer } from './lifecycle-fixtures';

const policy: Policy = applyPolicyPatch(defaultPolicy, { sla: { normal: { firstResponse: '10m', nextResponse: '5m' } }, slaWarnBefore: '2m' });

function run(state: ConversationState, steps: [Input, typeof customer, number][], p: Policy = policy) {
  const events: TransitionEvent[] = [];
  let at = state;
  for (const [input, actor, now] of steps) {
    // As the shell does: deadlines that passed are decided before the input.
    const s = settled(at, p, now);
    for (const d of s.decisions) for (const e of d.effects) if (e.type === 'recordEvent') events.push(e.event);
    const d = accepted(decide(s.state, input, actor, p, now));
    for (const e of d.effects) if (e.type === 'recordEvent') events.push(e.event);
    at = d.state;
  }
  return { state: at, events, sla: events.filter((e) => e.type === 'sla_warning' || e.type === 'sla_breached') };
}

describe('SLA clocks in the lifecycle', () => {
  it('a state without sla has no SLA deadline and records no SLA event (runs before the patch)', () => {
    const { state, sla } = run(fresh(), [[customerMessage(), customer, T0], [timer, system, T0 + HOUR]]);
    expect(state.sla).toBeUndefined();
    expect(sla).toEqual([]);
    expect(deadlines(state, policy).some((d) => d.kind === 'sla')).toBe(false);
  });

  it('the first customer message sets the first-response deadline: its warning, then its breach, as entries with no change of status', () => {
    const opened = run(withSlaState(fresh()), [[customerMessage(), customer, T0]]);
    expect(deadlines(opened.state, policy)).toContainEqual({ kind: 'sla', at: T0 + 8 * MINUTE });
    expect(nextDeadline(opened.state, policy)).toBe(T0 + 8 * MINUTE);
    const warned = run(opened.state, [[timer, system, T0 + 8 * MINUTE]]);
    expect(warned.sla).toEqual([
      expect.objectContaining({ type: 'sla_warning', metric: 'firstResponse', dueAt: T0 + 10 * MINUTE, at: T0 + 8 * MINUTE, from: 'open', to: 'open', actor: { kind: 'system', id: null, role: null }, reason: 'sla_warning' }),
    ]);
    expect(nextDeadline(warned.state, policy)).toBe(T0 + 10 * MINUTE);
    const breached = run(warned.state, [[timer, system, T0 + 10 * MINUTE]]);
    expect(breached.sla).toEqual([expect.objectContaining({ type: 'sla_breached', metric: 'firstResponse', dueAt: T0 + 10 * MINUTE, seq: warned.state.eventSeq + 1 })]);
    expect(breached.state.status).toBe('open');
    expect(breached.state.sla?.breached).toEqual(['firstResponse']);
    expect(deadlines(breached.state, policy).some((d) => d.kind === 'sla')).toBe(false);
  });

  it("a user's reply before the due moment meets the target: no SLA event and no SLA deadline", () => {
    const { state, sla } = run(withSlaState(fresh()), [
      [customerMessage(), customer, T0],
      [assign('agent-a'), owner, T0 + MINUTE],
      [reply(), agentA, T0 + 9 * MINUTE + 59 * SECOND],
      [timer, system, T0 + HOUR],
    ]);
    expect(sla.map((e) => e.type)).toEqual(['sla_warning']);
    expect(state.sla?.firstResponse?.stop).toEqual({ at: T0 + 9 * MINUTE + 59 * SECOND, why: 'met' });
    expect(deadlines(state, policy).some((d) => d.kind === 'sla')).toBe(false);
  });

  it('a breach due while nothing woke the conversation is recorded before the next input, with its own due time', () => {
    const { sla } = run(withSlaState(fresh()), [
      [customerMessage(), customer, T0],
      [assign('agent-a'), owner, T0 + HOUR],
    ]);
    // The warning's moment passed with the breach's: only the breach fires (sla.ts).
    expect(sla).toEqual([expect.objectContaining({ type: 'sla_breached', metric: 'firstResponse', dueAt: T0 + 10 * MINUTE })]);
  });

  it('a customer message after a reply starts the next-response clock', () => {
    const { state } = run(withSlaState(fresh()), [
      [customerMessage(), customer, T0],
      [assign('agent-a'), owner, T0 + MINUTE],
      [reply(), agentA, T0 + 2 * MINUTE],
      [customerMessage(), customer, T0 + 20 * MINUTE],
    ]);
    expect(nextDeadline(state, policy)).toBe(Math.min(T0 + 20 * MINUTE + 3 * MINUTE, ...deadlines(state, policy).filter((d) => d.kind !== 'sla').map((d) => d.at)));
    expect(deadlines(state, policy)).toContainEqual({ kind: 'sla', at: T0 + 23 * MINUTE });
  });

  it('whatever the order of inputs, event seqs stay unique and increasing and every SLA event changes no status', () => {
    const step = fc.constantFrom<[Input, typeof customer]>([customerMessage(), customer], [assign('agent-a'), owner], [reply(), agentA], [timer, system], [{ type: 'resolve' }, owner]);
    fc.assert(
      fc.property(fc.array(fc.tuple(step, fc.integer({ min: 0, max: 20 * MINUTE })), { maxLength: 12 }), (steps) => {
        let now = T0;
        let state = withSlaState(fresh());
        const seqs: number[] = [];
        for (const [[input, actor], gap] of steps) {
          now += gap;
          const s = settled(state, policy, now);
          const all = [...s.decisions];
          const d = decide(s.state, input.type === 'customerMessage' ? customerMessage() : input, actor, policy, now);
          if (d.ok) all.push(d);
          for (const decision of all) {
            for (const e of decision.effects) {
              if (e.type !== 'recordEvent') continue;
              seqs.push(e.event.seq);
              if (e.event.type === 'sla_warning' || e.event.type === 'sla_breached') expect(e.event.from).toBe(e.event.to);
            }
          }
          state = d.ok ? d.state : s.state;
        }
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(new Set(seqs).size).toBe(seqs.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('priority (SPEC 9: POST .../priority)', () => {
  const tiered: Policy = applyPolicyPatch(defaultPolicy, { sla: { urgent: { firstResponse: '2m' }, normal: { firstResponse: '10m' } } });

  it('any user sets it, the due time follows, and the view shows it', () => {
    const opened = run(withSlaState(fresh()), [[customerMessage(), customer, T0]], tiered);
    expect(deadlines(opened.state, tiered)).toContainEqual({ kind: 'sla', at: T0 + 10 * MINUTE });
    const urgent = accepted(decide(opened.state, { type: 'priority', priority: 'urgent' }, agentA, tiered, T0 + MINUTE));
    expect(urgent.state.sla?.priority).toBe('urgent');
    expect(deadlines(urgent.state, tiered)).toContainEqual({ kind: 'sla', at: T0 + 2 * MINUTE });
    expect(toView(urgent.state, tiered)).toMatchObject({ priority: 'urgent', sla: { firstResponseDueAt: new Date(T0 + 2 * MINUTE).toISOString(), breached: [], paused: false } });
  });

  it('a priority with no entry of its own uses normal', () => {
    const opened = run(withSlaState(fresh()), [[customerMessage(), customer, T0]], tiered);
    const low = accepted(decide(opened.state, { type: 'priority', priority: 'low' }, owner, tiered, T0));
    expect(toView(low.state, tiered).sla.firstResponseDueAt).toBe(new Date(T0 + 10 * MINUTE).toISOString());
  });

  it.each([
    ['service', { kind: 'service', serviceId: 'svc-1' }],
    ['customer', customer],
    ['system', system],
  ] as const)('a %s may not set it (forbidden)', (_name, actor) => {
    expect(decide(withSlaState(fresh()), { type: 'priority', priority: 'high' }, actor, tiered, T0)).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('a run without SLA clocks refuses it (conflict); the same priority again changes nothing', () => {
    expect(decide(fresh(), { type: 'priority', priority: 'high' }, owner, tiered, T0)).toMatchObject({ ok: false, code: 'conflict' });
    expect(decide(withSlaState(fresh()), { type: 'priority', priority: 'normal' }, owner, tiered, T0)).toMatchObject({ ok: true, changed: false });
  });

  it('a view without SLA clocks shows normal and no due times', () => {
    expect(toView(fresh(), tiered)).toMatchObject({ priority: 'normal', sla: { firstResponseDueAt: null, nextResponseDueAt: null, resolutionDueAt: null, breached: [], paused: false } });
  });
});
