/**
 * The conversation's inbound counter (`inboundCount`), which `unreadForMe` subtracts read marks from
 * (docs/presence.md, "Read marks"): a table of the lifecycle moves around it, and the upgrade of a state
 * from older code. The property over every preset's random histories is in presets-properties.test.ts.
 */
import type { ConversationState } from '../../workflows/conversation/core/lifecycle';
import { decide, upgradeState } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy, presets } from '../../workflows/conversation/core/policy';
import type { Policy } from '../../workflows/conversation/core/policy';
import { toView } from '../../workflows/conversation/core/view';
import { MINUTE, T0, agentA, agentB, assign, customer, customerMessage, fresh, manager, recordedMessages, reply, resolve, step, template } from './lifecycle-fixtures';

const statusInbox: Policy = { preset: 'status_inbox', ...presets.status_inbox, version: 1 };

describe('inboundCount: customer messages recorded, across episodes', () => {
  test.each<[string, (s: ConversationState) => ConversationState, number]>([
    ['a fresh conversation has counted nothing', (s) => s, 0],
    ['the first customer message counts 1', (s) => step(s, customerMessage(), customer, T0), 1],
    ['a reply does not count, and does not reset it (unlike unreadCount)', (s) => step(step(s, customerMessage(), customer, T0), reply(), agentA, T0 + MINUTE), 1],
    [
      'a reassignment leaves it alone',
      (s) => step(step(step(s, customerMessage(), customer, T0), assign('agent-a'), agentA, T0 + 1), assign('agent-b'), manager, T0 + 2),
      1,
    ],
    [
      'a reopen after a close goes on counting (unreadCount starts again)',
      (s) => step(step(step(step(s, customerMessage(), customer, T0), assign('agent-a'), agentA, T0 + 1), resolve, agentA, T0 + 2), customerMessage(), customer, T0 + 3),
      2,
    ],
    [
      'a template to a closed conversation does not count',
      (s) => step(step(step(step(s, customerMessage(), customer, T0), assign('agent-a'), agentA, T0 + 1), resolve, agentA, T0 + 2), template(), agentB, T0 + 3),
      1,
    ],
  ])('%s', (_name, build, count) => {
    const state = build(fresh());
    expect(state.inboundCount).toBe(count);
    expect(toView(state, defaultPolicy)).toMatchObject({ inboundCount: count, inboundCountFromStart: true });
  });

  test('a redelivered customer message is recorded once and counted once', () => {
    const message = customerMessage();
    const once = step(fresh(), message, customer, T0);
    const again = decide(once, message, customer, defaultPolicy, T0 + 1);
    expect(again.ok && again.state.inboundCount).toBe(1);
  });

  test("each record carries the count through itself: an inbound one its own index, an outbound one the newest inbound's", () => {
    const first = decide(fresh(), customerMessage(), customer, defaultPolicy, T0);
    if (!first.ok) throw new Error('rejected');
    expect(recordedMessages(first.effects).map((m) => [m.direction, m.inboundCount])).toEqual([['inbound', 1]]);
    const assigned = step(first.state, assign('agent-a'), agentA, T0 + 1);
    const answered = decide(assigned, reply(), agentA, defaultPolicy, T0 + 2);
    if (!answered.ok) throw new Error('rejected');
    expect(recordedMessages(answered.effects).map((m) => [m.direction, m.inboundCount])).toEqual([['outbound', 1]]);
  });

  test("a survey answer (seed 002) is a customer message: counted, though the customer-facing unreadCount leaves it out", () => {
    let state = step(fresh(), customerMessage(), customer, T0, statusInbox);
    state = step(state, assign('agent-a'), agentA, T0 + 1, statusInbox);
    state = step(state, resolve, agentA, T0 + 2, statusInbox);
    expect(state.status).toBe('resolved');
    const unread = state.unreadCount;
    state = step(state, customerMessage({ text: '5' }), customer, T0 + 3, statusInbox);
    expect(state).toMatchObject({ status: 'closed', csatScore: 5, inboundCount: 2, unreadCount: unread });
  });
});

describe('a state from older code', () => {
  /** What a state carried across continue-as-new by code from before the counter looks like. */
  function fromOlderCode(state: ConversationState): ConversationState {
    const { inboundCount: _count, inboundCountFromStart: _fromStart, ...older } = state;
    return older as ConversationState;
  }

  test('starts counting at 0, says it did not count from the start, and counts on from there', () => {
    const older = fromOlderCode(step(step(fresh(), customerMessage(), customer, T0), customerMessage(), customer, T0 + 1));
    const upgraded = upgradeState(older);
    expect(upgraded).toMatchObject({ inboundCount: 0, inboundCountFromStart: false });
    expect(step(upgraded, customerMessage(), customer, T0 + 2).inboundCount).toBe(1);
  });

  test('that recorded nothing yet counts from the start', () => {
    expect(upgradeState(fromOlderCode(fresh()))).toMatchObject({ inboundCount: 0, inboundCountFromStart: true });
  });

  test('a view of a state not upgraded reads the counter as 0 (toView never answers undefined)', () => {
    const older = fromOlderCode(step(fresh(), customerMessage(), customer, T0));
    expect(toView(older, defaultPolicy)).toMatchObject({ inboundCount: 0, inboundCountFromStart: false });
  });
});
