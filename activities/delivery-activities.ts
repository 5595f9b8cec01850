import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import type { ChannelConfig, LegacyOutboundMessage, OpenStoredMedia, OutboundMessage, SendResult } from '../channels/types';
import { sendWebhook } from '../channels/webhook-provider';
import { sendWhatsApp } from '../channels/whatsapp/graph';
import { channelForSending } from '../store/channels';
import { collections, insertOnce } from '../store/collections';
import { findMedia, readMedia } from '../store/media';
import { cachedMediaLinkKey } from '../store/media-link-key';
import { mediaLinkLifetimeMs, mediaLinkPath } from '../channels/media-links';
import type { SecretBox } from '../store/secret-box';
import { SecretsKeyError } from '../store/secret-box';
import { providerMessageDocId } from '../store/ids';
import type { SendOutcome } from '../workflows/conversation/core/lifecycle';
import { flatContentOf, withContent } from '../workflows/conversation/core/outbound';
import type { ChannelProvider } from './channel-provider';
import { createRecordingChannelProvider } from './channel-provider';

export interface DeliveryActivities {
  /**
   * Sends one message through its channel's provider. Answers `sent` (with the provider's id) or
   * `failed` (permanent, with the provider's code); a transient failure throws, and Temporal retries
   * with backoff. Safe to retry: a message the provider already accepted is not sent again. Takes the
   * input older workers scheduled too (the content flat, `LegacyOutboundMessage`).
   */
  deliver(message: OutboundMessage | LegacyOutboundMessage): Promise<SendOutcome>;
}

export interface DeliveryActivityDeps {
  db: Db;
  log: Logger;
  /** Base URL of the Graph API (`WHATSAPP_GRAPH_URL`). */
  graphUrl: string;
  /** How long one provider request may take before it counts as a transient failure. */
  sendTimeoutMs?: number;
  /** Where a channel without configuration (or `recording`) puts its messages. */
  recording?: ChannelProvider;
  /** Opens channel secrets (SECRETS_KEY); none: they are read as stored. */
  secrets?: SecretBox;
  /** OUTBOUND_ALLOW_PRIVATE: webhook sends may go to plain http and to private or loopback addresses. */
  allowPrivate?: boolean;
  /** Counts sends by provider and outcome (the worker's metrics). */
  onSend?: (provider: ChannelConfig['provider'], outcome: SendResult['outcome']) => void;
}

/** A transient send failure: Temporal retries the activity, after the provider's Retry-After if it gave one. */
export const retryableSendFailureType = 'send_retry';

export function createDeliveryActivities({ db, log, graphUrl, sendTimeoutMs = 10_000, recording, secrets, allowPrivate = false, onSend }: DeliveryActivityDeps): DeliveryActivities {
  const c = collections(db, { secrets });
  const recorder = recording ?? createRecordingChannelProvider(c);
  // The webhook provider's media: a signed path, valid a day from this attempt (channels/media-links.ts).
  const linkKey = cachedMediaLinkKey(db, secrets);
  const mediaLink = async (accountId: string, mediaId: string) => {
    const expires = Math.floor((Date.now() + mediaLinkLifetimeMs) / 1000);
    return { url: mediaLinkPath({ accountId, mediaId, expires }, await linkKey()), expiresAt: new Date(expires * 1000).toISOString() };
  };
  // A reply's media, read from the store as WhatsApp's upload streams it (store/media.ts).
  const openMedia: OpenStoredMedia = async (accountId, mediaId) => {
    const doc = await findMedia(c.media, accountId, mediaId);
    return doc && { size: doc.size, mimeType: doc.mimeType, filename: doc.filename, chunks: () => readMedia(c.media, doc) };
  };

  const sendThrough = async (config: ChannelConfig, message: OutboundMessage): Promise<SendResult> => {
    switch (config.provider) {
      case 'recording':
        // The content whole (flat, as the document has always been): a new kind's fields are recorded too.
        await recorder.send({
          _id: message.deliveryId,
          accountId: message.accountId,
          channel: message.channel,
          customer: message.customer,
          conversationId: message.conversationId,
          campaignId: message.campaignId,
          ...flatContentOf(message.content),
        });
        return { outcome: 'sent', providerMessageId: `recorded.${message.deliveryId}` };
      case 'whatsapp_cloud':
        return sendWhatsApp(config, message, { graphUrl, timeoutMs: sendTimeoutMs, openMedia });
      case 'webhook':
        return sendWebhook(config, message, { timeoutMs: sendTimeoutMs, allowPrivate, mediaLink });
    }
  };

  /** Where a receipt for `providerMessageId` finds its message (api/inbound.ts). */
  const providerMessageDoc = (message: OutboundMessage, providerMessageId: string) => ({
    _id: providerMessageDocId(message.accountId, providerMessageId),
    accountId: message.accountId,
    providerMessageId,
    deliveryId: message.deliveryId,
    conversationId: message.conversationId,
    messageId: message.messageId,
  });

  return {
    async deliver(input) {
      // An attempt scheduled by an older worker (or a campaign started by an older API) carries the flat shape.
      const message: OutboundMessage = withContent(input);
      // Both reads at once (one round trip of the store's time, not two). An earlier attempt that the
      // provider accepted, but that died before Temporal heard back, is answered from its record; its
      // receipt index is written again (insert-once), in case that attempt died between the two writes.
      // Secrets are opened here, for this send only; a wrong SECRETS_KEY throws (naming the channel, not
      // the secret) and the activity is retried until the operator fixes the key.
      const [earlier, channel] = await Promise.allSettled([c.sends.findOne({ _id: message.deliveryId }), channelForSending(c, message.accountId, message.channel)]);
      if (earlier.status === 'rejected') throw earlier.reason;
      if (earlier.value) {
        await insertOnce(c.providerMessages, [providerMessageDoc(message, earlier.value.providerMessageId)]);
        return { outcome: 'sent', providerMessageId: earlier.value.providerMessageId };
      }
      if (channel.status === 'rejected') {
        if (channel.reason instanceof SecretsKeyError) log.error({ accountId: message.accountId, channel: message.channel, err: channel.reason }, 'channel secrets do not open: check SECRETS_KEY');
        throw channel.reason;
      }
      const config: ChannelConfig = channel.value ?? { provider: 'recording' };
      const result = await sendThrough(config, message);
      onSend?.(config.provider, result.outcome);
      const where = { conversationId: message.conversationId, messageId: message.messageId, provider: config.provider };
      switch (result.outcome) {
        case 'sent': {
          // Recorded at once: the window in which a dying worker makes a retry send twice is this write.
          // The receipt index beside it (both insert-once; a retry that finds the send writes it again).
          const { providerMessageId } = result;
          await Promise.all([
            insertOnce(c.sends, [
              { _id: message.deliveryId, accountId: message.accountId, conversationId: message.conversationId, messageId: message.messageId, providerMessageId, sentAt: new Date() },
            ]),
            insertOnce(c.providerMessages, [providerMessageDoc(message, providerMessageId)]),
          ]);
          return result;
        }
        case 'failed':
          log.warn({ ...where, code: result.error.code }, 'message not delivered: the provider refused it');
          return result;
        case 'retry':
          log.info({ ...where, code: result.error.code }, 'send failed for now; retrying');
          throw ApplicationFailure.create({
            type: retryableSendFailureType,
            message: `${result.error.code}: ${result.error.message}`,
            nextRetryDelay: result.retryAfterMs,
          });
      }
    },
  };
}
