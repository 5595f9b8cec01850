/**
 * What crosses the boundary between convoflow and a channel provider, in both directions. Plain data
 * only: the workflow learns outcomes (sent, failed with a code), never provider details.
 */
import type { CustomerMessagePayload } from '../workflows/conversation/messages';
import type { DeliveryError, DeliveryStatus } from '../workflows/conversation/core/model';
import type { LegacyContentFields, OutboundContent } from '../workflows/conversation/core/outbound';

/** One customer message found in a provider's webhook body, addressed by the provider's number id. */
export interface InboundItem {
  /** WhatsApp's `metadata.phone_number_id`: which of the account's channels it came to. */
  phoneNumberId: string;
  /** The customer's WhatsApp id (`from`): digits, no `+`. */
  customer: string;
  message: CustomerMessagePayload;
}

/** One delivery receipt (`statuses[]` item) found in a provider's webhook body. */
export interface ReceiptItem {
  phoneNumberId: string;
  /** The customer it was sent to (`recipient_id`). */
  recipient: string;
  providerMessageId: string;
  status: Exclude<DeliveryStatus, 'queued'>;
  /** When the provider says it happened, ISO-8601. */
  at?: string;
  error?: DeliveryError;
}

/** One `message_template_status_update` change: Meta's event for a template of a business account. */
export interface TemplateStatusItem {
  /** The entry's id: the WhatsApp Business Account the template belongs to. */
  wabaId: string;
  name: string;
  language: string;
  /** Meta's event, upper case: `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `REINSTATED`, ... */
  event: string;
}

export interface ParsedWebhook {
  messages: InboundItem[];
  receipts: ReceiptItem[];
  /** Template status updates; present only when the body holds some (SPEC section 10). */
  templateStatuses?: TemplateStatusItem[];
  /** Changes of a field other than `messages` (account updates, templates...): counted, not applied. */
  ignored: number;
}

/** A message to send, whatever the provider: who and where (the envelope), and the content, whole. */
export interface OutboundMessage {
  /** Stable across retries: `X-Convoflow-Delivery` for the webhook provider, the dedupe key for sends. */
  deliveryId: string;
  accountId: string;
  channel: string;
  /** The customer's WhatsApp id, digits, no `+`. */
  customer: string;
  /** Null for campaign sends, which belong to no conversation. */
  conversationId: string | null;
  messageId: string;
  campaignId: string | null;
  /** The union the API built, unchanged (workflows/conversation/core/outbound.ts). */
  content: OutboundContent;
  /** The provider message id this one replies to (WhatsApp `context.message_id`), if any. */
  replyTo: string | null;
}

/**
 * The `deliver` activity's input as older workers scheduled it (and the campaign workflow's input as
 * older API processes started it): the content's fields flat in the envelope. The activity reads both
 * (`withContent`).
 */
export type LegacyOutboundMessage = Omit<OutboundMessage, 'content'> & LegacyContentFields;

/**
 * What one send attempt came to. `retry` is transient (network, 5xx, rate limits): the caller backs off
 * and tries again; `failed` is permanent and final for this message.
 */
export type SendResult =
  | { outcome: 'sent'; providerMessageId: string }
  | { outcome: 'failed'; error: DeliveryError }
  | { outcome: 'retry'; error: DeliveryError; retryAfterMs?: number };

/** WhatsApp Cloud API settings of one channel, as stored (secrets included: never returned or logged). */
export interface WhatsAppChannelConfig {
  provider: 'whatsapp_cloud';
  phoneNumberId: string;
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  /** Graph API version such as `v21.0`. */
  apiVersion: string;
  /** The WhatsApp Business Account id, digits: where the template registry's sync reads templates (SPEC section 10). */
  wabaId?: string;
}

export interface WebhookChannelConfig {
  provider: 'webhook';
  url: string;
  secret: string;
}

export interface RecordingChannelConfig {
  provider: 'recording';
}

export type ChannelConfig = WhatsAppChannelConfig | WebhookChannelConfig | RecordingChannelConfig;

/**
 * The bytes of a stored file (store/media.ts), for a provider that must upload them before sending
 * (WhatsApp). `chunks` reads them afresh on each call, one chunk at a time.
 */
export interface StoredMediaFile {
  size: number;
  mimeType: string;
  filename: string | null;
  chunks: () => AsyncIterable<Buffer>;
}

/** Opens a stored file of an account; undefined when it is not there (deleted, or never stored). */
export type OpenStoredMedia = (accountId: string, mediaId: string) => Promise<StoredMediaFile | undefined>;
