/**
 * SPEC section 10, "Templates": what a template the registry knows asks of a send
 * (workflows/conversation/core/templates.ts), Graph's listing read into definitions
 * (channels/whatsapp/templates.ts), the send body's components (channels/whatsapp/graph.ts) and Meta's
 * status webhook read (channels/whatsapp/webhook.ts). Tables for the rules, properties for the counts.
 */
import fc from 'fast-check';
import { graphMessageBody } from '../../channels/whatsapp/graph';
import { definitionOf } from '../../channels/whatsapp/templates';
import { parseWhatsAppWebhook } from '../../channels/whatsapp/webhook';
import type { OutboundMessage } from '../../channels/types';
import type { TemplateRef, TemplateSendComponent } from '../../workflows/conversation/core/outbound';
import type { TemplateDefinition } from '../../workflows/conversation/core/templates';
import { checkTemplateSend, placeholdersOf, statusAfterEvent, templateSlots } from '../../workflows/conversation/core/templates';
import { missingField, previewOf, templateFields, templateSendOf } from '../../inbox/src/template-send';
import { templateStatusWebhookBody } from '../support/fake-graph';

const body = (text: string) => ({ type: 'BODY', text });

/** An order update: a text header with one placeholder, a body with two, a URL button with one, a quick reply. */
const orderUpdate: TemplateDefinition = {
  name: 'order_update',
  language: 'en_US',
  category: 'UTILITY',
  status: 'APPROVED',
  components: [
    { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
    body('Hi {{1}}, your order {{2}} is on its way.'),
    { type: 'FOOTER', text: 'Reply STOP to opt out' },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'URL', text: 'Track', url: 'https://shop.example/track/{{1}}' },
        { type: 'QUICK_REPLY', text: 'Thanks' },
      ],
    },
  ],
};

const text = (value: string) => ({ type: 'text' as const, text: value });
const header: TemplateSendComponent = { type: 'header', parameters: [text('4821')] };
const trackButton: TemplateSendComponent = { type: 'button', sub_type: 'url', index: 0, parameters: [text('4821')] };
const complete: TemplateRef = { name: 'order_update', language: 'en_US', params: ['Priya', '4821'], components: [header, trackButton] };

describe('templateSlots: what a definition asks of a send', () => {
  test('counts distinct placeholders, positional or named, in order of first appearance', () => {
    expect(placeholdersOf('Hi {{1}}, {{2}} and {{1}} again')).toEqual(['1', '2']);
    expect(placeholdersOf('Hi {{ first_name }}, order {{order_id}}')).toEqual(['first_name', 'order_id']);
    expect(placeholdersOf('no placeholders, {single} braces')).toEqual([]);
    expect(placeholdersOf(undefined)).toEqual([]);
  });

  test('reads the header, the body and every button', () => {
    expect(templateSlots(orderUpdate)).toEqual({
      header: { kind: 'text', params: 1, names: ['1'] },
      body: ['1', '2'],
      buttons: [
        { index: 0, subType: 'url', params: 1, text: 'Track' },
        { index: 1, subType: 'quick_reply', text: 'Thanks' },
      ],
    });
  });

  test.each([
    ['IMAGE', { kind: 'media', format: 'image' }],
    ['VIDEO', { kind: 'media', format: 'video' }],
    ['DOCUMENT', { kind: 'media', format: 'document' }],
    ['LOCATION', { kind: 'location' }],
  ])('a %s header asks for one parameter of its kind', (format, slot) => {
    expect(templateSlots({ components: [{ type: 'HEADER', format }] }).header).toEqual(slot);
  });

  test('a text header without placeholders asks for nothing', () => {
    expect(templateSlots({ components: [{ type: 'HEADER', format: 'TEXT', text: 'Your order' }] }).header).toEqual({ kind: 'none' });
  });
});

