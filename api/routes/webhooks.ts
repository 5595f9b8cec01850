import { timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { InboundItem, ReceiptItem } from '../../channels/types';
import { WebhookPayloadError, parseWhatsAppWebhook, verifyMetaSignature } from '../../channels/whatsapp/webhook';
import { mapLimit } from '../../infra/map-limit';
import type { ChannelDoc } from '../../store/collections';
import type { CustomerMessagePayload, DeliveryStatusPayload } from '../../workflows/conversation/messages';
import {
  conversationWorkflowId,
  conversationWorkflowType,
  customerMessageSignal,
  deliveryStatusSignal,
  parseConversationId,
} from '../../workflows/conversation/messages';
import type { conversationWorkflow } from '../../workflows/conversation/workflow';
import { accountIdKey } from '../../workflows/conversation/search-attributes';
import type { ApiDeps } from '../deps';
import { ApiError } from '../errors';
import { defineRoute } from '../route';
import * as r from '../conversation-responses';
import * as s from '../schemas';
import { storedPolicyVersion } from './accounts';
import { whatsappChannels } from './channels';

/** Calls to Temporal one webhook body makes at once: a batch of 1,000 items must not open 1,000 calls. */
const fanOut = 32;

/**
 * Delivers a customer message to its conversation, starting it if needed (signal-with-start). Shared by
 * `POST .../messages` and the WhatsApp webhook, so both start conversations the same way.
 */
export async function deliverCustomerMessage(
  deps: ApiDeps,
  ref: { accountId: string; channel: string; customer: string },
  unstamped: CustomerMessagePayload,
): Promise<string> {
  const workflowId = conversationWorkflowId(ref);
  const message: CustomerMessagePayload = { ...unstamped, policyVersion: await storedPolicyVersion(deps, ref.accountId) };
  await deps.temporalCall('signalWithStart', () =>
    deps.temporal.workflow.signalWithStart<typeof conversationWorkflow, [CustomerMessagePayload]>(conversationWorkflowType, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [ref],
      signal: customerMessageSignal,
      signalArgs: [message],
      typedSearchAttributes: [{ key: accountIdKey, value: ref.accountId }],
      // Shown in the Temporal UI's list and header; the live state is in the workflow's current details.
      staticSummary: `Conversation with ${ref.customer} on ${ref.channel} (account ${ref.accountId})`,
    }),
  );
  return workflowId;
}

/**
 * Tells a conversation about a receipt. The message is found by the provider's id (recorded when the
 * provider accepted it); a receipt that overtook that record goes to the conversation of the recipient,
 * which holds on to it until its send reports. Answers the conversation, or null when none has it.
 */
export async function deliverReceipt(
  deps: ApiDeps,
  accountId: string,
  receipt: DeliveryStatusPayload,
  fallback: { channel: string; customer: string } | null,
): Promise<string | null> {
  const known = await deps.collections.providerMessages.findOne({ _id: `${accountId}/${receipt.providerMessageId}` });
  // A campaign message belongs to no conversation: its receipts have nowhere to go.
  if (known && known.conversationId === null) return null;
  const conversationId = known?.conversationId ?? (fallback && fallback.customer !== '' ? conversationWorkflowId({ accountId, ...fallback }) : null);
  if (conversationId === null || parseConversationId(conversationId)?.accountId !== accountId) return null;
  try {
    await deps.temporalCall('deliveryStatus', () => deps.temporal.workflow.getHandle(conversationId).signal(deliveryStatusSignal, receipt));
    return conversationId;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

type WhatsAppChannel = Awaited<ReturnType<typeof whatsappChannels>>[number];

/** SPEC section 7, "WhatsApp Cloud API in": Meta's verification handshake and its signed deliveries. */
export const webhookRoutes = [
  defineRoute({
    method: 'get',
    path: '/webhooks/whatsapp/{accountId}',
    summary: "Meta's webhook verification: answers hub.challenge when hub.verify_token is one of the account's WhatsApp channels'",
    query: s.whatsappHandshake,
    handler: async ({ deps, params, query, res }) => {
      const token = query['hub.verify_token'];
      const channels = await whatsappChannels(deps, params.accountId!);
      const matches = token !== undefined && channels.some((c) => sameSecret(token, c.config.verifyToken));
      if (query['hub.mode'] !== 'subscribe' || !matches || query['hub.challenge'] === undefined) {
        throw new ApiError({ code: 'forbidden', message: 'verification failed: wrong hub.mode or hub.verify_token' });
      }
      res.status(200).type('text/plain').send(query['hub.challenge']);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/webhooks/whatsapp/{accountId}',
    summary: "Meta's webhook: customer messages and delivery receipts, signed with the app secret (X-Hub-Signature-256)",
    rawBody: true,
    response: r.webhookAck,
    handler: async ({ deps, params, req }) => {
      const accountId = params.accountId!;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const channels = await whatsappChannels(deps, accountId);
      const header = req.header('x-hub-signature-256');
      // Checked before anything is parsed. Channels of one Meta app share its secret; any may match.
      const signedBy = new Set(channels.filter((c) => verifyMetaSignature(raw, header, c.config.appSecret)).map((c) => c.config.appSecret));
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
      const byNumber = new Map<string, WhatsAppChannel>(channels.filter((c) => signedBy.has(c.config.appSecret)).map((c) => [c.config.phoneNumberId, c]));
      const channelOf = (item: InboundItem | ReceiptItem): ChannelDoc | undefined => byNumber.get(item.phoneNumberId);
      const unknown = [...parsed.messages, ...parsed.receipts].filter((item) => !channelOf(item));
      if (unknown.length > 0) {
        deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'unknown_number' }, unknown.length);
        deps.log.warn({ accountId, items: unknown.length, phoneNumberIds: [...new Set(unknown.map((i) => i.phoneNumberId))] }, 'webhook items for a phone number id the account does not have');
      }
      // 200 only once every item is accepted by Temporal (durable); any failure answers 503 and Meta
      // delivers the whole body again, which is harmless: each item is applied once.
      const messages = parsed.messages.filter((item) => channelOf(item));
      await mapLimit(messages, fanOut, (item) => deliverCustomerMessage(deps, { accountId, channel: channelOf(item)!.channel, customer: item.customer }, item.message));
      const receipts = parsed.receipts.filter((item) => channelOf(item));
      const applied = await mapLimit(receipts, fanOut, (item) =>
        deliverReceipt(
          deps,
          accountId,
          { providerMessageId: item.providerMessageId, status: item.status, at: item.at, error: item.error },
          { channel: channelOf(item)!.channel, customer: item.recipient },
        ),
      );
      deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'message' }, messages.length);
      deps.metrics.webhookItems.inc({ provider: 'whatsapp_cloud', outcome: 'receipt' }, receipts.length);
      return {
        messages: messages.length,
        receipts: receipts.length,
        unmatchedReceipts: applied.filter((id) => id === null).length,
        unknownPhoneNumberIds: unknown.length,
        ignored: parsed.ignored,
      };
    },
  }),
];
