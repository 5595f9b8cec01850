/**
 * Out of office (SPEC 9): a customer message outside business hours gets the policy's text from the
 * system, once per cooldown from the conversation's last out-of-office reply; never while `in_flow`,
 * never within 10 minutes of a user's message, never when the account has no business hours. It is a
 * system message: the unread count, `waitingSince` and the SLA clocks are left as they are. A state
 * without `outOfOffice` (a run before the `out-of-office` patch) never sends it.
 */
import fc from 'fast-check';
import { withSlaState } from '../../workflows/conversation/core/conversation-sla';
import type { Actor, ConversationState, Input } from '../../workflows/conversation/core/lifecycle';
import { decide } from '../../workflows/conversation/core/lifecycle';
import { withOutOfOfficeState } from '../../workflows/conversation/core/out-of-office';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { toView } from '../../workflows/conversation/core/view';
import { HOUR, MINUTE, T0, accepted, agentA, assign, customer, customerMessage, deepFreeze, fresh, reply, sentMessages, service, step } from './lifecycle-fixtures';

// T0 is Monday 2025-01-06 09:00 UTC: open until 17:00, closed from 17:00 to Tuesday 09:00.
const weekdays: [string, string][] = [['09:00', '17:00']];
const hours = { timezone: 'UTC', weekly: { mon: weekdays, tue: weekdays, wed: weekdays, thu: weekdays, fri: weekdays } };
const text = 'We are closed; we answer from 09:00 UTC.';
const policy: Policy = applyPolicyPatch(defaultPolicy, { businessHours: hours, outOfOffice: { text, cooldown: '12h' } });
const closedAt = T0 + 9 * HOUR; // Monday 18:00

const on = () => withOutOfOfficeState(fresh());
const sentTexts = (state: ConversationState, input: Input, actor: Actor, now: number, p: Policy = policy) => {
  const d = accepted(decide(state, input, actor, p, now));
  return { state: d.state, sent: sentMessages(d.effects).map((m) => ({ text: m.text, authorId: m.authorId, direction: m.direction, kind: m.kind })) };
};

describe('out of office', () => {
  it('a customer message outside business hours gets the text from the system, queued like any business message', () => {
    const { state, sent } = sentTexts(on(), customerMessage(), customer, closedAt);
    expect(sent).toEqual([{ text, authorId: null, direction: 'outbound', kind: 'text' }]);
    expect(state.outbox).toEqual([expect.objectContaining({ status: 'queued', send: { content: { kind: 'text', text }, replyTo: null } })]);
    expect(state.outOfOffice?.lastSentAt).toBe(closedAt);
    // A system message answers nobody: the customer's message stays unread and waiting.
    expect(state).toMatchObject({ status: 'open', unreadCount: 1, waitingSince: closedAt });
  });

  it('within the cooldown from the last reply none; after it, one again', () => {
    const first = sentTexts(on(), customerMessage(), customer, closedAt).state;
    expect(sentTexts(first, customerMessage(), customer, closedAt + 11 * HOUR).sent).toEqual([]);
    // Tuesday 07:00 is 13h later and still closed.
    expect(sentTexts(first, customerMessage(), customer, closedAt + 13 * HOUR).sent.map((m) => m.text)).toEqual([text]);
  });

  it('in business hours none', () => {
    expect(sentTexts(on(), customerMessage(), customer, T0 + HOUR).sent).toEqual([]);
  });

  it('with business hours null (always open), none, even with a text', () => {
    const always = applyPolicyPatch(defaultPolicy, { outOfOffice: { text } });
    expect(sentTexts(on(), customerMessage(), customer, closedAt, always).sent).toEqual([]);
  });

  it('without a text (outOfOffice null), none', () => {
    const silent = applyPolicyPatch(defaultPolicy, { businessHours: hours });
    expect(sentTexts(on(), customerMessage(), customer, closedAt, silent).sent).toEqual([]);
  });

  it('a run from before the patch (no outOfOffice state) sends none', () => {
    expect(sentTexts(fresh(), customerMessage(), customer, closedAt).sent).toEqual([]);
  });

  it('never while in_flow', () => {
    const flows = applyPolicyPatch(policy, { flows: true });
    const open = step(on(), customerMessage(), customer, T0, flows);
    const inFlow = step(open, { type: 'flowStart', priority: false }, service, T0 + MINUTE, flows);
    expect(inFlow.status).toBe('in_flow');
    expect(sentTexts(inFlow, customerMessage(), customer, closedAt, flows).sent).toEqual([]);
  });

  it("never within 10 minutes of a user's message; from then on it does", () => {
    const open = step(on(), customerMessage(), customer, closedAt - 2 * HOUR, policy); // 16:00, open: none
    const claimed = step(open, assign('agent-a'), agentA, closedAt - 2 * HOUR + MINUTE, policy);
    const replied = step(claimed, reply(), agentA, closedAt, policy);
    expect(replied.outOfOffice?.lastUserMessageAt).toBe(closedAt);
    expect(sentTexts(replied, customerMessage(), customer, closedAt + 10 * MINUTE - 1).sent).toEqual([]);
    expect(sentTexts(replied, customerMessage(), customer, closedAt + 10 * MINUTE).sent.map((m) => m.text)).toEqual([text]);
  });

  it('never satisfies an SLA target: the first response stays due', () => {
    const withSla = applyPolicyPatch(policy, { sla: { normal: { firstResponse: '1h' } }, slaBusinessHoursOnly: false });
    const { state, sent } = sentTexts(withSlaState(on()), customerMessage(), customer, closedAt, withSla);
    expect(sent).toHaveLength(1);
    expect(toView(state, withSla).sla).toMatchObject({ firstResponseDueAt: new Date(closedAt + HOUR).toISOString(), breached: [] });
  });
});

