/**
 * WhatsApp Cloud API webhooks in (SPEC section 7): the signature check Meta asks for, and the body read
 * into the provider-neutral items of channels/types.ts. IO-free: the route reads the raw body, checks
 * the signature, then parses; what to do with each item is the caller's business.
 *
 * Strict about what an item cannot be applied without (the entry array, `metadata.phone_number_id`, a
 * message's id, sender and type, a status's id): the whole body is rejected with WebhookPayloadError.
 * Lenient about everything else, because Meta adds fields and types without notice: an optional field
 * that is missing or odd is left out, and a message whose type-specific part cannot be read is kept as
 * `unsupported` rather than lost, since it still is a customer writing in.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CustomerMessagePayload } from '../../workflows/conversation/messages';
import type { DeliveryError, InboundKind, MessageContent } from '../../workflows/conversation/core/model';
import { clampCustomerMessage, maxJsonDepth, maxWebhookItems, nestsDeeperThan } from '../../workflows/conversation/core/limits';
import type { InboundItem, ParsedWebhook, ReceiptItem, TemplateStatusItem } from '../types';

/** Thrown by parseWhatsAppWebhook when the body is not a WhatsApp Business Account webhook, or an item in it lacks what it must have. */
export class WebhookPayloadError extends Error {
  override readonly name = 'WebhookPayloadError';
  /** Where in the body the problem is, e.g. `entry[0].changes[1].value.messages[3].from`. */
  readonly path: string;

  constructor(options: { path: string; problem: string }) {
    super(`${options.path} ${options.problem}`);
    this.path = options.path;
  }
}

const signaturePattern = /^sha256=([0-9a-f]{64})$/i;

/**
 * True when `header` (`X-Hub-Signature-256`) is `sha256=<hex>` of the HMAC-SHA256 of the exact raw
 * body bytes with the app secret. Never throws: a missing, malformed or wrong-length header is false.
 */
export function verifyMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  // With an empty secret the HMAC is something anyone can compute: an unconfigured secret verifies nothing.
  if (!appSecret || typeof header !== 'string') return false;
  const match = signaturePattern.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!, 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  // The pattern fixes the length at 32 bytes; the check keeps timingSafeEqual from ever throwing.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Reads a webhook body (already JSON-parsed) into customer messages and delivery receipts.
 *
 * Field limits (SPEC section 12, core/limits.ts): a body nested deeper than 32 levels or holding more
 * than 1,000 items (messages and statuses) is refused, since its size is the sender's doing. An item
 * over a limit is kept, brought within it: its text cut to 4,096 characters with `truncated: true`,
 * keys the store would refuse escaped; Meta would only retry a refusal, and the customer did write.
 */
export function parseWhatsAppWebhook(body: unknown): ParsedWebhook & { adjusted?: Adjusted } {
  if (!isRecord(body)) throw fail('body', `must be a JSON object, got ${kindOf(body)}`);
  if (nestsDeeperThan(body, maxJsonDepth)) throw fail('body', `must not nest more than ${maxJsonDepth} levels deep`);
  if (body.object !== 'whatsapp_business_account') throw fail('object', `must be "whatsapp_business_account", got ${kindOf(body.object)}`);
  const parsed: ParsedWebhook = { messages: [], receipts: [], ignored: 0 };
  const adjusted: Adjusted = { truncated: 0, escaped: 0 };
  const items = { count: 0 };
  requireArray(body.entry, 'entry').forEach((entry, e) => {
    const at = `entry[${e}]`;
    if (!isRecord(entry)) throw fail(at, `must be an object, got ${kindOf(entry)}`);
    const wabaId = typeof entry.id === 'string' ? entry.id : undefined;
    requireArray(entry.changes, `${at}.changes`).forEach((change, c) => readChange(change, `${at}.changes[${c}]`, parsed, adjusted, items, wabaId));
  });
  // Present only when something was adjusted, so that a body within the limits reads as it always did.
  return adjusted.truncated + adjusted.escaped > 0 ? { ...parsed, adjusted } : parsed;
}

type Json = Record<string, unknown>;

/** Messages brought within the field limits: how many were cut (`truncated`), how many had parts escaped without loss. */
export interface Adjusted {
  truncated: number;
  escaped: number;
}

