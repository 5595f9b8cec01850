/**
 * The field limits of SPEC section 12, defined once and applied on every path a value comes in by:
 * the HTTP schemas (api/schemas.ts) refuse what is over them, the WhatsApp webhook (signed: Meta would
 * only retry a refusal) and the workflow's signals (which cannot be refused) clamp it with
 * `clampCustomerMessage`, and the workflow's update validators refuse it with `actionOverLimit`.
 *
 * What the store refuses: FerretDB refuses a document with a key that contains `.` or a NUL byte or
 * starts with `$`, and an array directly inside an array ("nested arrays are not supported"), and
 * refuses the whole batch it is written in. Such a part from outside never reaches the store as such:
 * HTTP answers 400 naming it (`unstorableParts`); a signed webhook or a signal keeps the item and
 * rewrites the part (`storableJson`: keys escaped, an inner array wrapped as `{"items": [...]}`), so
 * nothing is lost and the stored value still reads as what was sent.
 *
 * Pure: no IO, no clock; nothing here recurses deeper than `maxJsonDepth`, so no input can exhaust the
 * stack, whatever its nesting.
 */
import type { CustomerMessagePayload } from '../messages';
import type { ConversationState, Input, MessageContent } from './model';
import { interactiveProblems } from './interactive';
import { takesCaption } from './media';

/** Text of a message (a text's body, a caption, a reply's words), in UTF-16 code units like JavaScript's `length`. */
export const maxTextLength = 4096;
/** Keys of a message's attributes (routing rules match on them, so rule keys follow the same rule). */
export const attributeKeyPattern = /^[A-Za-z0-9_-]{1,64}$/;
export const maxAttributes = 50;
/** Values of attributes (the HTTP schema's bound, applied to signals too). */
export const maxAttributeValueLength = 256;
/** Tags a conversation holds at once. */
export const maxTags = 50;
/** Messages and statuses in one webhook body. */
export const maxWebhookItems = 1000;
/** Levels of nesting of a JSON body: `{}` and `[]` are 1, `{"a":[]}` is 2. */
export const maxJsonDepth = 32;

/** A limit's refusal: always `validation_failed`, naming the field in its message. */
export interface LimitRejection {
  code: 'validation_failed';
  field: string;
  message: string;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * True when `value` nests deeper than `max` levels. Iterative, and stops at the first path that goes
 * too deep, so a 50,000-deep array costs 33 steps, never a stack frame per level.
 */
export function nestsDeeperThan(value: unknown, max: number = maxJsonDepth): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [next, above] = stack.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    const depth = above + 1;
    if (depth > max) return true;
    for (const child of Array.isArray(next) ? next : Object.values(next)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth]);
    }
  }
  return false;
}

/** A key the store refuses, or would read as an operator: it contains `.` or a NUL byte, or starts with `$`. */
export const isUnsafeKey = (key: string): boolean => key.includes('.') || key.includes('\u0000') || key.startsWith('$');

/** A part of a JSON value the store cannot take, by its path (`contacts.0.name.x.y`). */
export interface Unstorable {
  path: string;
  problem: 'key' | 'nested_array';
}

/**
 * The parts of `value` the store cannot take (at most `limit`), with paths below `base`: keys with
 * `.`, NUL or a leading `$`, and arrays directly inside arrays. Iterative; meant for values already
 * known to nest at most `maxJsonDepth` levels.
 */
export function unstorableParts(value: unknown, base: string, limit = 10): Unstorable[] {
  const found: Unstorable[] = [];
  const stack: [unknown, string][] = [[value, base]];
  while (stack.length > 0 && found.length < limit) {
    const [next, path] = stack.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    const isArray = Array.isArray(next);
    const entries: [string, unknown][] = isArray ? next.map((v, i) => [String(i), v]) : Object.entries(next);
    for (const [key, child] of entries) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!isArray && isUnsafeKey(key)) found.push({ path: at, problem: 'key' });
      if (isArray && Array.isArray(child)) found.push({ path: at, problem: 'nested_array' });
      stack.push([child, at]);
    }
  }
  return found.slice(0, limit);
}

/** The paths of the keys the store refuses (see `unstorableParts`). */
export function unsafeKeyPaths(value: unknown, base: string, limit = 10): string[] {
  return unstorableParts(value, base, Number.MAX_SAFE_INTEGER)
    .filter((part) => part.problem === 'key')
    .slice(0, limit)
    .map((part) => part.path);
}

