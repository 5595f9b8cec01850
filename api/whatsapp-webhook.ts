import type { InboundItem, ReceiptItem } from '../channels/types';
import { WebhookPayloadError, parseWhatsAppWebhook, verifyMetaSignature } from '../channels/whatsapp/webhook';
import { mapLimit } from '../infra/map-limit';
import type { WhatsAppChannelDoc } from '../store/channels';
import { whatsappChannels } from '../store/channels';
import type { InboundBodyDoc } from '../store/inbound-bodies';
import { inboundBodyId, keepInboundBody } from '../store/inbound-bodies';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';
import { deliverCustomerMessage, deliverReceipt } from './inbound';
import { applyTemplateStatuses } from './templates';
import { keepInboundMedia } from './media';
import { matchesAnySecret } from './keys';

/** SPEC section 7, "WhatsApp Cloud API in": Meta's verification handshake and its signed deliveries (api/DESIGN.md). */

/** Calls to Temporal one webhook body's fan-out makes at once: a batch of 1,000 items must not open 1,000 calls. */
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

/** Thrown by the fan-out for a kept body that does not parse: retrying cannot help (the workflow marks it failed). */
export class UnreadableWebhookBody extends Error {
  override readonly name = 'webhook_body_unreadable';
}

function parseBody(raw: string) {
  return parseWhatsAppWebhook(JSON.parse(raw));
}

/**
 * A signed webhook body: checks the signature against the account's channels and parses it, then makes
 * it durable before answering: one insert of the raw body (`inbound_bodies`, insert-once by its
 * SHA-256, so Meta's redelivery of the same bytes finds it kept) and one signal-with-start of the
 * account's inbox workflow (`webhook-inbox/{accountId}`), which fans the body out to its conversations
 * after the answer (`fanOutWhatsAppBody`), bodies in the order they arrived. A process killed right
 * after the 200 loses nothing. Either write failing rejects (503), and Meta delivers the whole body
 * again: the insert collides, the signal is sent again, and the workflow skips a body already done.
 * Template statuses are applied here, before the answer (a few writes, no Temporal call), so a replayed
 * body never puts an older status back.
 */
export async function receiveWhatsAppWebhook(deps: ApiDeps, accountId: string, raw: Buffer, signature: string | undefined) {
  const channels = await whatsappChannels(deps.collections, accountId);
  // Checked before anything is parsed. Channels of one Meta app share its secret; any may match.
  const signedBy = new Set(channels.filter((c) => verifyMetaSignature(raw, signature, c.config.appSecret)).map((c) => c.config.appSecret));
  if (signedBy.size === 0) {
    deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'invalid_signature' });
    throw new ApiError({ code: 'invalid_signature', message: 'X-Hub-Signature-256 is missing or does not match the app secret' });
  }
  const text = raw.toString('utf8');
  let parsed;
  try {
    parsed = parseBody(text);
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof WebhookPayloadError) throw new ApiError({ code: 'validation_failed', message: error.message });
    throw error;
  }
  // An item may only address a channel whose app secret signed the body.
  const byNumber = new Map<string, WhatsAppChannelDoc>(channels.filter((c) => signedBy.has(c.config.appSecret)).map((c) => [c.config.phoneNumberId, c]));
  const known = (item: InboundItem | ReceiptItem) => byNumber.has(item.phoneNumberId);
  const unknown = [...parsed.messages, ...parsed.receipts].filter((item) => !known(item));
  if (unknown.length > 0) {
    deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'unknown_number' }, unknown.length);
    deps.log.warn({ accountId, items: unknown.length, phoneNumberIds: [...new Set(unknown.map((i) => i.phoneNumberId))] }, 'webhook items for a phone number id the account does not have');
  }
  const messages = parsed.messages.filter(known).length;
  const receipts = parsed.receipts.filter(known).length;
  if (messages + receipts > 0) {
    const doc: InboundBodyDoc = {
      _id: inboundBodyId(accountId, raw),
      accountId,
      provider: 'whatsapp_cloud',
      raw: text,
      routes: [...byNumber.values()].map((c) => ({ phoneNumberId: c.config.phoneNumberId, channel: c.channel })),
      receivedAt: new Date(),
      state: 'pending',
    };
    // Kept already: Meta's redelivery of a body answered 503 (or never answered). Told again either way:
    // the earlier try may have died between the two writes.
    await keepInboundBody(deps.collections.inboundBodies, doc);
    await deps.conversations.webhookBodyReceived(accountId, doc._id);
  }
  // Said where an operator looks; the messages themselves say `truncated: true`, and escaped keys read as sent (`.` as `．`).
  if (parsed.adjusted) {
    deps.log.warn({ accountId, ...parsed.adjusted }, 'webhook messages over a field limit were recorded within it (cut: truncated: true; keys the store refuses escaped)');
  }
  // A template's status, for a business account of a channel whose app secret signed the body (SPEC section 10).
  const signedWabaIds = new Set(channels.filter((c) => signedBy.has(c.config.appSecret) && c.config.wabaId !== undefined).map((c) => c.config.wabaId!));
  const templateStatuses = parsed.templateStatuses ? await applyTemplateStatuses(deps, accountId, parsed.templateStatuses, signedWabaIds) : 0;
  deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'message' }, messages);
  deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'receipt' }, receipts);
  return {
    messages,
    receipts,
    // Known only once the body is fanned out, after the answer: recorded on its `inbound_bodies` document.
    unmatchedReceipts: null,
    unknownPhoneNumberIds: unknown.length,
    ignored: parsed.ignored,
    templateStatuses,
  };
}