function readChange(change: unknown, at: string, parsed: ParsedWebhook, adjusted: Adjusted, items: { count: number }, wabaId: string | undefined): void {
  if (!isRecord(change)) throw fail(at, `must be an object, got ${kindOf(change)}`);
  // A template's status keeps the registry current (SPEC section 10); one that cannot be read is ignored like any other change.
  if (change.field === 'message_template_status_update') {
    items.count += 1;
    if (items.count > maxWebhookItems) throw fail(at, `makes more than ${maxWebhookItems} items (messages, statuses and template updates) in one body`);
    const update = readTemplateStatus(change.value, wabaId);
    if (update) (parsed.templateStatuses ??= []).push(update);
    else parsed.ignored += 1;
    return;
  }
  // Account and quality updates come on the same subscription; none is ours to apply.
  if (change.field !== 'messages') {
    parsed.ignored += 1;
    return;
  }
  const value = change.value;
  if (!isRecord(value)) throw fail(`${at}.value`, `must be an object, got ${kindOf(value)}`);
  const metadata = value.metadata;
  if (!isRecord(metadata)) throw fail(`${at}.value.metadata`, `must be an object, got ${kindOf(metadata)}`);
  const phoneNumberId = requireString(metadata.phone_number_id, `${at}.value.metadata.phone_number_id`);
  const messages = optionalArray(value.messages, `${at}.value.messages`);
  const statuses = optionalArray(value.statuses, `${at}.value.statuses`);
  // A messages change with neither (Meta reports some account-level errors this way) has nothing to apply.
  if (!messages && !statuses) {
    parsed.ignored += 1;
    return;
  }
  items.count += (messages?.length ?? 0) + (statuses?.length ?? 0);
  if (items.count > maxWebhookItems) throw fail(`${at}.value.${messages ? 'messages' : 'statuses'}`, `makes more than ${maxWebhookItems} items (messages and statuses) in one body`);
  const contacts = Array.isArray(value.contacts) ? value.contacts.filter(isRecord) : [];
  messages?.forEach((message, i) => {
    const item = readMessage(message, `${at}.value.messages[${i}]`, phoneNumberId, contacts);
    const clamped = clampCustomerMessage(item.message);
    if (clamped.cut) adjusted.truncated += 1;
    else if (clamped.escapedKeys > 0) adjusted.escaped += 1;
    parsed.messages.push({ ...item, message: clamped.value });
  });
  statuses?.forEach((status, i) => {
    const receipt = readStatus(status, `${at}.value.statuses[${i}]`, phoneNumberId);
    if (receipt) parsed.receipts.push(receipt);
    else parsed.ignored += 1;
  });
}

// --- messages -------------------------------------------------------------------------------------

/** What a message's type-specific part says; undefined when that part cannot be read. */
type Reading = { text?: string; content: MessageContent } | undefined;

/** One reader per kind Meta documents: a new InboundKind breaks the build until it is read here. */
const readers: Record<Exclude<InboundKind, 'unsupported'>, (message: Json) => Reading> = {
  text: (m) => {
    const body = isRecord(m.text) ? optionalString(m.text.body) : undefined;
    return body === undefined ? undefined : { text: body, content: {} };
  },
  // A quick-reply button of a template: `payload` is what the business set, `text` what the customer tapped.
  button: (m) => {
    if (!isRecord(m.button)) return undefined;
    const title = optionalString(m.button.text);
    const payload = optionalString(m.button.payload);
    if (title === undefined && payload === undefined) return undefined;
    return { text: title, content: { choice: { id: payload ?? title!, title: title ?? payload!, type: 'button' } } };
  },
  interactive: readInteractive,
  image: (m) => readMedia(m, 'image'),
  audio: (m) => readMedia(m, 'audio'),
  video: (m) => readMedia(m, 'video'),
  document: (m) => readMedia(m, 'document'),
  sticker: (m) => readMedia(m, 'sticker'),
  location: (m) => {
    const l = m.location;
    if (!isRecord(l) || !isFiniteNumber(l.latitude) || !isFiniteNumber(l.longitude)) return undefined;
    const location = defined({
      latitude: l.latitude,
      longitude: l.longitude,
      name: optionalString(l.name),
      address: optionalString(l.address),
      url: optionalString(l.url),
    });
    const words = [location.name, location.address].filter((part) => part !== undefined).join(', ');
    return { text: words || undefined, content: { location } };
  },
  contacts: (m) => (Array.isArray(m.contacts) ? { content: { contacts: m.contacts.filter(isRecord) } } : undefined),
  // An empty or absent emoji is the customer taking a reaction off.
  reaction: (m) => {
    const r = m.reaction;
    const messageId = isRecord(r) ? optionalString(r.message_id) : undefined;
    if (!isRecord(r) || messageId === undefined) return undefined;
    return { content: { reaction: { messageId, emoji: typeof r.emoji === 'string' ? r.emoji : '' } } };
  },
  // The order's note and the system notice's sentence are what an agent reads first, so they are the text too.
  order: (m) => (isRecord(m.order) ? { text: optionalString(m.order.text), content: { details: m.order } } : undefined),
  system: (m) => (isRecord(m.system) ? { text: optionalString(m.system.body), content: { details: m.system } } : undefined),
};