/** What `unstorableParts` found, in words for an error message. */
export function describeUnstorable(part: Unstorable): string {
  return part.problem === 'key'
    ? `the key at ${part.path.slice(0, 120)} has ".", a NUL byte or a leading "$", which cannot be stored`
    : `${part.path.slice(0, 120)} is an array directly inside an array, which cannot be stored`;
}

/**
 * The key as it can be stored: each `.` becomes U+FF0E (`．`), a leading `$` U+FF04 (`＄`), the
 * replacements MongoDB's documentation suggests, and NUL U+2400 (`␀`). A reader still sees what was
 * sent; a safe key is unchanged.
 */
export function escapeKey(key: string): string {
  return key.replace(/\./g, '\uff0e').replaceAll('\u0000', '\u2400').replace(/^\$/, '\uff04');
}

/**
 * What clamping changed: `cut` means something was shortened or left out (the item is marked
 * `truncated`); `escapedKeys` counts parts rewritten without loss (keys escaped, inner arrays wrapped).
 */
export interface Clamped<T> {
  value: T;
  cut: boolean;
  escapedKeys: number;
}

/**
 * A copy of a JSON value that can be stored: unsafe keys escaped, an array directly inside an array
 * wrapped as `{"items": [...]}`, and anything nested below `depth` levels replaced by null (cut).
 * Recursion is bounded by `depth`, so it is safe on any input.
 */
