/**
 * Sending through the WhatsApp Cloud API (SPEC section 7): the request body, the call, and the answer
 * read into a SendResult. The access token goes into the authorization header and nowhere else: no
 * result carries it, even when a server echoes it back in an error.
 */
import type { DeliveryError } from '../../workflows/conversation/core/model';
import { randomBytes } from 'node:crypto';
import type { MediaRef, TemplateRef, TemplateSendComponent } from '../../workflows/conversation/core/outbound';
import type { InteractiveMessage } from '../../workflows/conversation/core/interactive';
import type { MediaType } from '../../workflows/conversation/core/media';
import { takesCaption } from '../../workflows/conversation/core/media';
import type { OpenStoredMedia, OutboundMessage, SendResult, WhatsAppChannelConfig } from '../types';
import type { OutboundAnswer } from '../outbound-http';
import { postOutbound } from '../outbound-http';
import { transportFailure } from '../transport-failure';

interface GraphEnvelope {
  messaging_product: 'whatsapp';
  recipient_type: 'individual';
  /** E.164 with the `+`: Graph accepts both, and with it the number cannot be read as something else. */
  to: string;
  context?: { message_id: string };
}

export type GraphMessageBody = GraphEnvelope &
  (
    | { type: 'text'; text: { body: string; preview_url: false } }
    | {
        type: 'template';
        template: { name: string; language: { code: string }; components: GraphTemplateComponent[] };
      }
    | { type: 'interactive'; interactive: GraphInteractive }
    | GraphMediaMessage
  );

/** A template component as the Cloud API takes it: Graph documents `index` as a string. */
export type GraphTemplateComponent = Omit<TemplateSendComponent, 'index'> & { index?: string };

/**
 * A template's components for Graph: the body's `params` shorthand as a body component, then the
 * components the send gave (the API refuses both for one body when it knows the template; for one it
 * does not know, both go and Graph judges).
 */
export function graphTemplateComponents(template: TemplateRef): GraphTemplateComponent[] {
  const params = template.params ?? [];
  const components: GraphTemplateComponent[] = params.length > 0 ? [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] : [];
  for (const { index, ...component } of template.components ?? []) components.push(index === undefined ? component : { ...component, index: String(index) });
  return components;
}

/** Meta's interactive object for reply buttons and lists (SPEC 10): the body wrapped, the choices in `action`. */
export type GraphInteractive =
  | { type: 'button'; body: { text: string }; action: { buttons: { type: 'reply'; reply: { id: string; title: string } }[] } }
  | {
      type: 'list';
      body: { text: string };
      action: { button: string; sections: { title?: string; rows: { id: string; title: string; description?: string }[] }[] };
    };

/** Ours to Meta's: the same fields, under the names and wrappers the Cloud API wants. */
export function graphInteractiveOf(message: InteractiveMessage): GraphInteractive {
  switch (message.type) {
    case 'button':
      return {
        type: 'button',
        body: { text: message.body },
        action: { buttons: message.buttons.map(({ id, title }) => ({ type: 'reply', reply: { id, title } })) },
      };
    case 'list':
      return {
        type: 'list',
        body: { text: message.body },
        action: {
          button: message.button,
          sections: message.sections.map((section) => ({
            ...(section.title === undefined ? {} : { title: section.title }),
            rows: section.rows.map(({ id, title, description }) => (description === undefined ? { id, title } : { id, title, description })),
          })),
        },
      };
  }
}

/** A media object sent by the id Graph gave the upload; `caption` and `filename` only where WhatsApp shows them. */
export interface GraphMediaObject {
  id: string;
  caption?: string;
  filename?: string;
}

/** `{ type: 'image', image: { id, caption? } }` and its kin: the object under the key its type names. */
export type GraphMediaMessage = { [T in MediaType]: { type: T } & { [K in T]: GraphMediaObject } }[MediaType];

/**
 * The Cloud API send body for one message: the envelope, and one case per kind of content (a new kind
 * does not compile until it has one). Throws for a message that cannot be sent as it is (a text without
 * text).
 */
