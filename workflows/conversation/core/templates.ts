/**
 * WhatsApp message templates (SPEC section 10, "Templates"): what a template the registry knows asks of
 * a send, and whether a send gives it. Pure: the API checks a send with it before anything reaches a
 * conversation, and the inbox builds its template picker's fields from `templateSlots`.
 *
 * A definition is Meta's template as the registry keeps it (store/templates.ts): its components with
 * only what a send is checked against (types, formats, texts, buttons; Meta's `example` blocks hold
 * arrays of arrays, which FerretDB refuses, and are not needed). A send is `TemplateRef`: body
 * parameters as `params` (the older shorthand) or as a `body` component, and header and button
 * parameters as components in the Cloud API's send format.
 */
import type { TemplateParameter, TemplateRef, TemplateSendComponent } from './outbound';

/** One component of a template's definition, as Meta lists it (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`). */
export interface TemplateDefinitionComponent {
  type: string;
  /** HEADER only: `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT` or `LOCATION`. */
  format?: string;
  text?: string;
  /** BUTTONS only, in their order (a send addresses them by `index`). */
  buttons?: TemplateDefinitionButton[];
}

export interface TemplateDefinitionButton {
  /** `QUICK_REPLY`, `URL`, `PHONE_NUMBER`, `COPY_CODE`, `OTP`, `FLOW`, ... */
  type: string;
  text?: string;
  url?: string;
  phone_number?: string;
}

/** A template as the registry lists it: `GET .../templates` answers these. */
export interface TemplateDefinition {
  name: string;
  language: string;
  category: string;
  /** Meta's status: `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, ...; only `APPROVED` sends. */
  status: string;
  components: TemplateDefinitionComponent[];
}

/** What a header asks of a send. */
export type HeaderSlot =
  | { kind: 'none' }
  | { kind: 'text'; params: number; names: string[] }
  | { kind: 'media'; format: 'image' | 'video' | 'document' }
  | { kind: 'location' };

/** What one button asks of a send: quick replies take an optional payload, URLs a suffix if theirs has a placeholder, copy-code buttons a code. */
export type ButtonSlot =
  | { index: number; subType: 'quick_reply'; text: string }
  | { index: number; subType: 'url'; params: number; text: string }
  | { index: number; subType: 'copy_code'; text: string }
  /** A kind this module does not check (phone numbers, flows, one-time passwords...): passed as given. */
  | { index: number; subType: 'other'; text: string };

export interface TemplateSlots {
  header: HeaderSlot;
  /** The body's placeholders, in order of first appearance (`1`, `2` or named ones). */
  body: string[];
  buttons: ButtonSlot[];
}

const placeholderPattern = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** The distinct placeholders of a text, in order of first appearance: `Hi {{1}}, {{2}} and {{1}}` has two. */
export function placeholdersOf(text: string | undefined): string[] {
  if (!text) return [];
  return [...new Set([...text.matchAll(placeholderPattern)].map((m) => m[1]!))];
}

const mediaFormats: Record<string, 'image' | 'video' | 'document'> = { IMAGE: 'image', VIDEO: 'video', DOCUMENT: 'document' };

/** What a definition asks of a send, read once from its components. */
export function templateSlots(definition: Pick<TemplateDefinition, 'components'>): TemplateSlots {
  const byType = (type: string) => definition.components.find((c) => c.type.toUpperCase() === type);
  const header = byType('HEADER');
  const format = header?.format?.toUpperCase();
  let headerSlot: HeaderSlot = { kind: 'none' };
  if (header && (format === undefined || format === 'TEXT')) {
    const names = placeholdersOf(header.text);
    if (names.length > 0) headerSlot = { kind: 'text', params: names.length, names };
  } else if (format && mediaFormats[format]) headerSlot = { kind: 'media', format: mediaFormats[format] };
  else if (format === 'LOCATION') headerSlot = { kind: 'location' };
  const buttons = (byType('BUTTONS')?.buttons ?? []).map((button, index): ButtonSlot => {
    const text = button.text ?? '';
    switch (button.type.toUpperCase()) {
      case 'QUICK_REPLY':
        return { index, subType: 'quick_reply', text };
      case 'URL':
        return { index, subType: 'url', params: placeholdersOf(button.url).length, text };
      case 'COPY_CODE':
        return { index, subType: 'copy_code', text };
      default:
        return { index, subType: 'other', text };
    }
  });
  return { header: headerSlot, body: placeholdersOf(byType('BODY')?.text), buttons };
}

/** Why a send of a known template is refused: not sendable now (409), or not what the template takes (400, naming the field). */
export type TemplateSendProblem = { code: 'template_unavailable'; message: string } | { code: 'validation_failed'; path: string; message: string };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Checks a send against the template's definition: its status first (only `APPROVED` sends), then
 * every component's parameters. Undefined when the send is what the template takes. The first problem
 * found is answered, naming the field the caller gave (`params`, `components[i]...`) or, for something
 * missing, `components`.
 */