describe('checkTemplateSend: a send of a known template', () => {
  test('accepts what the template takes', () => {
    expect(checkTemplateSend(orderUpdate, complete)).toBeUndefined();
    // The body as a component instead of the params shorthand, and the optional quick-reply payload.
    const asComponents: TemplateRef = {
      name: 'order_update',
      components: [header, { type: 'body', parameters: [text('Priya'), text('4821')] }, trackButton, { type: 'button', sub_type: 'quick_reply', index: 1, parameters: [{ type: 'payload', payload: 'thanks-4821' }] }],
    };
    expect(checkTemplateSend(orderUpdate, asComponents)).toBeUndefined();
  });

  test.each(['PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'IN_APPEAL', 'PENDING_DELETION', 'ARCHIVED'])('refuses a %s template as unavailable, whatever the parameters', (status) => {
    expect(checkTemplateSend({ ...orderUpdate, status }, complete)).toEqual({ code: 'template_unavailable', message: expect.stringContaining(status) });
  });

  const cases: [string, TemplateRef, string][] = [
    ['one body parameter short, as params', { ...complete, params: ['Priya'] }, 'params'],
    ['one body parameter too many, as params', { ...complete, params: ['Priya', '4821', 'extra'] }, 'params'],
    ['no body parameters at all', { ...complete, params: undefined }, 'params'],
    ['a body component one short', { name: 'order_update', components: [header, trackButton, { type: 'body', parameters: [text('Priya')] }] }, 'components[2].parameters'],
    ['the body both as params and as a component', { ...complete, components: [header, trackButton, { type: 'body', parameters: [text('Priya'), text('4821')] }] }, 'params'],
    ['a body parameter that is not text', { name: 'order_update', components: [header, trackButton, { type: 'body', parameters: [text('Priya'), { type: 'payload', payload: 'x' }] }] }, 'components[2].parameters[1].type'],
    ['no header component', { ...complete, components: [trackButton] }, 'components'],
    ['a header with two parameters', { ...complete, components: [{ type: 'header', parameters: [text('a'), text('b')] }, trackButton] }, 'components[0].parameters'],
    ['two header components', { ...complete, components: [header, header, trackButton] }, 'components[1]'],
    ['no component for the URL button', { ...complete, components: [header] }, 'components'],
    ['a button the template does not have', { ...complete, components: [header, trackButton, { type: 'button', sub_type: 'quick_reply', index: 5, parameters: [] }] }, 'components[2].index'],
    ['a button of another kind', { ...complete, components: [header, { ...trackButton, sub_type: 'quick_reply' }] }, 'components[1].sub_type'],
    ['a URL button without its parameter', { ...complete, components: [header, { ...trackButton, parameters: [] }] }, 'components[1].parameters'],
    ['a quick reply with a text instead of a payload', { ...complete, components: [header, trackButton, { type: 'button', sub_type: 'quick_reply', index: 1, parameters: [text('x')] }] }, 'components[2].parameters[0].type'],
  ];
  test.each(cases)('refuses %s, naming %s', (_, send, path) => {
    expect(checkTemplateSend(orderUpdate, send)).toEqual({ code: 'validation_failed', path, message: expect.any(String) });
  });

  test.each([
    ['IMAGE', { type: 'image', image: { link: 'https://cdn.example/a.jpg' } }, { type: 'video', video: { link: 'https://cdn.example/a.mp4' } }],
    ['DOCUMENT', { type: 'document', document: { link: 'https://cdn.example/a.pdf' } }, text('not a file')],
    ['LOCATION', { type: 'location', location: { latitude: 52.5, longitude: 13.4 } }, text('Berlin')],
  ] as const)('a %s header takes its own kind of parameter and no other', (format, right, wrong) => {
    const definition: TemplateDefinition = { ...orderUpdate, components: [{ type: 'HEADER', format }, body('Hello')] };
    expect(checkTemplateSend(definition, { name: definition.name, components: [{ type: 'header', parameters: [right] }] })).toBeUndefined();
    expect(checkTemplateSend(definition, { name: definition.name, components: [{ type: 'header', parameters: [wrong] }] })).toMatchObject({ path: 'components[0].parameters' });
    expect(checkTemplateSend(definition, { name: definition.name })).toMatchObject({ path: 'components' });
  });

  test('a copy-code button needs its coupon code; a button kind it does not know is passed as given', () => {
    const definition: TemplateDefinition = {
      ...orderUpdate,
      components: [body('Your code'), { type: 'BUTTONS', buttons: [{ type: 'COPY_CODE' }, { type: 'FLOW', text: 'Book' }] }],
    };
    const code: TemplateSendComponent = { type: 'button', sub_type: 'copy_code', index: 0, parameters: [{ type: 'coupon_code', coupon_code: 'SAVE10' }] };
    expect(checkTemplateSend(definition, { name: definition.name, components: [code] })).toBeUndefined();
    expect(checkTemplateSend(definition, { name: definition.name, components: [code, { type: 'button', sub_type: 'flow', index: 1, parameters: [] }] })).toBeUndefined();
    expect(checkTemplateSend(definition, { name: definition.name })).toMatchObject({ path: 'components' });
  });
});

