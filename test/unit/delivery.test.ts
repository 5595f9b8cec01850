/**
 * SPEC section 7 in the pure core: the outbox, send outcomes, receipts that only move forwards (in any
 * order), the provider closing the window (131047), non-text customer messages, and survey answers.
 */
import fc from 'fast-check';
import type { ConversationState, DeliveryStatus, Input, Receipt } from '../../workflows/conversation/core/lifecycle';
import { decide, windowExpiresAt } from '../../workflows/conversation/core/lifecycle';
import { movesForward } from '../../workflows/conversation/core/rules-delivery';
import type { Policy } from '../../workflows/conversation/core/policy';
import { defaultPolicy, presets } from '../../workflows/conversation/core/policy';
import {
  MINUTE,
  T0,
  accepted,
  agentA,
  assignedConversation,
  customer,
  customerMessage,
  events,
  rejected,
  reply,
  resolve,
  service,
  step,
  system,
  template,
} from './lifecycle-fixtures';

const sent = (messageId: string, providerMessageId: string): Input => ({ type: 'sendOutcome', messageId, result: { outcome: 'sent', providerMessageId } });
const failed = (messageId: string, code: number | string): Input => ({ type: 'sendOutcome', messageId, result: { outcome: 'failed', error: { code, message: 'refused' } } });
const receipt = (providerMessageId: string, status: Receipt['status'], extra: Partial<Receipt> = {}): Input => ({ type: 'receipt', receipt: { providerMessageId, status, ...extra } });
const entry = (state: ConversationState, messageId: string) => state.outbox.find((e) => e.messageId === messageId)!;

/** Assigned to agent A, who replied once: the reply (`out-2`) is queued. */
function withQueuedReply(): ConversationState {
  return step(assignedConversation(), reply('on it'), agentA, T0 + 2 * MINUTE);
}

describe('the outbox', () => {
  test('a reply is recorded as queued and put in the outbox with what the sender needs', () => {
    const decision = accepted(decide(assignedConversation(), { type: 'reply', content: { kind: 'text', text: 'on it' }, replyTo: 'wamid-in' }, agentA, defaultPolicy, T0 + 2 * MINUTE));
    const record = decision.effects.find((e) => e.type === 'recordMessage');
    expect(record).toMatchObject({ message: { messageId: 'out-2', kind: 'text', delivery: { status: 'queued', providerMessageId: null }, replyTo: { messageId: 'wamid-in' } } });
    expect(decision.state.outbox).toEqual([
      { messageId: 'out-2', version: decision.state.version, status: 'queued', providerMessageId: null, send: { content: { kind: 'text', text: 'on it' }, replyTo: 'wamid-in' } },
    ]);
  });

  test('the sender reporting sent moves it to sent with the provider id and forgets the payload', () => {
    const state = step(withQueuedReply(), sent('out-2', 'wamid-1'), system, T0 + 3 * MINUTE);
    expect(entry(state, 'out-2')).toMatchObject({ status: 'sent', providerMessageId: 'wamid-1', send: null });
  });

  test('only the system reports send outcomes, and a second outcome for the same message changes nothing', () => {
    expect(rejected(decide(withQueuedReply(), sent('out-2', 'x'), agentA, defaultPolicy, T0)).code).toBe('forbidden');
    const once = step(withQueuedReply(), sent('out-2', 'wamid-1'), system, T0 + 3 * MINUTE);
    expect(accepted(decide(once, failed('out-2', 131026), system, defaultPolicy, T0 + 4 * MINUTE)).changed).toBe(false);
  });

  test('a permanent failure marks the message failed with the code and records a delivery_failed event', () => {
    const decision = accepted(decide(withQueuedReply(), failed('out-2', 131026), system, defaultPolicy, T0 + 3 * MINUTE));
    expect(entry(decision.state, 'out-2').status).toBe('failed');
    expect(decision.effects).toContainEqual({
      type: 'recordDelivery',
      messageId: 'out-2',
      delivery: { status: 'failed', providerMessageId: null, error: { code: 131026, message: 'refused' }, updatedAt: T0 + 3 * MINUTE },
    });
    expect(events(decision.effects)).toMatchObject([{ from: 'assigned', to: 'assigned', reason: 'delivery_failed', details: { messageId: 'out-2' } }]);
  });

  test('131047 closes the window: free-form replies are refused until the customer writes again, templates still go', () => {
    const failedState = step(withQueuedReply(), failed('out-2', 131047), system, T0 + 3 * MINUTE);
    expect(windowExpiresAt(failedState, defaultPolicy)).toBe(T0 + 3 * MINUTE);
    expect(rejected(decide(failedState, reply(), agentA, defaultPolicy, T0 + 4 * MINUTE)).code).toBe('window_expired');
    expect(accepted(decide(failedState, template(), agentA, defaultPolicy, T0 + 4 * MINUTE)).changed).toBe(true);
    const wroteAgain = step(failedState, customerMessage(), customer, T0 + 5 * MINUTE);
    expect(wroteAgain.windowClosedAt).toBeNull();
    expect(accepted(decide(wroteAgain, reply(), agentA, defaultPolicy, T0 + 6 * MINUTE)).changed).toBe(true);
  });

  test('the outbox keeps every queued message and only the newest 100 others', () => {
    let state = assignedConversation();
    for (let i = 0; i < 130; i++) {
      state = step(state, reply(`r${i}`), agentA, T0 + 2 * MINUTE + i);
      const queued = state.outbox.find((e) => e.status === 'queued')!;
      state = step(state, sent(queued.messageId, `wamid-${i}`), system, T0 + 2 * MINUTE + i);
    }
    state = step(state, reply('last'), agentA, T0 + 3 * MINUTE);
    expect(state.outbox.filter((e) => e.status !== 'queued')).toHaveLength(100);
    expect(state.outbox.at(-1)).toMatchObject({ status: 'queued', send: { content: { text: 'last' } } });
  });
});