export function graphMessageBody(message: OutboundMessage, uploadedMediaId?: string): GraphMessageBody {
  const envelope: GraphEnvelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: `+${message.customer}` };
  if (message.replyTo) envelope.context = { message_id: message.replyTo };
  const { content } = message;
  switch (content.kind) {
    case 'text':
      if (!content.text) throw new Error(`message ${message.messageId} is a text without text`);
      // Link previews would fetch customer-visible content we did not choose; replies go as typed.
      return { ...envelope, type: 'text', text: { body: content.text, preview_url: false } };
    case 'template': {
      const { template } = content;
      if (!template?.name) throw new Error(`message ${message.messageId} is a template without a template name`);
      return {
        ...envelope,
        type: 'template',
        template: { name: template.name, language: { code: template.language ?? 'en_US' }, components: graphTemplateComponents(template) },
      };
    }
    case 'interactive':
      // The API checked Meta's limits (core/interactive.ts); an older value without a body is not sendable.
      if (!content.interactive?.body) throw new Error(`message ${message.messageId} is an interactive message without a body`);
      return { ...envelope, type: 'interactive', interactive: graphInteractiveOf(content.interactive) };
    case 'media': {
      // Sent by the id the upload to the number answered (sendWhatsApp uploads first).
      if (!uploadedMediaId) throw new Error(`message ${message.messageId} is media that was not uploaded`);
      const { mediaType, caption, filename } = content.media;
      const object: GraphMediaObject = { id: uploadedMediaId };
      if (caption !== undefined && takesCaption(mediaType)) object.caption = caption;
      if (filename !== undefined && mediaType === 'document') object.filename = filename;
      return { ...envelope, type: mediaType, [mediaType]: object } as GraphMessageBody;
    }
  }
}

/**
 * Within the `deliver` activity's 30 s start-to-close (delivery-options.ts), which would otherwise end the
 * attempt first: 16 MB in 25 s needs 5 Mbit/s, 100 MB 32 Mbit/s. To-do: heartbeats and a longer timeout
 * for large documents.
 */
const defaultUploadTimeoutMs = 25_000;

/**
 * Uploads a stored file to the channel's number (`POST /{phoneNumberId}/media`, multipart, as the Cloud
 * API takes it), streamed from the store: answers Graph's media id, or the SendResult of a failed upload
 * (classified like a send: a missing file is final, a 5xx or a network error is tried again).
 */
