/**
 * What the business sends a customer, declared once (STYLE habit 18): the API builds an
 * `OutboundContent`, and the same value travels unchanged through the update's arguments, the lifecycle
 * input, the outbox, the `deliver` activity and the channel adapters (DESIGN.md, "Outbound content").
 *
 * A new kind (media, interactive, ...) is one variant here plus its case in `recordFieldsOf` below and
 * in the switches that turn it into something else (`recordOf` in draft.ts, the adapters in
 * channels/whatsapp/graph.ts); the type checker finds every switch that
 * misses it. Whatever is not kind-specific (who, where, which message it quotes) stays in the envelope
 * around the content (`SendRequest`, `OutboundMessage`), so no kind restates it.
 *
 * Pure and a leaf: no Temporal, MongoDB, Express or Node import (the workflow bundle, the API and the
 * worker all load it), and nothing from the rest of core, which imports it (model.ts), but the types of
 * other leaves (interactive.ts, media.ts).
 */
import type { InteractiveMessage } from './interactive';
import type { MediaType } from './media';

/** A WhatsApp template by name, in a language (`en_US` when absent), with its body parameters. */
export interface TemplateRef {
  name: string;
  language?: string;
  params?: string[];
  /**
   * Header, body and button parameters in the Cloud API's send format (SPEC section 10), sent as given
   * (after `params`, which stay the body's shorthand). Absent in everything recorded before 2026-12-06.
   */
  components?: TemplateSendComponent[];
}

/** One parameter of a template component, as the Cloud API's send format words it. */
export type TemplateParameter =
  | { type: 'text'; text: string; parameter_name?: string }
  | { type: 'image'; image: { link: string } }
  | { type: 'video'; video: { link: string } }
  | { type: 'document'; document: { link: string; filename?: string } }
  | { type: 'location'; location: { latitude: number; longitude: number; name?: string; address?: string } }
  | { type: 'payload'; payload: string }
  | { type: 'coupon_code'; coupon_code: string };

/** A component of a template send: `header`, `body`, or the button at `index` (with its `sub_type`). */
export interface TemplateSendComponent {
  type: 'header' | 'body' | 'button';
  sub_type?: 'quick_reply' | 'url' | 'copy_code' | 'flow' | 'voice_call';
  index?: number;
  parameters: TemplateParameter[];
}

export interface TextContent {
  kind: 'text';
  text: string;
}

export interface TemplateContent {
  kind: 'template';
  template: TemplateRef;
}

/** SPEC 10: reply buttons or a list (core/interactive.ts holds the shape and Meta's limits). */
export interface InteractiveContent {
  kind: 'interactive';
  interactive: InteractiveMessage;
}


/**
 * A stored file (POST .../media) sent as WhatsApp media. `mediaType` and `mimeType` are the stored
 * file's, read when the reply was accepted, so the adapters need not look them up; `caption` is the text
 * that went with it (images, videos and documents only: core/media.ts `takesCaption`).
 */
export interface MediaRef {
  id: string;
  mediaType: MediaType;
  mimeType: string;
  filename?: string;
  caption?: string;
}

export interface MediaContent {
  kind: 'media';
  media: MediaRef;
}

/** One tagged variant per kind of outbound message. */
export type OutboundContent = TextContent | TemplateContent | InteractiveContent | MediaContent;

export type OutboundKind = OutboundContent['kind'];

/**
 * What a free-form reply may carry: every kind but a template. Templates have rules of their own (they
 * go outside the 24-hour window and to closed conversations); every other kind is a session message,
 * bound by the window, so a new kind is a reply kind without another edit.
 */
export type SessionContent = Exclude<OutboundContent, TemplateContent>;

/**
 * The union in the flat form the public shapes outside the workflow have always had: `kind`, `text` and
 * `template`, each null when it is not this kind's, then any field a newer kind carries. The webhook
 * provider's body and the recording provider's document are built from it, so a new kind's fields reach
 * them whole, with no edit there (nothing is copied field by field, so nothing is dropped).
 */
export type FlatContent = { kind: OutboundKind; text: string | null; template: TemplateRef | null } & Omit<OutboundContent, 'kind' | 'text' | 'template'>;

export function flatContentOf(content: OutboundContent): FlatContent {
  // `kind` first, then the two documented fields, then the rest: the order the webhook body has always had.
  const documented = { kind: content.kind, text: null, template: null };
  return { ...documented, ...content };
}

/**
 * The shapes outbound content had before it was one union (until 2026-12): a reply's `{ text }`, a
 * template action's `{ template }`, and the flat `{ kind, text, template }` of the outbox's send request
 * and the `deliver` activity's input. Recorded histories, states carried across continue-as-new,
 * activities scheduled by older workers and API processes of an older release still hold them, so every
 * boundary that receives content reads it through `outboundContentOf`.
 */
export interface LegacyContentFields {
  kind?: 'text' | 'template';
  text?: string | null;
  template?: TemplateRef | null;
}

/** Content in either shape, as it may arrive at a boundary: `{ content }` now, the flat fields before. */
export type ContentCarrier = { content: OutboundContent } | LegacyContentFields;

/**
 * The content a carrier holds, whichever shape it came in. A legacy value without words or a template
 * name maps to an empty one, which the adapters refuse as before (`invalid_message`), rather than
 * failing the workflow task that reads it.
 */
export function outboundContentOf(carrier: ContentCarrier): OutboundContent {
  if ('content' in carrier && carrier.content) return carrier.content;
  const legacy = carrier as LegacyContentFields;
  const isTemplate = legacy.kind === 'template' || (legacy.kind === undefined && legacy.template != null && legacy.text == null);
  return isTemplate ? { kind: 'template', template: legacy.template ?? { name: '' } } : { kind: 'text', text: legacy.text ?? '' };
}

/**
 * A value that carries content beside other fields (the `deliver` activity's input), in either shape,
 * with its content as the union: the flat fields are read and dropped, every other field is kept.
 */
export function withContent<T extends object>(value: T & ContentCarrier): Omit<T, keyof LegacyContentFields | 'content'> & { content: OutboundContent } {
  const { kind: _kind, text: _text, template: _template, content: _content, ...rest } = value as T & LegacyContentFields & { content?: OutboundContent };
  return { ...(rest as Omit<T, keyof LegacyContentFields | 'content'>), content: outboundContentOf(value) };
}

/** A reply update's arguments as recorded before the union: `{ actor, text, replyTo? }`. */
export interface LegacyReplyContent {
  text: string;
}

/** A template update's arguments as recorded before the union: `{ actor, template }`. */
export interface LegacyTemplateContent {
  template: TemplateRef;
}

/** What a reply update carries, in either shape (the workflow receives both: histories, older API processes). */
export function replyContentOf(args: { content: SessionContent } | LegacyReplyContent): SessionContent {
  return 'content' in args && args.content ? args.content : { kind: 'text', text: (args as LegacyReplyContent).text };
}

/** What a template update carries, in either shape. */
export function templateContentOf(args: { content: TemplateContent } | LegacyTemplateContent): TemplateContent {
  return 'content' in args && args.content ? args.content : { kind: 'template', template: (args as LegacyTemplateContent).template };
}