describe('receipts', () => {
  const order: DeliveryStatus[] = ['queued', 'sent', 'delivered', 'read', 'failed'];

  test.each([
    ['sent', 'delivered', true],
    ['delivered', 'read', true],
    ['read', 'delivered', false],
    ['read', 'failed', false],
    ['delivered', 'failed', true],
    ['failed', 'read', false],
    ['sent', 'sent', false],
  ] as const)('%s -> %s moves forward: %s', (from, to, expected) => {
    expect(movesForward(from, to)).toBe(expected);
  });

  test('whatever order receipts arrive in, the delivery ends at the furthest status any of them reached', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom<Receipt['status']>('sent', 'delivered', 'read', 'failed'), { minLength: 1, maxLength: 8 }), (statuses) => {
        let state = step(withQueuedReply(), sent('out-2', 'wamid-1'), system, T0 + 3 * MINUTE);
        for (const status of statuses) {
          const decision = accepted(decide(state, receipt('wamid-1', status), service, defaultPolicy, T0 + 4 * MINUTE));
          state = decision.state;
        }
        const final = entry(state, 'out-2').status;
        const reachedRead = statuses.some((s) => s === 'read');
        const failedBeforeRead = statuses.findIndex((s) => s === 'failed') !== -1 && statuses.findIndex((s) => s === 'failed') < (reachedRead ? statuses.indexOf('read') : Infinity);
        if (failedBeforeRead) expect(final).toBe('failed');
        else if (reachedRead) expect(final).toBe('read');
        else expect(order.indexOf(final)).toBe(Math.max(...statuses.map((s) => order.indexOf(s)), order.indexOf('sent')));
      }),
    );
  });

  test('a receipt that overtakes the send outcome is held and applied when the outcome arrives', () => {
    let state = withQueuedReply();
    state = step(state, receipt('wamid-1', 'delivered'), system, T0 + 3 * MINUTE);
    expect(state.earlyReceipts).toHaveLength(1);
    const decision = accepted(decide(state, sent('out-2', 'wamid-1'), system, defaultPolicy, T0 + 4 * MINUTE));
    expect(entry(decision.state, 'out-2').status).toBe('delivered');
    expect(decision.state.earlyReceipts).toEqual([]);
  });

  test('a receipt for a message the conversation does not know, with nothing in flight, changes nothing', () => {
    const state = step(withQueuedReply(), sent('out-2', 'wamid-1'), system, T0 + 3 * MINUTE);
    expect(accepted(decide(state, receipt('wamid-other', 'read'), system, defaultPolicy, T0 + 4 * MINUTE)).changed).toBe(false);
  });

  test('customers and users cannot report receipts', () => {
    expect(rejected(decide(withQueuedReply(), receipt('x', 'read'), customer, defaultPolicy, T0)).code).toBe('forbidden');
    expect(rejected(decide(withQueuedReply(), receipt('x', 'read'), agentA, defaultPolicy, T0)).code).toBe('forbidden');
  });
});