export function storableJson(value: unknown, depth: number): Clamped<unknown> {
  const tally = { cut: false, escapedKeys: 0 };
  const copy = (v: unknown, left: number): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (left <= 0) {
      tally.cut = true;
      return null;
    }
    if (Array.isArray(v)) {
      return v.map((item) => {
        if (!Array.isArray(item)) return copy(item, left - 1);
        tally.escapedKeys += 1;
        return left - 1 <= 0 ? copy(item, 0) : { items: copy(item, left - 2) };
      });
    }
    const out: Json = {};
    for (const [key, child] of Object.entries(v)) {
      let safe = key;
      if (isUnsafeKey(key)) {
        tally.escapedKeys += 1;
        safe = escapeKey(key);
        // Two keys escaping to the same one must both be kept.
        while (Object.hasOwn(out, safe) || Object.hasOwn(v, safe)) safe = `${safe}_`;
      }
      // defineProperty, so a key named `__proto__` stays a key instead of setting the prototype.
      Object.defineProperty(out, safe, { value: copy(child, left - 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return { value: copy(value, depth), ...tally };
}

/** Text cut to `max` code units, never splitting a surrogate pair (an emoji is kept whole or left out). */
export function cutText(text: string, max: number = maxTextLength): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** An attribute key made valid: each character outside `[A-Za-z0-9_-]` becomes `_`, cut to 64 (empty becomes `_`). */
export function validAttributeKey(key: string): string {
  const fixed = key.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  return fixed === '' ? '_' : fixed;
}

/** Levels a message's loose content parts (contacts, referral, details) may use below their field in a stored document. */
const contentDepth = maxJsonDepth - 4;

/**
 * A customer message within the limits, for the paths that cannot refuse it (a signed webhook item, a
 * signal): text and caption cut to `maxTextLength`, attributes made valid (keys rewritten, at most
 * `maxAttributes`, values cut), unsafe keys in the content escaped, content nested too deep cut. When
 * anything was cut or left out the message says `truncated: true`. A message already within the
 * limits is answered as is (the same object), so clamping twice changes nothing.
 */
export function clampCustomerMessage(message: CustomerMessagePayload): Clamped<CustomerMessagePayload> {
  let cut = false;
  let escapedKeys = 0;
  const next: CustomerMessagePayload = { ...message };
  if (typeof message.text === 'string' && message.text.length > maxTextLength) {
    next.text = cutText(message.text);
    cut = true;
  }
  if (message.attributes !== undefined && message.attributes !== null) {
    const attributes = clampAttributes(message.attributes);
    if (attributes.value !== message.attributes) next.attributes = attributes.value;
    cut ||= attributes.cut;
    escapedKeys += attributes.escapedKeys;
  }
  if (isRecord(message.content)) {
    const content = clampContent(message.content);
    if (content.value !== message.content) next.content = content.value;
    cut ||= content.cut;
    escapedKeys += content.escapedKeys;
  }
  if (!cut && escapedKeys === 0) return { value: message, cut: false, escapedKeys: 0 };
  if (cut) next.truncated = true;
  return { value: next, cut, escapedKeys };
}

function clampAttributes(attributes: Record<string, string>): Clamped<Record<string, string>> {
  const entries = Object.entries(attributes);
  const fine = entries.length <= maxAttributes && entries.every(([k, v]) => attributeKeyPattern.test(k) && typeof v === 'string' && v.length <= maxAttributeValueLength);
  if (fine) return { value: attributes, cut: false, escapedKeys: 0 };
  const out: Record<string, string> = {};
  let escapedKeys = 0;
  for (const [key, value] of entries.slice(0, maxAttributes)) {
    let safe = key;
    if (!attributeKeyPattern.test(key)) {
      escapedKeys += 1;
      safe = validAttributeKey(key);
      while (Object.hasOwn(out, safe) || Object.hasOwn(attributes, safe)) safe = `${safe.slice(0, 63)}_`;
    }
    Object.defineProperty(out, safe, { value: cutText(String(value), maxAttributeValueLength), enumerable: true, writable: true, configurable: true });
  }
  const cut = entries.length > maxAttributes || entries.some(([, v]) => typeof v !== 'string' || v.length > maxAttributeValueLength);
  return { value: out, cut, escapedKeys };
}

/** The loose parts of a message's content: kept whole as the provider sent them, so they may hold any key. */
const looseParts = ['contacts', 'referral', 'details'] as const;

const storable = (value: unknown): boolean => !nestsDeeperThan(value, contentDepth) && unstorableParts(value, '', 1).length === 0;

function clampContent(content: MessageContent): Clamped<MessageContent> {
  let cut = false;
  let escapedKeys = 0;
  const next: MessageContent = { ...content };
  const caption = content.media?.caption;
  if (typeof caption === 'string' && caption.length > maxTextLength) {
    next.media = { ...content.media!, caption: cutText(caption) };
    cut = true;
  }
  for (const part of looseParts) {
    if (content[part] === undefined || storable(content[part])) continue;
    const stored = storableJson(content[part], contentDepth);
    (next as Json)[part] = stored.value;
    cut ||= stored.cut;
    escapedKeys += stored.escapedKeys;
  }
  // Any other part is typed by the API's schema and the webhook's reader; one sent by a signal from
  // elsewhere may still hold anything, so every remaining part is checked the same way.
  for (const [part, value] of Object.entries(content)) {
    if ((looseParts as readonly string[]).includes(part) || typeof value !== 'object' || value === null) continue;
    if (storable(value)) continue;
    const stored = storableJson(value, contentDepth);
    (next as Json)[part] = stored.value;
    cut ||= stored.cut;
    escapedKeys += stored.escapedKeys;
  }
  if (!cut && escapedKeys === 0) return { value: content, cut: false, escapedKeys: 0 };
  return { value: next, cut, escapedKeys };
}

/**
 * An action over a limit, refused by the workflow's update validators (nothing is written to history):
 * tags beyond `maxTags`, a reply's text or caption beyond `maxTextLength`. Undefined when within.
 */
export function actionOverLimit(input: Input, state: Pick<ConversationState, 'tags'>): LimitRejection | undefined {
  if (input.type === 'tags') {
    const kept = state.tags.filter((tag) => !input.remove.includes(tag));
    const count = new Set([...kept, ...input.add]).size;
    // A conversation already over (from before the limit) may still shrink, never grow.
    if (count <= maxTags || count <= state.tags.length) return undefined;
    return { code: 'validation_failed', field: 'add', message: `add: a conversation holds at most ${maxTags} tags; it has ${state.tags.length}, this would make ${count}` };
  }
  if (input.type === 'reply' && input.content.kind === 'text' && input.content.text.length > maxTextLength) {
    return { code: 'validation_failed', field: 'text', message: `text: at most ${maxTextLength} characters, got ${input.content.text.length}` };
  }
  if (input.type === 'reply' && input.content.kind === 'interactive') {
    // The API checks first (400 naming the field); this keeps any other caller of the update to Meta's limits.
    const [problem] = interactiveProblems(input.content.interactive);
    if (problem) {
      const field = ['interactive', ...problem.path].join('.');
      return { code: 'validation_failed', field, message: `${field}: ${problem.message}` };
    }
  }
  if (input.type === 'reply' && input.content.kind === 'media' && input.content.media.caption !== undefined) {
    const { caption, mediaType } = input.content.media;
    // Checked by the API too; here for signals and updates that did not come through it.
    if (!takesCaption(mediaType)) return { code: 'validation_failed', field: 'text', message: `text: ${mediaType} is sent without a caption on WhatsApp; send the text as its own reply` };
    if (caption.length > maxTextLength) return { code: 'validation_failed', field: 'media.caption', message: `media.caption: at most ${maxTextLength} characters, got ${caption.length}` };
  }
  return undefined;
}