/**
 * `button_reply` and `list_reply` carry a choice ({id, title, description}); `nfm_reply` (a Flow's
 * answer) carries {name, body, response_json}, kept whole in `details` because the answer is in there.
 */
function readInteractive(m: Json): Reading {
  const interactive = m.interactive;
  if (!isRecord(interactive)) return undefined;
  const kind = optionalString(interactive.type);
  if (kind === undefined || !Object.hasOwn(interactive, kind)) return undefined;
  const reply = interactive[kind];
  if (!isRecord(reply)) return undefined;
  const id = optionalString(reply.id) ?? optionalString(reply.name);
  const title = optionalString(reply.title) ?? optionalString(reply.body);
  if (id === undefined && title === undefined) return undefined;
  const choice = defined({ id: id ?? title!, title: title ?? id!, description: optionalString(reply.description), type: kind });
  const content: MessageContent = { choice };
  if (kind !== 'button_reply' && kind !== 'list_reply') content.details = reply;
  return { text: title, content };
}

/** Media stay at Meta: we keep the id (to download later) and what describes it; a caption is the text. */
function readMedia(m: Json, kind: 'image' | 'audio' | 'video' | 'document' | 'sticker'): Reading {
  const media = m[kind];
  const id = isRecord(media) ? optionalString(media.id) : undefined;
  if (!isRecord(media) || id === undefined) return undefined;
  const caption = optionalString(media.caption);
  return {
    text: caption,
    content: {
      media: defined({
        id,
        mimeType: optionalString(media.mime_type),
        sha256: optionalString(media.sha256),
        filename: optionalString(media.filename),
        caption,
        voice: typeof media.voice === 'boolean' ? media.voice : undefined,
        animated: typeof media.animated === 'boolean' ? media.animated : undefined,
      }),
    },
  };
}

/** Meta's own `unsupported` (which may name the real type in `unsupported.type`), or a type we do not know. */
function readUnsupported(m: Json, type: string): NonNullable<Reading> {
  const named = m.type === 'unsupported' && isRecord(m.unsupported) ? optionalString(m.unsupported.type) : undefined;
  const content: MessageContent = { details: { type: named ?? type } };
  const errors = Array.isArray(m.errors) ? m.errors.filter(isRecord).flatMap(readMessageError) : [];
  if (errors.length > 0) content.errors = errors;
  return { content };
}

function readMessageError(e: Json): NonNullable<MessageContent['errors']> {
  if (!isFiniteNumber(e.code)) return [];
  const message = (isRecord(e.error_data) ? optionalString(e.error_data.details) : undefined) ?? optionalString(e.message);
  return [defined({ code: e.code, title: optionalString(e.title) ?? '', message })];
}

const customerIdPattern = /^\d{4,20}$/;

function readMessage(message: unknown, at: string, phoneNumberId: string, contacts: Json[]): InboundItem {
  if (!isRecord(message)) throw fail(at, `must be an object, got ${kindOf(message)}`);
  const messageId = requireString(message.id, `${at}.id`);
  const from = message.from;
  // `from` becomes part of a conversation id: anything but a plain number would address the wrong workflow.
  if (typeof from !== 'string' || !customerIdPattern.test(from)) throw fail(`${at}.from`, 'must be 4 to 20 digits');
  const type = requireString(message.type, `${at}.type`);

  const reader = Object.hasOwn(readers, type) ? readers[type as keyof typeof readers] : undefined;
  const reading = reader?.(message);
  const kind: InboundKind = reading ? (type as InboundKind) : 'unsupported';
  const { text, content } = reading ?? readUnsupported(message, type);

  if (isRecord(message.referral)) content.referral = message.referral;
  const payload: CustomerMessagePayload = { messageId, type: kind };
  if (text !== undefined) payload.text = text;
  if (Object.keys(content).length > 0) payload.content = content;
  const sentAt = isoFromUnixSeconds(message.timestamp);
  if (sentAt !== undefined) payload.sentAt = sentAt;
  const customerName = nameOf(from, contacts);
  if (customerName !== undefined) payload.customerName = customerName;
  const replyTo = isRecord(message.context) ? optionalString(message.context.id) : undefined;
  if (replyTo !== undefined) payload.replyTo = { messageId: replyTo };
  return { phoneNumberId, customer: from, message: payload };
}

