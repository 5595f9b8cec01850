import type { InboundItem, ReceiptItem } from '../channels/types';
import { WebhookPayloadError, parseWhatsAppWebhook, verifyMetaSignature } from '../channels/whatsapp/webhook';
import { mapLimit } from '../infra/map-limit';
import type { WhatsAppChannelDoc } from '../store/channels';
import { whatsappChannels } from '../store/channels';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';
import { deliverCustomerMessage, deliverReceipt } from './inbound';
import { applyTemplateStatuses } from './templates';
import { keepInboundMedia } from './media';
import { matchesAnySecret } from './keys';

/** SPEC section 7, "WhatsApp Cloud API in": Meta's verification handshake and its signed deliveries (api/DESIGN.md). */

/** Calls to Temporal one webhook body makes at once: a batch of 1,000 items must not open 1,000 calls. */
const fanOut = 32;

/** Answers `hub.challenge` when `hub.verify_token` is one of the account's WhatsApp channels'; else 403. */
export async function verifyWhatsAppHandshake(deps: ApiDeps, accountId: string, query: { 'hub.mode'?: string; 'hub.verify_token'?: string; 'hub.challenge'?: string }): Promise<string> {
  const token = query['hub.verify_token'];
  const channels = await whatsappChannels(deps.collections, accountId);
  // Constant time, and no length leaked: fixed-length digests, every channel compared (api/keys.ts).
  const matches = token !== undefined && matchesAnySecret(token, channels.map((c) => c.config.verifyToken));
  if (query['hub.mode'] !== 'subscribe' || !matches || query['hub.challenge'] === undefined) {
    throw new ApiError({ code: 'forbidden', message: 'verification failed: wrong hub.mode or hub.verify_token' });
  }
  return query['hub.challenge'];
}

/**
 * A signed webhook body: checks the signature against the account's channels, then delivers every
 * message and receipt it holds for a channel whose app secret signed it. Resolves once every item is
 * accepted by Temporal (durable); any failure rejects, and Meta delivers the whole body again, which is
 * harmless: each item is applied once.
 */
export async function receiveWhatsAppWebhook(deps: ApiDeps, accountId: string, raw: Buffer, signature: string | undefined) {
  const channels = await whatsappChannels(deps.collections, accountId);
  // Checked before anything is parsed. Channels of one Meta app share its secret; any may match.
  const signedBy = new Set(channels.filter((c) => verifyMetaSignature(raw, signature, c.config.appSecret)).map((c) => c.config.appSecret));
  if (signedBy.size === 0) {
    deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'invalid_signature' });
    throw new ApiError({ code: 'invalid_signature', message: 'X-Hub-Signature-256 is missing or does not match the app secret' });
  }
  let parsed;
  try {
    parsed = parseWhatsAppWebhook(JSON.parse(raw.toString('utf8')));
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof WebhookPayloadError) throw new ApiError({ code: 'validation_failed', message: error.message });
    throw error;
  }
  // An item may only address a channel whose app secret signed the body.
  const byNumber = new Map<string, WhatsAppChannelDoc>(channels.filter((c) => signedBy.has(c.config.appSecret)).map((c) => [c.config.phoneNumberId, c]));
  const channelOf = (item: InboundItem | ReceiptItem): WhatsAppChannelDoc | undefined => byNumber.get(item.phoneNumberId);
  const unknown = [...parsed.messages, ...parsed.receipts].filter((item) => !channelOf(item));
  if (unknown.length > 0) {
    deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'unknown_number' }, unknown.length);
    deps.log.warn({ accountId, items: unknown.length, phoneNumberIds: [...new Set(unknown.map((i) => i.phoneNumberId))] }, 'webhook items for a phone number id the account does not have');
  }
  const messages = parsed.messages.filter((item) => channelOf(item));
  // One customer's messages are signalled one after the other, in the body's order (a conversation
  // records signals in the order Temporal accepted them); different customers' go in parallel.
  const byConversation = new Map<string, InboundItem[]>();
  for (const item of messages) {
    const key = `${channelOf(item)!.channel}:${item.customer}`;
    const queue = byConversation.get(key);
    if (queue) queue.push(item);
    else byConversation.set(key, [item]);
  }
  await mapLimit([...byConversation.values()], fanOut, async (conversation) => {
    for (const item of conversation) {
      // A file is fetched durably and kept; the message then names it by our id (SPEC section 10).
      await keepInboundMedia(deps, { accountId, channel: channelOf(item)!.channel, phoneNumberId: item.phoneNumberId }, item.message);
      await deliverCustomerMessage(deps, { accountId, channel: channelOf(item)!.channel, customer: item.customer }, item.message);
    }
  });
  // Said where an operator looks; the messages themselves say `truncated: true`, and escaped keys read as sent (`.` as `．`).
  if (parsed.adjusted) {
    deps.log.warn({ accountId, ...parsed.adjusted }, 'webhook messages over a field limit were recorded within it (cut: truncated: true; keys the store refuses escaped)');
  }
  const receipts = parsed.receipts.filter((item) => channelOf(item));
  const applied = await mapLimit(receipts, fanOut, (item) =>
    deliverReceipt(
      deps,
      accountId,
      { providerMessageId: item.providerMessageId, status: item.status, at: item.at, error: item.error },
      { channel: channelOf(item)!.channel, customer: item.recipient },
    ),
  );
  // A template's status, for a business account of a channel whose app secret signed the body (SPEC section 10).
  const signedWabaIds = new Set(channels.filter((c) => signedBy.has(c.config.appSecret) && c.config.wabaId !== undefined).map((c) => c.config.wabaId!));
  const templateStatuses = parsed.templateStatuses ? await applyTemplateStatuses(deps, accountId, parsed.templateStatuses, signedWabaIds) : 0;
  deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'message' }, messages.length);
  deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'receipt' }, receipts.length);
  return {
    messages: messages.length,
    receipts: receipts.length,
    unmatchedReceipts: applied.filter((id) => id === null).length,
    unknownPhoneNumberIds: unknown.length,
    ignored: parsed.ignored,
    templateStatuses,
  };
}