describe('checkTemplateSend: properties', () => {
  /** A body with `n` positional placeholders, some repeated. */
  const bodyArb = fc.integer({ min: 0, max: 8 }).chain((n) =>
    fc.array(fc.integer({ min: 1, max: Math.max(n, 1) }), { maxLength: 4 }).map((repeats) => ({
      n,
      text: ['Hello', ...Array.from({ length: n }, (_, i) => `{{${i + 1}}}`), ...(n > 0 ? repeats.map((r) => `{{${r}}}`) : [])].join(' '),
    })),
  );
  const definitionOfBody = (text: string, status = 'APPROVED'): TemplateDefinition => ({ name: 'promo', language: 'en', category: 'MARKETING', status, components: [body(text)] });

  test('a send with as many body parameters as distinct placeholders is accepted, as params or as a component', () => {
    fc.assert(
      fc.property(bodyArb, fc.boolean(), ({ n, text }, asComponent) => {
        const params = Array.from({ length: n }, (_, i) => `p${i}`);
        const send: TemplateRef = asComponent ? { name: 'promo', components: [{ type: 'body', parameters: params.map((p) => ({ type: 'text', text: p })) }] } : { name: 'promo', params };
        expect(checkTemplateSend(definitionOfBody(text), send)).toBeUndefined();
      }),
    );
  });

  test('any other count is refused, naming the field that carried them', () => {
    fc.assert(
      fc.property(bodyArb, fc.integer({ min: 0, max: 12 }), fc.boolean(), ({ n, text }, given, asComponent) => {
        fc.pre(given !== n);
        const params = Array.from({ length: given }, (_, i) => `p${i}`);
        const send: TemplateRef = asComponent ? { name: 'promo', components: [{ type: 'body', parameters: params.map((p) => ({ type: 'text', text: p })) }] } : { name: 'promo', params };
        expect(checkTemplateSend(definitionOfBody(text), send)).toMatchObject({ code: 'validation_failed', path: asComponent ? 'components[0].parameters' : 'params' });
      }),
    );
  });

  test('a template that is not APPROVED is unavailable before its parameters are looked at', () => {
    const status = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s !== 'APPROVED');
    fc.assert(
      fc.property(bodyArb, status, fc.array(fc.string({ maxLength: 5 }), { maxLength: 10 }), ({ text }, s, params) => {
        expect(checkTemplateSend(definitionOfBody(text, s), { name: 'promo', params })).toMatchObject({ code: 'template_unavailable' });
      }),
    );
  });
});

describe("Meta's status events", () => {
  test.each([
    ['APPROVED', 'APPROVED'],
    ['REJECTED', 'REJECTED'],
    ['PAUSED', 'PAUSED'],
    ['DISABLED', 'DISABLED'],
    ['PENDING_DELETION', 'PENDING_DELETION'],
    ['REINSTATED', 'APPROVED'],
    ['FLAGGED', undefined],
    ['UNARCHIVED', undefined],
  ])('%s leaves the template %s', (event, status) => {
    expect(statusAfterEvent(event)).toBe(status);
  });

  test('the webhook reads a template status update with its business account; one it cannot read is ignored', () => {
    const parsed = parseWhatsAppWebhook(templateStatusWebhookBody({ wabaId: '102290129340398', name: 'order_update', language: 'en_US', event: 'PAUSED' }));
    expect(parsed).toEqual({ messages: [], receipts: [], ignored: 0, templateStatuses: [{ wabaId: '102290129340398', name: 'order_update', language: 'en_US', event: 'PAUSED' }] });
    const unnamed = templateStatusWebhookBody({ wabaId: '1', name: 'x', language: 'en', event: 'PAUSED' });
    delete unnamed.entry[0].changes[0].value.message_template_name;
    expect(parseWhatsAppWebhook(unnamed)).toEqual({ messages: [], receipts: [], ignored: 1 });
  });
});