describe('non-text customer messages', () => {
  test('an image without caption refreshes the window, counts as unread and reopens a closed conversation', () => {
    const closed = step(assignedConversation(), resolve, agentA, T0 + 2 * MINUTE);
    const image = customerMessage({ kind: 'image', text: undefined, content: { media: { id: 'media-1', mimeType: 'image/jpeg' } } });
    const decision = accepted(decide(closed, image, customer, defaultPolicy, T0 + 10 * MINUTE));
    expect(decision.state).toMatchObject({ status: 'open', episode: 2, unreadCount: 1, lastCustomerMessageAt: T0 + 10 * MINUTE });
    expect(decision.effects.find((e) => e.type === 'recordMessage')).toMatchObject({ message: { kind: 'image', text: null, content: { media: { id: 'media-1' } } } });
  });
});

describe('answering the satisfaction survey by message (status_inbox)', () => {
  const policy: Policy = { preset: 'status_inbox', ...presets.status_inbox, version: 1 };

  /** Resolved with the survey (`out-3`) sent as `wamid-survey`. */
  function awaitingAnswer(): ConversationState {
    let state = step(assignedConversation(T0, T0 + MINUTE), reply(), agentA, T0 + 2 * MINUTE, policy);
    state = step(state, resolve, agentA, T0 + 3 * MINUTE, policy);
    expect(state.status).toBe('resolved');
    return step(state, sent(state.csatMessageId!, 'wamid-survey'), system, T0 + 4 * MINUTE, policy);
  }

  test.each([
    ['a digit 1-5 as text', { text: ' 4 ' }, 4],
    ['a button reply to the survey', { kind: 'button' as const, text: 'Great', content: { choice: { id: '5', title: 'Great', type: 'button' } }, replyTo: { messageId: 'wamid-survey' } }, 5],
    ['a list reply without context whose title carries the score', { kind: 'interactive' as const, text: '3 - okay', content: { choice: { id: 'row-x', title: '3 - okay', type: 'list_reply' } } }, 3],
  ])('%s closes with the score', (_name, message, score) => {
    const decision = accepted(decide(awaitingAnswer(), customerMessage(message), customer, policy, T0 + 5 * MINUTE));
    expect(decision.state).toMatchObject({ status: 'closed', closedReason: 'resolved', csatScore: score, episode: 1 });
  });

  test.each([
    ['a sentence', { text: 'I have another question' }],
    ['a digit out of range', { text: '7' }],
    ['a button reply quoting another message', { kind: 'button' as const, text: '5', content: { choice: { id: '5', title: '5', type: 'button' } }, replyTo: { messageId: 'wamid-other' } }],
  ])('%s starts the next episode instead', (_name, message) => {
    const decision = accepted(decide(awaitingAnswer(), customerMessage(message), customer, policy, T0 + 5 * MINUTE));
    expect(decision.state).toMatchObject({ status: 'open', episode: 2 });
  });
});
