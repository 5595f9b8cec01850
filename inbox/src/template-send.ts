/**
 * The composer's template picker, the pure part (SPEC section 10): which fields a template asks for, read
 * from its definition by the same rule the API checks sends with (workflows/conversation/core/templates.ts),
 * and the send body those fields make, in the Cloud API's send format.
 */
import type { TemplateSendComponent } from '../../workflows/conversation/core/outbound';
import type { TemplateDefinition } from '../../workflows/conversation/core/templates';
import { templateSlots } from '../../workflows/conversation/core/templates';

export type { TemplateDefinition };

/** One input of the picker: `key` addresses its value, `label` is what the agent reads. */
export interface TemplateField {
  key: string;
  label: string;
  /** `link`: an https address (a media header's file); `text`: anything up to 1,024 characters. */
  kind: 'text' | 'link';
}

/** The fields a template asks for, header first, then the body's placeholders, then the buttons'. */
export function templateFields(definition: TemplateDefinition): TemplateField[] {
  const slots = templateSlots(definition);
  const fields: TemplateField[] = [];
  if (slots.header.kind === 'text') for (const name of slots.header.names) fields.push({ key: `header:${name}`, label: `Header {{${name}}}`, kind: 'text' });
  if (slots.header.kind === 'media') fields.push({ key: 'header:link', label: `Header ${slots.header.format} link`, kind: 'link' });
  for (const name of slots.body) fields.push({ key: `body:${name}`, label: `Body {{${name}}}`, kind: 'text' });
  for (const button of slots.buttons) {
    if (button.subType === 'url' && button.params > 0) fields.push({ key: `button:${button.index}`, label: `Button “${button.text}” link ending`, kind: 'text' });
    if (button.subType === 'copy_code') fields.push({ key: `button:${button.index}`, label: `Button “${button.text || 'Copy code'}” code`, kind: 'text' });
  }
  return fields;
}

/** The first field without a value, if any: the picker does not send until every one has one. */
export function missingField(definition: TemplateDefinition, values: Record<string, string>): TemplateField | undefined {
  return templateFields(definition).find((field) => !(values[field.key] ?? '').trim());
}

/** A header the picker cannot fill (a location): the template is listed, but cannot be sent from here. */
export function pickable(definition: TemplateDefinition): boolean {
  return templateSlots(definition).header.kind !== 'location';
}

/** The body of `POST .../templates` for a template and its fields' values. */
export function templateSendOf(
  definition: TemplateDefinition,
  values: Record<string, string>,
): { name: string; language: string; params?: string[]; components?: TemplateSendComponent[] } {
  const slots = templateSlots(definition);
  const value = (key: string) => (values[key] ?? '').trim();
  const components: TemplateSendComponent[] = [];
  if (slots.header.kind === 'text') components.push({ type: 'header', parameters: slots.header.names.map((name) => ({ type: 'text', text: value(`header:${name}`) })) });
  if (slots.header.kind === 'media') {
    const link = value('header:link');
    const format = slots.header.format;
    components.push({
      type: 'header',
      parameters: [format === 'image' ? { type: 'image', image: { link } } : format === 'video' ? { type: 'video', video: { link } } : { type: 'document', document: { link } }],
    });
  }
  for (const button of slots.buttons) {
    if (button.subType === 'url' && button.params > 0) components.push({ type: 'button', sub_type: 'url', index: button.index, parameters: [{ type: 'text', text: value(`button:${button.index}`) }] });
    if (button.subType === 'copy_code') components.push({ type: 'button', sub_type: 'copy_code', index: button.index, parameters: [{ type: 'coupon_code', coupon_code: value(`button:${button.index}`) }] });
  }
  const params = slots.body.map((name) => value(`body:${name}`));
  return {
    name: definition.name,
    language: definition.language,
    ...(params.length > 0 ? { params } : {}),
    ...(components.length > 0 ? { components } : {}),
  };
}

/** The body's text with the values filled in so far, for the preview under the fields. */
export function previewOf(definition: TemplateDefinition, values: Record<string, string>): string {
  const body = definition.components.find((c) => c.type.toUpperCase() === 'BODY')?.text ?? '';
  return body.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (whole, name: string) => (values[`body:${name}`] ?? '').trim() || whole);
}