/**
 * The profile name of the contact whose `wa_id` is the sender. A contact without `wa_id` stands for the
 * sender when none matches; a contact with another `wa_id` never does, so that in a batch from several
 * customers nobody gets someone else's name.
 */
function nameOf(from: string, contacts: Json[]): string | undefined {
  const contact = contacts.find((c) => c.wa_id === from) ?? contacts.find((c) => c.wa_id === undefined);
  return contact && isRecord(contact.profile) ? optionalString(contact.profile.name) : undefined;
}

// --- statuses -------------------------------------------------------------------------------------

const receiptStatuses: ReadonlySet<string> = new Set<ReceiptItem['status']>(['sent', 'delivered', 'read', 'failed']);

/** A receipt, or undefined for a status we do not track (`deleted`, `warning`, ...): counted as ignored. */
function readStatus(status: unknown, at: string, phoneNumberId: string): ReceiptItem | undefined {
  if (!isRecord(status)) throw fail(at, `must be an object, got ${kindOf(status)}`);
  const providerMessageId = requireString(status.id, `${at}.id`);
  const value = requireString(status.status, `${at}.status`);
  if (!receiptStatuses.has(value)) return undefined;
  // Lenient: receipts are matched by message id; the recipient is informative (and Meta may omit it for username-only users).
  const receipt: ReceiptItem = {
    phoneNumberId,
    recipient: optionalString(status.recipient_id) ?? '',
    providerMessageId,
    status: value as ReceiptItem['status'],
  };
  const when = isoFromUnixSeconds(status.timestamp);
  if (when !== undefined) receipt.at = when;
  const first = Array.isArray(status.errors) ? status.errors.find(isRecord) : undefined;
  if (first) receipt.error = deliveryErrorOf(first);
  return receipt;
}

function deliveryErrorOf(e: Json): DeliveryError {
  const code = isFiniteNumber(e.code) ? e.code : (optionalString(e.code) ?? 'unknown');
  const details = isRecord(e.error_data) ? optionalString(e.error_data.details) : undefined;
  return { code, message: details ?? optionalString(e.message) ?? optionalString(e.title) ?? '' };
}

// --- template status updates ------------------------------------------------------------------------

/** `{ event, message_template_name, message_template_language, ... }` of the business account `wabaId`; undefined when any is missing. */
function readTemplateStatus(value: unknown, wabaId: string | undefined): TemplateStatusItem | undefined {
  if (!isRecord(value) || wabaId === undefined) return undefined;
  const event = optionalString(value.event);
  const name = optionalString(value.message_template_name);
  const language = optionalString(value.message_template_language);
  if (event === undefined || name === undefined || language === undefined || event.length > 64 || name.length > 512 || language.length > 16) return undefined;
  return { wabaId, name, language, event: event.toUpperCase() };
}

// --- reading JSON ---------------------------------------------------------------------------------

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function requireString(value: unknown, at: string): string {
  if (typeof value !== 'string' || value === '') throw fail(at, `must be a non-empty string, got ${kindOf(value)}`);
  return value;
}

function requireArray(value: unknown, at: string): unknown[] {
  if (!Array.isArray(value)) throw fail(at, `must be an array, got ${kindOf(value)}`);
  return value;
}

function optionalArray(value: unknown, at: string): unknown[] | undefined {
  return value === undefined ? undefined : requireArray(value, at);
}

/** Latest date a JS Date can hold, in seconds: beyond it toISOString throws. */
const maxUnixSeconds = 8.64e12;

/** Meta's timestamps are unix seconds as a string of digits; anything else is left out. */
function isoFromUnixSeconds(value: unknown): string | undefined {
  const seconds = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (!isFiniteNumber(seconds) || seconds < 0 || seconds > maxUnixSeconds) return undefined;
  return new Date(seconds * 1000).toISOString();
}

/** Drops undefined fields, so that optional fields are absent rather than present and undefined. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Names the kind of a value for an error message without echoing the value (bodies are customer data). */
function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string' && value === '') return 'an empty string';
  return `a ${typeof value}`;
}

function fail(path: string, problem: string): WebhookPayloadError {
  return new WebhookPayloadError({ path, problem });
}
