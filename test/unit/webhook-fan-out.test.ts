import type { FanOutDeps } from '../../api/whatsapp-webhook';
import { UnreadableWebhookBody, fanOutWhatsAppBody } from '../../api/whatsapp-webhook';
import { inboundTextBody, metaWebhookBody } from '../support/fake-graph';

/**
 * The webhook's fan-out (api/whatsapp-webhook.ts), with a gateway that records what it was sent: per
 * conversation in body order, and a retry that resumes after the conversations its heartbeat named.
 */
const phoneNumberId = '114002873000001';
const channel = '15550100009';

function keptBody(items: [customer: string, wamid: string][]) {
  const messages = items.map(([from, wamid]) => inboundTextBody({ phoneNumberId, from, wamid, text: wamid }).entry[0].changes[0].value.messages[0]);
  return { accountId: 'acct-1', raw: JSON.stringify(metaWebhookBody({ phoneNumberId, messages })), routes: [{ phoneNumberId, channel }] };
}

function recordingDeps(sent: { customer: string; messageId: string }[], delayFor: (customer: string) => number = () => 0): FanOutDeps {
  const conversations = {
    async customerMessage(ref: { customer: string }, message: { messageId: string }) {
      await new Promise((r) => setTimeout(r, delayFor(ref.customer)));
      sent.push({ customer: ref.customer, messageId: message.messageId });
      return `conv:acct-1:${channel}:${ref.customer}`;
    },
  };
  return { conversations } as unknown as FanOutDeps;
}

describe('fanning out a kept webhook body', () => {
  test("each customer's messages go in body order; the heartbeat names the finished prefix of conversations, in body order", async () => {
    const sent: { customer: string; messageId: string }[] = [];
    // The first customer is slow: the others finish first, yet the prefix only moves once the first is done.
    const deps = recordingDeps(sent, (c) => (c === '1001' ? 30 : 0));
    const beats: number[] = [];
    const outcome = await fanOutWhatsAppBody(
      deps,
      keptBody([
        ['1001', 'a1'],
        ['1002', 'b1'],
        ['1001', 'a2'],
        ['1003', 'c1'],
        ['1002', 'b2'],
      ]),
      0,
      (n) => beats.push(n),
    );
    expect(outcome).toEqual({ messages: 5, receipts: 0, unmatchedReceipts: 0 });
    const of = (customer: string) => sent.filter((s) => s.customer === customer).map((s) => s.messageId);
    expect([of('1001'), of('1002'), of('1003')]).toEqual([['a1', 'a2'], ['b1', 'b2'], ['c1']]);
    expect(beats).toEqual([3]);
  });

  test('a retry resumes after the conversations already finished', async () => {
    const sent: { customer: string; messageId: string }[] = [];
    const beats: number[] = [];
    await fanOutWhatsAppBody(
      recordingDeps(sent),
      keptBody([
        ['1001', 'a1'],
        ['1002', 'b1'],
        ['1003', 'c1'],
        ['1001', 'a2'],
      ]),
      2,
      (n) => beats.push(n),
    );
    expect(sent.map((s) => s.messageId)).toEqual(['c1']);
    expect(beats).toEqual([3]);
  });

  test('a body that does not parse is unreadable (not retried), and items for a number it may not address are dropped', async () => {
    await expect(fanOutWhatsAppBody(recordingDeps([]), { accountId: 'acct-1', raw: '{"entry": [', routes: [] }, 0, () => undefined)).rejects.toBeInstanceOf(UnreadableWebhookBody);
    const sent: { customer: string; messageId: string }[] = [];
    const outcome = await fanOutWhatsAppBody(recordingDeps(sent), { ...keptBody([['1001', 'a1']]), routes: [{ phoneNumberId: '999', channel }] }, 0, () => undefined);
    expect([outcome.messages, sent]).toEqual([0, []]);
  });
});