describe("Graph's listing read into definitions", () => {
  test('keeps what a send is checked against and drops the examples (arrays of arrays, which FerretDB refuses)', () => {
    const raw = {
      id: '5501',
      name: 'order_update',
      language: 'en_US',
      status: 'APPROVED',
      category: 'UTILITY',
      parameter_format: 'POSITIONAL',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['4821'] } },
        { type: 'BODY', text: 'Hi {{1}}', example: { body_text: [['Priya']] } },
        { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/{{1}}', example: ['https://shop.example/1'] }] },
      ],
    };
    expect(definitionOf(raw)).toEqual({
      name: 'order_update',
      language: 'en_US',
      status: 'APPROVED',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' },
        { type: 'BODY', text: 'Hi {{1}}' },
        { type: 'BUTTONS', buttons: [{ type: 'URL', text: 'Track', url: 'https://shop.example/{{1}}' }] },
      ],
    });
  });

  test.each([
    ['no name', { language: 'en', status: 'APPROVED' }],
    ['a name Meta would not give', { name: 'Order Update', language: 'en', status: 'APPROVED' }],
    ['no language', { name: 'a', status: 'APPROVED' }],
    ['no status', { name: 'a', language: 'en' }],
    ['not an object', 'order_update'],
  ])('leaves out a template with %s', (_, raw) => {
    expect(definitionOf(raw)).toBeUndefined();
  });
});

describe('the Cloud API send body of a template', () => {
  const message = (template: TemplateRef): OutboundMessage => ({
    deliveryId: 'd-1',
    accountId: 'acme',
    channel: '15550100001',
    customer: '15550100123',
    conversationId: 'conv:acme:15550100001:15550100123',
    messageId: 'm-1',
    campaignId: null,
    content: { kind: 'template', template },
    replyTo: null,
  });

  test('sends the params shorthand as the body, then the components as given, button indexes as strings', () => {
    expect(graphMessageBody(message(complete))).toMatchObject({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [
          { type: 'body', parameters: [text('Priya'), text('4821')] },
          { type: 'header', parameters: [text('4821')] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [text('4821')] },
        ],
      },
    });
  });
});

describe("the inbox picker's fields and the send they make", () => {
  test('asks for the header, each body placeholder and the URL button, and makes a send the check accepts', () => {
    expect(templateFields(orderUpdate).map((f) => f.key)).toEqual(['header:1', 'body:1', 'body:2', 'button:0']);
    const values = { 'header:1': '4821', 'body:1': 'Priya', 'body:2': '4821', 'button:0': '4821' };
    expect(missingField(orderUpdate, values)).toBeUndefined();
    expect(missingField(orderUpdate, { ...values, 'body:2': ' ' })?.key).toBe('body:2');
    const send = templateSendOf(orderUpdate, values);
    expect(send).toEqual({ name: 'order_update', language: 'en_US', params: ['Priya', '4821'], components: [header, trackButton] });
    expect(checkTemplateSend(orderUpdate, send)).toBeUndefined();
    expect(previewOf(orderUpdate, { 'body:1': 'Priya' })).toBe('Hi Priya, your order {{2}} is on its way.');
  });

  test('any definition: the send made from every field filled is accepted', () => {
    const definitionArb = fc.record({
      header: fc.constantFrom('none', 'text', 'IMAGE', 'VIDEO', 'DOCUMENT'),
      body: fc.integer({ min: 0, max: 6 }),
      buttons: fc.array(fc.constantFrom('QUICK_REPLY', 'URL', 'URL_STATIC', 'COPY_CODE', 'PHONE_NUMBER'), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(definitionArb, ({ header: h, body: n, buttons }) => {
        const components: TemplateDefinition['components'] = [];
        if (h === 'text') components.push({ type: 'HEADER', format: 'TEXT', text: 'Order {{1}}' });
        else if (h !== 'none') components.push({ type: 'HEADER', format: h });
        components.push(body(['Hi', ...Array.from({ length: n }, (_, i) => `{{${i + 1}}}`)].join(' ')));
        if (buttons.length > 0) {
          components.push({
            type: 'BUTTONS',
            buttons: buttons.map((type) => (type === 'URL_STATIC' ? { type: 'URL', text: 'Site', url: 'https://shop.example/' } : { type, text: 'B', url: 'https://shop.example/{{1}}' })),
          });
        }
        const definition: TemplateDefinition = { name: 'any', language: 'en', category: 'UTILITY', status: 'APPROVED', components };
        const values = Object.fromEntries(templateFields(definition).map((f) => [f.key, f.kind === 'link' ? 'https://cdn.example/file' : 'v']));
        expect(checkTemplateSend(definition, templateSendOf(definition, values))).toBeUndefined();
      }),
    );
  });
});