export function checkTemplateSend(definition: TemplateDefinition, send: TemplateRef): TemplateSendProblem | undefined {
  if (definition.status !== 'APPROVED') {
    return { code: 'template_unavailable', message: `template ${definition.name} (${definition.language}) is ${definition.status}, not APPROVED: it cannot be sent` };
  }
  const slots = templateSlots(definition);
  const invalid = (path: string, message: string): TemplateSendProblem => ({ code: 'validation_failed', path, message });
  const components = send.components ?? [];
  const seen = new Set<string>();
  let header: { at: number; component: TemplateSendComponent } | undefined;
  let body: { at: number; component: TemplateSendComponent } | undefined;
  for (const [at, component] of components.entries()) {
    const key = component.type === 'button' ? `button:${component.index ?? ''}` : component.type;
    if (seen.has(key)) return invalid(`components[${at}]`, component.type === 'button' ? `a second component for button ${component.index}` : `a second ${component.type} component`);
    seen.add(key);
    if (component.type === 'header') header = { at, component };
    if (component.type === 'body') body = { at, component };
    if (component.type === 'button') {
      const problem = checkButton(slots.buttons, component, `components[${at}]`);
      if (problem) return invalid(problem.path, problem.message);
    }
  }

  // Body: `params` or a body component, not both; as many as the body has placeholders.
  if (body && send.params !== undefined && send.params.length > 0) return invalid('params', 'give the body parameters either as params or as a body component, not both');
  const bodyGiven = body ? body.component.parameters.length : (send.params?.length ?? 0);
  if (bodyGiven !== slots.body.length) {
    return invalid(body ? `components[${body.at}].parameters` : 'params', `template ${definition.name}'s body takes ${plural(slots.body.length, 'parameter')}, got ${bodyGiven}`);
  }
  if (body) {
    const wrong = body.component.parameters.findIndex((p) => p.type !== 'text');
    if (wrong >= 0) return invalid(`components[${body.at}].parameters[${wrong}].type`, 'body parameters are text');
  }

  const headerProblem = checkHeader(slots.header, header, definition.name);
  if (headerProblem) return invalid(headerProblem.path, headerProblem.message);

  for (const slot of slots.buttons) {
    const needs = slot.subType === 'copy_code' || (slot.subType === 'url' && slot.params > 0);
    if (needs && !components.some((c) => c.type === 'button' && c.index === slot.index)) {
      return invalid('components', `template ${definition.name}'s button ${slot.index} (${slot.subType}) needs a button component with index ${slot.index}`);
    }
  }
  return undefined;
}

function checkHeader(slot: HeaderSlot, given: { at: number; component: TemplateSendComponent } | undefined, name: string): { path: string; message: string } | undefined {
  if (slot.kind === 'none') return given ? { path: `components[${given.at}]`, message: `template ${name}'s header takes no parameters` } : undefined;
  const wanted = slot.kind === 'text' ? plural(slot.params, 'text parameter') : slot.kind === 'media' ? `one ${slot.format} parameter` : 'one location parameter';
  if (!given) return { path: 'components', message: `template ${name}'s header needs a header component with ${wanted}` };
  const { parameters } = given.component;
  const path = `components[${given.at}].parameters`;
  switch (slot.kind) {
    case 'text':
      if (parameters.length !== slot.params) return { path, message: `template ${name}'s header takes ${wanted}, got ${parameters.length}` };
      return parameters.every((p) => p.type === 'text') ? undefined : { path, message: `template ${name}'s header takes ${wanted}` };
    case 'media':
    case 'location': {
      const type = slot.kind === 'media' ? slot.format : 'location';
      return parameters.length === 1 && parameters[0]!.type === type ? undefined : { path, message: `template ${name}'s header takes ${wanted}` };
    }
  }
}

const buttonParameterType: Record<'quick_reply' | 'url' | 'copy_code', TemplateParameter['type']> = { quick_reply: 'payload', url: 'text', copy_code: 'coupon_code' };

function checkButton(slots: ButtonSlot[], component: TemplateSendComponent, at: string): { path: string; message: string } | undefined {
  const slot = component.index === undefined ? undefined : slots[component.index];
  if (!slot) return { path: `${at}.index`, message: `the template has ${plural(slots.length, 'button')}; no button ${component.index ?? '(no index)'}` };
  if (slot.subType === 'other') return undefined;
  if (component.sub_type !== slot.subType) return { path: `${at}.sub_type`, message: `button ${slot.index} is ${slot.subType}` };
  const wanted = slot.subType === 'url' ? slot.params : 1;
  if (component.parameters.length !== wanted) return { path: `${at}.parameters`, message: `button ${slot.index} (${slot.subType}) takes ${plural(wanted, 'parameter')}, got ${component.parameters.length}` };
  const type = buttonParameterType[slot.subType];
  const wrong = component.parameters.findIndex((p) => p.type !== type);
  return wrong >= 0 ? { path: `${at}.parameters[${wrong}].type`, message: `button ${slot.index} (${slot.subType}) takes ${type} parameters` } : undefined;
}

/**
 * The status a template has after Meta's `message_template_status_update` event, or undefined when the
 * event says nothing about whether it sends: `REINSTATED` is approved again; `FLAGGED` warns of low
 * quality (it still sends until Meta pauses or disables it); `UNARCHIVED` does not say which status it
 * returns to (the next sync reads it). Every other event is the status it names.
 */
export function statusAfterEvent(event: string): string | undefined {
  switch (event) {
    case 'REINSTATED':
      return 'APPROVED';
    case 'FLAGGED':
    case 'UNARCHIVED':
      return undefined;
    default:
      return event;
  }
}
