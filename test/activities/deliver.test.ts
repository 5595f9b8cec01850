import { randomUUID } from 'node:crypto';
import type { OutboundMessage } from '../../channels/types';
import { createDeliveryActivities } from '../../activities/delivery-activities';
import type { ChannelProvider } from '../../activities/channel-provider';
import { providerMessageDocId } from '../../store/ids';
import { quietLog } from '../support/stack';
import { useStoreDatabase } from '../support/store-database';

/**
 * The `deliver` activity against a real MongoDB-wire server (FerretDB), on a channel with no
 * configuration (the recording provider): a send is recorded with its receipt index, and a retry of an
 * attempt the provider accepted is answered from the record without sending again, writing the receipt
 * index if that attempt died before it.
 */
const env = useStoreDatabase('deliver');

/** Deliver activities whose recording provider counts what it was asked to send. */
function counted() {
  const sent: string[] = [];
  const recording: ChannelProvider = { send: async (doc) => void sent.push(doc._id) };
  return { sent, deliver: createDeliveryActivities({ db: env.db, log: quietLog, graphUrl: 'http://127.0.0.1:9', recording }).deliver };
}

const message = (): OutboundMessage => {
  const id = randomUUID().slice(0, 8);
  return { deliveryId: `d-${id}`, accountId: 'a', channel: 'wa-none', customer: '4915100000', conversationId: `conv:a:wa-none:4915100000`, messageId: `m-${id}`, campaignId: null, content: { kind: 'text', text: 'hello' }, replyTo: null };
};

test('a send is recorded with its receipt index, and a retry does not send again', async () => {
  const { sent, deliver } = counted();
  const m = message();
  const first = await deliver(m);
  expect(first).toEqual({ outcome: 'sent', providerMessageId: `recorded.${m.deliveryId}` });
  const { c } = env;
  expect(await c.sends.findOne({ _id: m.deliveryId })).toMatchObject({ providerMessageId: `recorded.${m.deliveryId}`, messageId: m.messageId });
  expect(await c.providerMessages.findOne({ _id: providerMessageDocId('a', `recorded.${m.deliveryId}`) })).toMatchObject({ deliveryId: m.deliveryId, conversationId: m.conversationId, messageId: m.messageId });

  expect(await deliver(m)).toEqual(first);
  expect(sent).toEqual([m.deliveryId]);
});

test('a retry of an attempt that died between its two records answers from the send and writes the receipt index', async () => {
  const { sent, deliver } = counted();
  const m = message();
  const { c } = env;
  // As the attempt left it: the provider accepted the send and it was recorded, then the worker died.
  await c.sends.insertOne({ _id: m.deliveryId, accountId: 'a', conversationId: m.conversationId, messageId: m.messageId, providerMessageId: 'wamid.accepted', sentAt: new Date() });

  expect(await deliver(m)).toEqual({ outcome: 'sent', providerMessageId: 'wamid.accepted' });
  expect(sent).toEqual([]);
  expect(await c.providerMessages.findOne({ _id: providerMessageDocId('a', 'wamid.accepted') })).toMatchObject({ deliveryId: m.deliveryId, messageId: m.messageId });
});