/** What the fan-out uses: the worker's activity builds it (activities/webhook-inbox-activities.ts). */
export type FanOutDeps = Pick<ApiDeps, 'collections' | 'conversations' | 'temporal' | 'taskQueue' | 'temporalCall'>;

/**
 * Fans a kept body out: per conversation in the body's order, a message's media fetch started, then the
 * message (signal-with-start), `fanOut` conversations at once; receipts after. Conversation groups are
 * numbered in the body's order; `resumeFrom` skips the groups an earlier attempt finished (all those
 * below it), and `progress` is told each time that prefix grows. Re-applying an item is harmless anyway
 * (a message id is recorded once, receipts only move forwards).
 */
export async function fanOutWhatsAppBody(
  deps: FanOutDeps,
  body: Pick<InboundBodyDoc, 'accountId' | 'raw' | 'routes'>,
  resumeFrom: number,
  progress: (groupsDone: number) => void,
): Promise<{ messages: number; receipts: number; unmatchedReceipts: number }> {
  const { accountId } = body;
  let parsed;
  try {
    parsed = parseBody(body.raw);
  } catch (error) {
    throw new UnreadableWebhookBody(error instanceof Error ? error.message : String(error));
  }
  const channelOf = new Map(body.routes.map((r) => [r.phoneNumberId, r.channel]));
  const messages = parsed.messages.filter((item) => channelOf.has(item.phoneNumberId));
  // One customer's messages are signalled one after the other, in the body's order (a conversation
  // records signals in the order Temporal accepted them); different customers' go in parallel.
  const byConversation = new Map<string, InboundItem[]>();
  for (const item of messages) {
    const key = `${channelOf.get(item.phoneNumberId)}:${item.customer}`;
    const queue = byConversation.get(key);
    if (queue) queue.push(item);
    else byConversation.set(key, [item]);
  }
  const groups = [...byConversation.values()];
  const finished = groups.map((_, i) => i < resumeFrom);
  let prefix = Math.min(resumeFrom, groups.length);
  await mapLimit(
    groups.map((items, index) => ({ items, index })).slice(prefix),
    fanOut,
    async ({ items, index }) => {
      for (const item of items) {
        const channel = channelOf.get(item.phoneNumberId)!;
        // A file is fetched durably and kept; the message then names it by our id (SPEC section 10).
        await keepInboundMedia(deps, { accountId, channel, phoneNumberId: item.phoneNumberId }, item.message);
        await deliverCustomerMessage(deps, { accountId, channel, customer: item.customer }, item.message);
      }
      finished[index] = true;
      const before = prefix;
      while (prefix < groups.length && finished[prefix]) prefix++;
      if (prefix > before) progress(prefix);
    },
  );
  const receipts = parsed.receipts.filter((item) => channelOf.has(item.phoneNumberId));
  const applied = await mapLimit(receipts, fanOut, (item) =>
    deliverReceipt(
      deps,
      accountId,
      { providerMessageId: item.providerMessageId, status: item.status, at: item.at, error: item.error },
      { channel: channelOf.get(item.phoneNumberId)!, customer: item.recipient },
    ),
  );
  return { messages: messages.length, receipts: receipts.length, unmatchedReceipts: applied.filter((id) => id === null).length };
}
