import type { OutboundMessage } from '../channels/types';
import { recordCampaignContact } from '../store/contacts';
import { providerMessageDocId } from '../store/ids';
import type { TemplateRef } from '../workflows/conversation/core/model';
import type { ConversationRef, CustomerMessagePayload, DeliveryStatusPayload } from '../workflows/conversation/messages';
import { conversationWorkflowId, parseConversationId } from '../workflows/conversation/messages';
import { campaignSendWorkflowId } from '../workflows/campaign/ids';
import type { CustomerEvent } from './conversation-gateway';
import type { ApiDeps } from './deps';

/**
 * What channels and backend services send in (api/DESIGN.md): customer messages, delivery receipts,
 * customer events and campaign sends. Shared by `POST .../messages`, `.../delivery-statuses`,
 * `.../customer-events`, `.../campaign-messages` and the WhatsApp webhook, so each starts and reaches
 * conversations the same way.
 */

/** Delivers a customer message to its conversation, starting it if needed (signal-with-start); answers its id. */
export function deliverCustomerMessage(deps: Pick<ApiDeps, 'conversations'>, ref: ConversationRef, message: CustomerMessagePayload): Promise<string> {
  return deps.conversations.customerMessage(ref, message);
}

/**
 * Tells a conversation about a receipt. The message is found by the provider's id (recorded when the
 * provider accepted it); a receipt that overtook that record goes to the conversation of the recipient,
 * which holds on to it until its send reports. Answers the conversation, or null when none has it.
 */
export async function deliverReceipt(
  deps: Pick<ApiDeps, 'collections' | 'conversations'>,
  accountId: string,
  receipt: DeliveryStatusPayload,
  fallback: { channel: string; customer: string } | null,
): Promise<string | null> {
  const known = await deps.collections.providerMessages.findOne({ _id: providerMessageDocId(accountId, receipt.providerMessageId) });
  // A campaign message belongs to no conversation: its receipts have nowhere to go.
  if (known && known.conversationId === null) return null;
  const conversationId = known?.conversationId ?? (fallback && fallback.customer !== '' ? conversationWorkflowId({ accountId, ...fallback }) : null);
  if (conversationId === null || parseConversationId(conversationId)?.accountId !== accountId) return null;
  return (await deps.conversations.deliveryStatus(conversationId, receipt)) ? conversationId : null;
}

/** The customer left (seed 004) or answered the satisfaction survey (seed 002); answers the conversation's id. */
export async function deliverCustomerEvent(deps: ApiDeps, ref: ConversationRef, event: CustomerEvent): Promise<string> {
  const conversationId = conversationWorkflowId(ref);
  await deps.conversations.customerEvent(conversationId, event);
  return conversationId;
}

/**
 * Sends a campaign template, durably, by its own workflow; the same campaign, channel and customer again
 * sends nothing more. The customer becomes a contact of the account ("not contacted" until they write).
 */
export async function sendCampaignMessage(
  deps: ApiDeps,
  accountId: string,
  send: { campaignId: string; channel: string; customer: string; template: TemplateRef },
): Promise<{ campaignId: string; sendId: string }> {
  const sendId = campaignSendWorkflowId({ accountId, ...send });
  await recordCampaignContact(deps.collections, { accountId, channel: send.channel, customer: send.customer });
  const message: OutboundMessage = {
    deliveryId: sendId,
    accountId,
    channel: send.channel,
    customer: send.customer,
    conversationId: null,
    messageId: sendId,
    campaignId: send.campaignId,
    content: { kind: 'template', template: send.template },
    replyTo: null,
  };
  await deps.conversations.startCampaignSend(sendId, message);
  return { campaignId: send.campaignId, sendId };
}