// ---- Properties over random histories ----

type Step = { kind: 'customer' | 'reply' | 'claim' | 'resolve' | 'flowStart' | 'flowEnd'; gap: number };
const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('customer', 'customer', 'customer', 'reply', 'claim', 'resolve', 'flowStart', 'flowEnd'),
  gap: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 15 * MINUTE }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 14 * HOUR }) }),
});
const flows = applyPolicyPatch(policy, { flows: true, outOfOffice: { text, cooldown: '2h' } });
const openAt = (at: number) => {
  const day = new Date(at).getUTCDay();
  const minute = (at % (24 * HOUR)) / MINUTE;
  return day >= 1 && day <= 5 && minute >= 9 * 60 && minute < 17 * 60;
};

describe('out of office over random histories', () => {
  it('only on a customer message while closed, at least a cooldown apart, never within 10 minutes of a user, never in_flow', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40, size: 'max' }), (steps) => {
        let state = on();
        let now = T0;
        let lastSent: number | null = null;
        let lastUser: number | null = null;
        let n = 0;
        for (const s of steps) {
          now += s.gap;
          n += 1;
          const inputs: Record<Step['kind'], [Input, Actor]> = {
            customer: [customerMessage(), customer],
            reply: [reply(), agentA],
            claim: [assign('agent-a'), agentA],
            resolve: [{ type: 'resolve' }, agentA],
            flowStart: [{ type: 'flowStart', priority: true }, service],
            flowEnd: [{ type: 'flowEnd', assignTo: null }, service],
          };
          const [input, actor] = inputs[s.kind];
          const before = deepFreeze(state);
          const d = decide(before, input, actor, flows, now);
          if (!d.ok || !d.changed) continue;
          const system = sentMessages(d.effects).filter((m) => m.authorId === null);
          if (system.length > 0) {
            expect(system.map((m) => m.text)).toEqual([text]);
            expect(input.type).toBe('customerMessage');
            expect(openAt(now)).toBe(false);
            expect(before.status).not.toBe('in_flow');
            if (lastSent !== null) expect(now - lastSent).toBeGreaterThanOrEqual(2 * HOUR);
            if (lastUser !== null) expect(now - lastUser).toBeGreaterThanOrEqual(10 * MINUTE);
            expect(d.state.unreadCount).toBeGreaterThan(0);
            lastSent = now;
          }
          if (sentMessages(d.effects).some((m) => m.authorId !== null)) lastUser = now;
          state = d.state;
        }
        void n;
      }),
      { numRuns: 300 },
    );
  });
});