export async function uploadToNumber(
  config: WhatsAppChannelConfig,
  message: OutboundMessage,
  media: MediaRef,
  options: { graphUrl: string; openMedia?: OpenStoredMedia; timeoutMs?: number; post?: typeof postOutbound },
): Promise<{ id: string } | SendResult> {
  const file = await options.openMedia?.(message.accountId, media.id);
  if (!file) return { outcome: 'failed', error: { code: 'media_missing', message: `media ${media.id} is not stored` } };
  const boundary = `convoflow-${randomBytes(16).toString('hex')}`;
  const name = (media.filename ?? file.filename ?? `${media.id}`).replace(/[\r\n"]/g, '_');
  const field = (key: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(
    field('messaging_product', 'whatsapp') +
      field('type', file.mimeType) +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${file.mimeType}\r\n\r\n`,
    'utf8',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  const url = `${options.graphUrl.replace(/\/+$/, '')}/${encodeURIComponent(config.apiVersion)}/${encodeURIComponent(config.phoneNumberId)}/media`;
  let response: OutboundAnswer;
  try {
    response = await (options.post ?? postOutbound)({
      url,
      headers: { authorization: `Bearer ${config.accessToken}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Buffer.alloc(0),
      bodyStream: {
        length: head.length + file.size + tail.length,
        async *chunks() {
          yield head;
          yield* file.chunks();
          yield tail;
        },
      },
      timeoutMs: options.timeoutMs ?? defaultUploadTimeoutMs,
      allowPrivate: true,
    });
  } catch (err) {
    return transportFailure(err);
  }
  const text = response.body.toString('utf8');
  const answer = parseJson(text);
  if (response.status >= 200 && response.status < 300) {
    const id = isRecord(answer) ? nonEmptyString(answer.id) : undefined;
    return id !== undefined ? { id } : { outcome: 'retry', error: { code: 'malformed_response', message: `HTTP ${response.status} without a media id` } };
  }
  const retryAfter = response.headers['retry-after'];
  return classifyGraphError(response.status, answer ?? text, typeof retryAfter === 'string' ? retryAfter : null);
}

/**
 * Graph codes worth another try: unknown or temporary service errors (1, 2, 131000, 131016, 133004),
 * throttling of the app, the account, the number or the pair (4, 80007, 130429, 131048, 131056), and
 * maintenance (131057). Any other code on a 4xx is final.
 */
const transientCodes: ReadonlySet<number> = new Set([1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 131057, 133004]);

/**
 * Reads a non-2xx Graph answer: 5xx, 429 and the transient codes are `retry` (with the Retry-After
 * header's seconds, if given), any other 4xx is `failed`. The code is Graph's integer code when the
 * body has one, else the HTTP status. The message is ours (status and code): Graph's own text, like
 * anything a remote server writes, never reaches agents (SPEC section 12).
 */
export function classifyGraphError(httpStatus: number, body: unknown, retryAfter?: string | number | null): SendResult {
  const graph = graphErrorOf(typeof body === 'string' ? parseJson(body) : body);
  const error: DeliveryError = {
    code: graph.code ?? httpStatus,
    message: graph.code === undefined ? `HTTP ${httpStatus}` : `HTTP ${httpStatus}, Graph error ${graph.code}`,
  };
  const permanent = httpStatus >= 400 && httpStatus < 500 && httpStatus !== 429 && !(graph.code !== undefined && transientCodes.has(graph.code));
  if (permanent) return { outcome: 'failed', error };
  // Not 4xx and not 2xx (a 3xx: we follow no redirects, so the token never leaves for another host): try again later.
  const retryAfterMs = retryAfterMsOf(retryAfter);
  return retryAfterMs === undefined ? { outcome: 'retry', error } : { outcome: 'retry', error, retryAfterMs };
}

const defaultTimeoutMs = 10_000;

/**
 * One send attempt: `sent` with Graph's message id (wamid), or what classifyGraphError makes of the
 * answer, or `retry` for network errors (`network`), no answer in time (`timeout`) and a 2xx without a
 * message id (`malformed_response`). Never throws. WHATSAPP_GRAPH_URL is the operator's own setting, so
 * its address is not judged (tests run a fake on loopback); its answers are capped at 64 KiB like any.
 */
export async function sendWhatsApp(
  config: WhatsAppChannelConfig,
  message: OutboundMessage,
  options: { graphUrl: string; timeoutMs?: number; post?: typeof postOutbound; openMedia?: OpenStoredMedia; uploadTimeoutMs?: number },
): Promise<SendResult> {
  // Media goes up to the number first, then is sent by the id Graph gave it (SPEC section 10). A retried
  // attempt uploads again: Graph keeps an upload 30 days, but a new one costs only time.
  let uploadedMediaId: string | undefined;
  if (message.content.kind === 'media') {
    const uploaded = await uploadToNumber(config, message, message.content.media, { ...options, timeoutMs: options.uploadTimeoutMs });
    if ('outcome' in uploaded) return withoutSecret(uploaded, config.accessToken);
    uploadedMediaId = uploaded.id;
  }
  let body: GraphMessageBody;
  try {
    body = graphMessageBody(message, uploadedMediaId);
  } catch (err) {
    // Sending it again would build the same body: final.
    return { outcome: 'failed', error: { code: 'invalid_message', message: (err as Error).message } };
  }
  const url = `${options.graphUrl.replace(/\/+$/, '')}/${encodeURIComponent(config.apiVersion)}/${encodeURIComponent(config.phoneNumberId)}/messages`;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const result = await attempt(options.post ?? postOutbound, url, config.accessToken, body, timeoutMs);
  return withoutSecret(result, config.accessToken);
}

async function attempt(post: typeof postOutbound, url: string, accessToken: string, body: GraphMessageBody, timeoutMs: number): Promise<SendResult> {
  let response: OutboundAnswer;
  try {
    response = await post({
      url,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(body), 'utf8'),
      // Covers reading the answer too: a server that sends headers and then stalls is a timeout as well.
      timeoutMs,
      allowPrivate: true,
    });
  } catch (err) {
    return transportFailure(err);
  }
  const text = response.body.toString('utf8');
  const answer = parseJson(text);
  if (response.status >= 200 && response.status < 300) {
    const id = messageIdOf(answer);
    if (id !== undefined) return { outcome: 'sent', providerMessageId: id };
    // Graph took it but did not say under which id; without one no receipt can be matched. Trying again
    // may send twice, which beats a message whose delivery can never be known.
    return { outcome: 'retry', error: { code: 'malformed_response', message: `HTTP ${response.status} without a message id` } };
  }
  const retryAfter = response.headers['retry-after'];
  return classifyGraphError(response.status, answer ?? text, typeof retryAfter === 'string' ? retryAfter : null);
}

