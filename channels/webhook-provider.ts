/**
 * The webhook provider (SPEC section 7): for backends that send to customers themselves, each outbound
 * message is POSTed to the channel's URL, signed with the channel's secret.
 *
 * What the backend receives, as JSON:
 *   { "type": "message", deliveryId, accountId, channel, customer, conversationId, messageId,
 *     campaignId, kind: "text" | "template", text, template: { name, language?, params? } | null, replyTo }
 * `type` names the envelope so that other kinds of calls can come later without breaking receivers; the
 * rest are the OutboundMessage fields as channels/types.ts documents them, with the content flat
 * (`flatContentOf`: a kind added later brings its own field, and `text`/`template` stay null). Headers:
 *   X-Convoflow-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes with the channel secret>
 *   X-Convoflow-Delivery:  <deliveryId>, the same on every retry, for the backend to deduplicate on.
 * A 2xx answer means sent (its JSON may carry `providerMessageId`, which later receipts name); a 4xx
 * means failed, except 408 and 429, which say "not now" and are retried like 5xx, 3xx and network errors.
 * The contract defines no error body: a refusal is known by its status alone (`http_<status>`), and
 * nothing the backend writes reaches agents. Requests go through channels/outbound-http.ts: https to a
 * public address unless OUTBOUND_ALLOW_PRIVATE, at most 64 KiB of an answer read.
 */
import { createHmac } from 'node:crypto';
import type { FlatContent } from '../workflows/conversation/core/outbound';
import { flatContentOf } from '../workflows/conversation/core/outbound';
import type { OutboundMessage, SendResult, WebhookChannelConfig } from './types';
import type { OutboundAnswer } from './outbound-http';
import { postOutbound } from './outbound-http';
import { transportFailure } from './transport-failure';

export type WebhookDeliveryBody = { type: 'message' } & Omit<OutboundMessage, 'content'> & FlatContent;

/**
 * The body, its fields in the documented order (docs/channels.md): the envelope, the content flat, `replyTo`.
 * Media carries `media.url`, a signed path the backend fetches the file at without a key, and `media.urlExpiresAt`.
 */
export function webhookDeliveryBody(message: OutboundMessage, mediaLink?: { url: string; expiresAt: string }): WebhookDeliveryBody {
  const { content, replyTo, ...envelope } = message;
  const flat = flatContentOf(content);
  if (content.kind === 'media' && mediaLink) Object.assign(flat, { media: { ...content.media, url: mediaLink.url, urlExpiresAt: mediaLink.expiresAt } });
  return { type: 'message', ...envelope, ...flat, replyTo };
}

/** `sha256=<hex>` of the HMAC-SHA256 of the raw body with the secret: what X-Convoflow-Signature carries. */
export function signWebhookBody(rawBody: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

const defaultTimeoutMs = 10_000;

export interface WebhookSendOptions {
  timeoutMs?: number;
  /** OUTBOUND_ALLOW_PRIVATE: the backend may be on a loopback or private address (tests, private deployments). */
  allowPrivate?: boolean;
  /** The HTTP client (tests substitute one); channels/outbound-http.ts by default. */
  post?: typeof postOutbound;
  /** A fresh signed link to a stored file of the account (channels/media-links.ts), for media messages. */
  mediaLink?: (accountId: string, mediaId: string) => Promise<{ url: string; expiresAt: string }>;
}

/**
 * One delivery attempt to the backend. Never throws. What a refusing backend said stays out of the
 * result (it reaches agents): the error is `http_<status>`, `HTTP <status>`, whatever the body holds.
 */
export async function sendWebhook(config: WebhookChannelConfig, message: OutboundMessage, options: WebhookSendOptions = {}): Promise<SendResult> {
  const link = message.content.kind === 'media' && options.mediaLink ? await options.mediaLink(message.accountId, message.content.media.id) : undefined;
  const delivery = webhookDeliveryBody(message, link);
  // Signed and sent as the same bytes: a re-serialization could differ from what was signed.
  const rawBody = Buffer.from(JSON.stringify(delivery), 'utf8');
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  let answer: OutboundAnswer;
  try {
    answer = await (options.post ?? postOutbound)({
      url: config.url,
      headers: {
        'content-type': 'application/json',
        'x-convoflow-signature': signWebhookBody(rawBody, config.secret),
        'x-convoflow-delivery': message.deliveryId,
      },
      body: rawBody,
      timeoutMs,
      allowPrivate: options.allowPrivate ?? false,
    });
  } catch (err) {
    return transportFailure(err);
  }
  // A redirect is the backend's configuration changing under us: retried (and visible) rather than followed.
  const { status } = answer;
  if (status >= 200 && status < 300) return { outcome: 'sent', providerMessageId: providerMessageIdOf(answer.body.toString('utf8')) ?? message.deliveryId };
  const error = { code: `http_${status}`, message: `HTTP ${status}` };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { outcome: 'failed', error };
  const retryAfter = answer.headers['retry-after'];
  const retryAfterMs = retryAfterMsOf(typeof retryAfter === 'string' ? retryAfter : null);
  return retryAfterMs === undefined ? { outcome: 'retry', error } : { outcome: 'retry', error, retryAfterMs };
}

function providerMessageIdOf(text: string): string | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof answer !== 'object' || answer === null) return undefined;
  const id = (answer as { providerMessageId?: unknown }).providerMessageId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Retry-After in seconds; an HTTP date or anything else is ignored (the caller's backoff applies). */
function retryAfterMsOf(value: string | null): number | undefined {
  return value !== null && /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : undefined;
}
