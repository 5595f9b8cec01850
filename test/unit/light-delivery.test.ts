/**
 * Issue 28: a send outcome or receipt that moves nothing the view shows is decided without a new version
 * (core/light-delivery.ts), so its flush writes the delivery and a stream entry and no view.
 */
import fc from 'fast-check';
import type { ConversationState, Decision, Input, Receipt } from '../../workflows/conversation/core/lifecycle';
import { decide, nextDeadline } from '../../workflows/conversation/core/lifecycle';
import { isDeliveryOnly, lightened } from '../../workflows/conversation/core/light-delivery';
import { withAnswerState } from '../../workflows/conversation/core/answer-within';
import { withSlaState } from '../../workflows/conversation/core/conversation-sla';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch, defaultPolicy } from '../../workflows/conversation/core/policy';
import { toView } from '../../workflows/conversation/core/view';
import { policies } from './lifecycle-arbitraries';
import { MINUTE, T0, accepted, agentA, assignedConversation, fresh, reply, service, step, system } from './lifecycle-fixtures';

type Accepted = Extract<Decision, { ok: true }>;

const sent = (messageId: string, providerMessageId: string): Input => ({ type: 'sendOutcome', messageId, result: { outcome: 'sent', providerMessageId } });
const failed = (messageId: string, code: number | string): Input => ({ type: 'sendOutcome', messageId, result: { outcome: 'failed', error: { code, message: 'refused' } } });
const receipt = (providerMessageId: string, status: Receipt['status']): Input => ({ type: 'receipt', receipt: { providerMessageId, status } });

/** Assigned to agent A, who replied once: the reply (`out-2`) is queued. */
const withQueuedReply = (): ConversationState => step(assignedConversation(), reply('on it'), agentA, T0 + 2 * MINUTE);
const decided = (state: ConversationState, input: Input, at = T0 + 3 * MINUTE, policy: Policy = defaultPolicy): Accepted =>
  accepted(decide(state, input, input.type === 'receipt' ? service : system, policy, at));

/** The view without the two fields a light decision keeps from before. */
const shown = (state: ConversationState, policy: Policy) => {
  const { version: _version, updatedAt: _updatedAt, ...rest } = toView(state, policy);
  return rest;
};

describe('which delivery decisions are light', () => {
  const queued = withQueuedReply();
  const afterSent = step(queued, sent('out-2', 'wamid-1'), system, T0 + 3 * MINUTE);
  const cases: [string, ConversationState, Input, boolean][] = [
    ['sent: the outbox entry and a recordDelivery', queued, sent('out-2', 'wamid-1'), true],
    ['a delivered receipt after sent', afterSent, receipt('wamid-1', 'delivered'), true],
    ['a read receipt after sent', afterSent, receipt('wamid-1', 'read'), true],
    ['a receipt that overtakes the outcome (held in earlyReceipts, no effect)', queued, receipt('wamid-1', 'delivered'), true],
    ['a permanent failure (a delivery_failed event)', queued, failed('out-2', 131026), false],
    ['131047: the window closes', queued, failed('out-2', 131047), false],
    ['a failed receipt after sent (a delivery_failed event)', afterSent, receipt('wamid-1', 'failed'), false],
  ];
  test.each(cases)('%s', (_name, state, input, light) => {
    const decision = decided(state, input);
    expect(decision.changed).toBe(true);
    expect(isDeliveryOnly(state, decision)).toBe(light);
    const result = lightened(state, decision);
    if (light) {
      expect(result.state.version).toBe(state.version);
      expect(result.state.updatedAt).toBe(state.updatedAt);
      expect(result.effects).toEqual(decision.effects);
      expect(shown(result.state, defaultPolicy)).toEqual(shown(state, defaultPolicy));
    } else {
      expect(result).toBe(decision);
      expect(result.state.version).toBe(state.version + 1);
    }
  });

  test('a decision that changes nothing, or a customer message, is never light', () => {
    const again = decided(afterSent, sent('out-2', 'wamid-1'));
    expect(again.changed).toBe(false);
    expect(isDeliveryOnly(afterSent, again)).toBe(false);
    const message = accepted(decide(afterSent, { type: 'customerMessage', message: { messageId: 'wamid-in-9', text: 'thanks' } }, { kind: 'customer' }, defaultPolicy, T0 + 4 * MINUTE));
    expect(isDeliveryOnly(afterSent, message)).toBe(false);
  });
});