/**
 * SPEC 10: marks a customer's message (and so every earlier one) read at WhatsApp, and with `typing`
 * also shows the typing indicator, which WhatsApp dismisses at the next message or after 25 seconds.
 * Meta's one request does both: the indicator always marks the message read too.
 */
export function graphReadBody(providerMessageId: string, typing: boolean): GraphReadBody {
  const body: GraphReadBody = { messaging_product: 'whatsapp', status: 'read', message_id: providerMessageId };
  if (typing) body.typing_indicator = { type: 'text' };
  return body;
}

export interface GraphReadBody {
  messaging_product: 'whatsapp';
  status: 'read';
  message_id: string;
  typing_indicator?: { type: 'text' };
}

/** What one read (or typing) request came to: done, or what classifyGraphError makes of a refusal. */
export type ReadResult = { outcome: 'done' } | Exclude<SendResult, { outcome: 'sent' }>;

/**
 * One read (or typing) request to `POST /{phoneNumberId}/messages`. Never throws; the token only in the
 * authorization header, as for sends. Graph answers `{ success: true }`, no message id.
 */
export async function markReadWhatsApp(
  config: WhatsAppChannelConfig,
  request: { providerMessageId: string; typing: boolean },
  options: { graphUrl: string; timeoutMs?: number; post?: typeof postOutbound },
): Promise<ReadResult> {
  const url = `${options.graphUrl.replace(/\/+$/, '')}/${encodeURIComponent(config.apiVersion)}/${encodeURIComponent(config.phoneNumberId)}/messages`;
  let response: OutboundAnswer;
  try {
    response = await (options.post ?? postOutbound)({
      url,
      headers: { authorization: `Bearer ${config.accessToken}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(graphReadBody(request.providerMessageId, request.typing)), 'utf8'),
      timeoutMs: options.timeoutMs ?? defaultTimeoutMs,
      allowPrivate: true,
    });
  } catch (err) {
    return withoutSecret(transportFailure(err), config.accessToken) as ReadResult;
  }
  if (response.status >= 200 && response.status < 300) return { outcome: 'done' };
  const text = response.body.toString('utf8');
  const retryAfter = response.headers['retry-after'];
  return withoutSecret(classifyGraphError(response.status, parseJson(text) ?? text, typeof retryAfter === 'string' ? retryAfter : null), config.accessToken) as ReadResult;
}

/** Belt and braces: whatever a server or a custom fetch put in a message, the token does not leave here. */
function withoutSecret(result: SendResult, secret: string): SendResult {
  if (result.outcome === 'sent' || !secret || !result.error.message.includes(secret)) return result;
  return { ...result, error: { ...result.error, message: result.error.message.split(secret).join('[redacted]') } };
}

/** Graph's integer error code, the one part of its error body that is shown (its texts are not). */
function graphErrorOf(body: unknown): { code?: number } {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  return error && Number.isInteger(error.code) ? { code: error.code as number } : {};
}

function messageIdOf(answer: unknown): string | undefined {
  if (!isRecord(answer) || !Array.isArray(answer.messages)) return undefined;
  const first: unknown = answer.messages[0];
  return isRecord(first) ? nonEmptyString(first.id) : undefined;
}

/** Retry-After in seconds, as Graph sends it; an HTTP date or anything else is ignored (the caller's backoff applies). */
function retryAfterMsOf(value: string | number | null | undefined): number | undefined {
  const seconds = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