// Random histories over what moves the outbox: customer messages, replies, templates, claims, closes,
// send outcomes for the first few outbound ids (sent, failed, 131047) and receipts in any order.
const outIds = ['out-1', 'out-2', 'out-3', 'out-4', 'out-5', 'out-6'];
const inputArb: fc.Arbitrary<{ input: Input; gap: number }> = fc.record({
  gap: fc.integer({ min: 0, max: 30 * MINUTE }),
  input: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 9 }).map((n): Input => ({ type: 'customerMessage', message: { messageId: `in-${n}`, text: `hi ${n}` } })) },
    { weight: 3, arbitrary: fc.constant<Input>({ type: 'reply', content: { kind: 'text', text: 'on it' } }) },
    { weight: 1, arbitrary: fc.constant<Input>({ type: 'template', content: { kind: 'template', template: { name: 'follow_up' } } }) },
    { weight: 1, arbitrary: fc.constant<Input>({ type: 'takeOver' }) },
    { weight: 1, arbitrary: fc.constant<Input>({ type: 'resolve' }) },
    { weight: 1, arbitrary: fc.constant<Input>({ type: 'timer' }) },
    {
      weight: 5,
      arbitrary: fc
        .record({ id: fc.constantFrom(...outIds), ok: fc.integer({ min: 0, max: 5 }), code: fc.constantFrom<number | string>(131026, 131047, 'timeout') })
        .map(({ id, ok, code }): Input => (ok > 0 ? sent(id, `wamid-${id}`) : failed(id, code))),
    },
    {
      weight: 5,
      arbitrary: fc
        .record({ id: fc.constantFrom(...outIds), status: fc.constantFrom<Receipt['status']>('sent', 'delivered', 'read', 'failed') })
        .map(({ id, status }) => receipt(`wamid-${id}`, status)),
    },
  ),
});

const clocked: [string, Policy, (s: ConversationState) => ConversationState][] = [
  ...policies.map(([name, p]): [string, Policy, (s: ConversationState) => ConversationState] => [name, p, (s) => s]),
  [
    'default with SLA targets and answer-within',
    applyPolicyPatch(defaultPolicy, { sla: { normal: { firstResponse: '10m', nextResponse: '5m' } }, slaWarnBefore: '2m', answerWithin: '10m' }),
    (s) => withAnswerState(withSlaState(s, null)),
  ],
];

/** The state without what a light decision leaves behind: its version, `updatedAt`, and the versions its outbox entries were queued at. */
const comparable = (state: ConversationState) => ({
  ...state,
  version: 0,
  updatedAt: 0,
  outbox: state.outbox.map((e) => ({ ...e, version: 0 })),
});

describe.each(clocked)('light delivery decisions under %s', (_name, policy, seed) => {
  test('a light decision shows the same view and changes only the outbox and early receipts', () => {
    let lightSeen = 0;
    fc.assert(
      fc.property(fc.array(inputArb, { minLength: 1, maxLength: 40 }), (steps) => {
        let state = seed(fresh());
        let now = T0;
        for (const { input, gap } of steps) {
          now += gap;
          const actor = input.type === 'customerMessage' ? { kind: 'customer' as const } : input.type === 'sendOutcome' || input.type === 'timer' ? system : input.type === 'receipt' ? service : agentA;
          const decision = decide(state, input, actor, policy, now);
          if (!decision.ok) continue;
          if (isDeliveryOnly(state, decision)) {
            expect(decision.effects.every((e) => e.type === 'recordDelivery')).toBe(true);
            const light = lightened(state, decision).state;
            expect(shown(light, policy)).toEqual(shown(state, policy));
            expect({ ...light, outbox: [], earlyReceipts: [] }).toEqual({ ...state, outbox: [], earlyReceipts: [] });
            lightSeen++;
          }
          state = decision.state;
        }
      }),
      { numRuns: 300 },
    );
    // The histories do reach light decisions (sends and receipts of queued replies), not only heavy ones.
    expect(lightSeen).toBeGreaterThan(20);
  });

  test('a run that decides delivery without new versions shows, decides and records the same as one that does not', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { minLength: 1, maxLength: 40 }), (steps) => {
        let full = seed(fresh());
        let light = seed(fresh());
        let now = T0;
        for (const { input, gap } of steps) {
          now += gap;
          // Deadlines first, as the workflow settles them before an input.
          for (let due = nextDeadline(full, policy); due !== null && due <= now; due = nextDeadline(full, policy)) {
            const a = decide(full, { type: 'timer' }, system, policy, due);
            const b = decide(light, { type: 'timer' }, system, policy, due);
            if (!a.ok || !b.ok || !a.changed) break;
            full = a.state;
            light = b.state;
          }
          const actor = input.type === 'customerMessage' ? { kind: 'customer' as const } : input.type === 'sendOutcome' || input.type === 'timer' ? system : input.type === 'receipt' ? service : agentA;
          const a = decide(full, input, actor, policy, now);
          const b = decide(light, input, actor, policy, now);
          expect(b.ok).toBe(a.ok);
          if (!a.ok || !b.ok) continue;
          expect(b.effects).toEqual(a.effects);
          full = a.state;
          light = lightened(light, b).state;
          expect(comparable(light)).toEqual(comparable(full));
          expect(shown(light, policy)).toEqual(shown(full, policy));
          expect(light.version).toBeLessThanOrEqual(full.version);
        }
      }),
      { numRuns: 300 },
    );
  });
});
