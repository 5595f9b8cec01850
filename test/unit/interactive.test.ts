/**
 * Interactive replies (SPEC 10): Meta's limits as a table of cases, properties over generated messages,
 * the record the timeline keeps, and the Cloud API body each one becomes.
 */
import fc from 'fast-check';
import type { InteractiveMessage } from '../../workflows/conversation/core/interactive';
import { choicesOf, interactiveLimits, interactiveProblems } from '../../workflows/conversation/core/interactive';
import { recordOf } from '../../workflows/conversation/core/draft';
import { flatContentOf } from '../../workflows/conversation/core/outbound';
import { actionOverLimit } from '../../workflows/conversation/core/limits';
import { graphMessageBody } from '../../channels/whatsapp/graph';
import { webhookDeliveryBody } from '../../channels/webhook-provider';
import type { OutboundMessage } from '../../channels/types';
import { reply } from '../../api/schemas';

const buttons: InteractiveMessage = {
  type: 'button',
  body: 'Did this solve it?',
  buttons: [
    { id: 'yes', title: 'Yes' },
    { id: 'no', title: 'No' },
  ],
};

const list: InteractiveMessage = {
  type: 'list',
  body: 'Pick a slot',
  button: 'Slots',
  sections: [
    { title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'with Ana' }, { id: 'm10', title: '10:00' }] },
    { title: 'Afternoon', rows: [{ id: 'a2', title: '14:00' }] },
  ],
};

const x = (n: number) => 'x'.repeat(n);
const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `r${from + i}`, title: `Row ${from + i}` }));

/** [case, message, the path of the first problem (joined with "."), or undefined when WhatsApp takes it]. */
const table: [string, InteractiveMessage, string | undefined][] = [
  ['two buttons', buttons, undefined],
  ['a list of two sections', list, undefined],
  ['one button', { ...buttons, buttons: [{ id: 'ok', title: 'OK' }] }, undefined],
  ['three buttons', { ...buttons, buttons: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }, { id: 'c', title: 'C' }] }, undefined],
  ['no button', { ...buttons, buttons: [] }, 'buttons'],
  ['four buttons', { ...buttons, buttons: [{ id: 'a', title: 'A' }, { id: 'b', title: 'B' }, { id: 'c', title: 'C' }, { id: 'd', title: 'D' }] }, 'buttons'],
  ['a button title of 20 characters', { ...buttons, buttons: [{ id: 'a', title: x(20) }] }, undefined],
  ['a button title of 21 characters', { ...buttons, buttons: [{ id: 'a', title: 'ok' }, { id: 'b', title: x(21) }] }, 'buttons.1.title'],
  ['an emoji counts as one character', { ...buttons, buttons: [{ id: 'a', title: '👍'.repeat(20) }] }, undefined],
  ['a blank button title', { ...buttons, buttons: [{ id: 'a', title: '  ' }] }, 'buttons.0.title'],
  ['a button id of 257 characters', { ...buttons, buttons: [{ id: x(257), title: 'A' }] }, 'buttons.0.id'],
  ['two buttons with one id', { ...buttons, buttons: [{ id: 'a', title: 'A' }, { id: 'a', title: 'B' }] }, 'buttons.1.id'],
  ['two buttons with one title', { ...buttons, buttons: [{ id: 'a', title: 'A' }, { id: 'b', title: 'A' }] }, 'buttons.1.title'],
  ['a body of 1024 characters', { ...buttons, body: x(1024) }, undefined],
  ['a body of 1025 characters', { ...buttons, body: x(1025) }, 'body'],
  ['an empty body', { ...buttons, body: '' }, 'body'],
  ['a list button label of 21 characters', { ...list, button: x(21) } as InteractiveMessage, 'button'],
  ['ten rows over two sections', { ...list, sections: [{ title: 'A', rows: rows(5) }, { title: 'B', rows: rows(5, 5) }] } as InteractiveMessage, undefined],
  ['eleven rows over two sections', { ...list, sections: [{ title: 'A', rows: rows(5) }, { title: 'B', rows: rows(6, 5) }] } as InteractiveMessage, 'sections'],
  ['one section without a title', { ...list, sections: [{ rows: rows(2) }] } as InteractiveMessage, undefined],
  ['two sections, one without a title', { ...list, sections: [{ title: 'A', rows: rows(1) }, { rows: rows(1, 1) }] } as InteractiveMessage, 'sections.1.title'],
  ['a section title of 25 characters', { ...list, sections: [{ title: x(25), rows: rows(1) }] } as InteractiveMessage, 'sections.0.title'],
  ['a section without rows', { ...list, sections: [{ title: 'A', rows: [] }] } as InteractiveMessage, 'sections.0.rows'],
  ['no section', { ...list, sections: [] } as InteractiveMessage, 'sections'],
  ['a row title of 25 characters', { ...list, sections: [{ rows: [{ id: 'a', title: x(25) }] }] } as InteractiveMessage, 'sections.0.rows.0.title'],
  ['a row description of 72 characters', { ...list, sections: [{ rows: [{ id: 'a', title: 'A', description: x(72) }] }] } as InteractiveMessage, undefined],
  ['a row description of 73 characters', { ...list, sections: [{ rows: [{ id: 'a', title: 'A', description: x(73) }] }] } as InteractiveMessage, 'sections.0.rows.0.description'],
  ['a row id of 201 characters', { ...list, sections: [{ rows: [{ id: x(201), title: 'A' }] }] } as InteractiveMessage, 'sections.0.rows.0.id'],
  ['one row id in two sections', { ...list, sections: [{ title: 'A', rows: rows(1) }, { title: 'B', rows: rows(1) }] } as InteractiveMessage, 'sections.1.rows.0.id'],
];

describe('interactiveProblems: Meta limits', () => {
  it.each(table)('%s', (_name, message, path) => {
    const [first] = interactiveProblems(message);
    expect(first?.path.join('.')).toBe(path);
  });
});

const shortText = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter((s) => s.trim() !== '' && Array.from(s).length <= max);

const validButtons: fc.Arbitrary<InteractiveMessage> = fc
  .uniqueArray(fc.record({ id: shortText(interactiveLimits.buttonId), title: shortText(interactiveLimits.buttonTitle) }), {
    minLength: 1,
    maxLength: 3,
    selector: (b) => b.id,
  })
  .filter((bs) => new Set(bs.map((b) => b.title)).size === bs.length)
  .chain((bs) => shortText(interactiveLimits.body).map((body) => ({ type: 'button' as const, body, buttons: bs })));

const validList: fc.Arbitrary<InteractiveMessage> = fc
  .uniqueArray(fc.record({ id: shortText(interactiveLimits.rowId), title: shortText(interactiveLimits.rowTitle), description: fc.option(shortText(72), { nil: undefined }) }), {
    minLength: 1,
    maxLength: 10,
    selector: (r) => r.id,
  })
  .chain((all) =>
    fc.record({
      cut: fc.integer({ min: 1, max: all.length }),
      body: shortText(interactiveLimits.body),
      button: shortText(interactiveLimits.listButton),
      titles: fc.tuple(shortText(24), shortText(24)),
    }).map(({ cut, body, button, titles }) => {
      const sections = cut === all.length ? [{ title: titles[0], rows: all }] : [{ title: titles[0], rows: all.slice(0, cut) }, { title: titles[1], rows: all.slice(cut) }];
      const strip = sections.map((s) => ({ ...s, rows: s.rows.map((r) => (r.description === undefined ? { id: r.id, title: r.title } : r)) }));
      return { type: 'list' as const, body, button, sections: strip };
    }),
  );

describe('interactiveProblems: properties', () => {
  it('takes every message within the limits, and the API schema takes it too', () => {
    fc.assert(
      fc.property(fc.oneof(validButtons, validList), (message) => {
        expect(interactiveProblems(message)).toEqual([]);
        expect(reply.safeParse({ interactive: message }).success).toBe(true);
      }),
    );
  });

  it('refuses a message with one choice title made too long, naming that title', () => {
    fc.assert(
      fc.property(fc.oneof(validButtons, validList), fc.nat(), (message, pick) => {
        const long = x(30);
        let path: string;
        let broken: InteractiveMessage;
        if (message.type === 'button') {
          const i = pick % message.buttons.length;
          broken = { ...message, buttons: message.buttons.map((b, j) => (j === i ? { ...b, title: long } : b)) };
          path = `buttons.${i}.title`;
        } else {
          const s = pick % message.sections.length;
          broken = { ...message, sections: message.sections.map((sec, j) => (j === s ? { ...sec, rows: sec.rows.map((r, k) => (k === 0 ? { ...r, title: long } : r)) } : sec)) };
          path = `sections.${s}.rows.0.title`;
        }
        expect(interactiveProblems(broken).map((p) => p.path.join('.'))).toEqual([path]);
        const parsed = reply.safeParse({ interactive: broken });
        expect(parsed.success).toBe(false);
        expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual([`interactive.${path}`]);
      }),
    );
  });

  it('lists every choice in order', () => {
    fc.assert(
      fc.property(validList, (message) => {
        if (message.type !== 'list') return;
        expect(choicesOf(message).map((c) => c.id)).toEqual(message.sections.flatMap((s) => s.rows.map((r) => r.id)));
      }),
    );
  });
});

describe('the reply body', () => {
  it('takes text or interactive, not both and not neither', () => {
    expect(reply.safeParse({ text: 'hi' }).success).toBe(true);
    expect(reply.safeParse({ interactive: buttons }).success).toBe(true);
    expect(reply.safeParse({ text: 'hi', interactive: buttons }).error?.issues[0]?.path).toEqual(['interactive']);
    expect(reply.safeParse({}).error?.issues[0]?.path).toEqual(['text']);
    expect(reply.safeParse({ interactive: { type: 'carousel', body: 'b' } }).success).toBe(false);
  });

  it("the workflow's validator refuses what the API would, naming the same field", () => {
    const input = { type: 'reply' as const, content: { kind: 'interactive' as const, interactive: { ...buttons, buttons: [{ id: 'a', title: x(21) }] } } };
    expect(actionOverLimit(input, { tags: [] })).toMatchObject({ code: 'validation_failed', field: 'interactive.buttons.0.title' });
    expect(actionOverLimit({ ...input, content: { kind: 'interactive', interactive: buttons } }, { tags: [] })).toBeUndefined();
  });
});

describe('the record and the sends', () => {
  it('records the body as the text and the message whole as content', () => {
    expect(recordOf({ kind: 'interactive', interactive: list })).toEqual({ kind: 'interactive', text: 'Pick a slot', template: null, content: { interactive: list } });
  });

  it('stores no array directly inside an array (FerretDB refuses them)', () => {
    const nestedArray = (value: unknown): boolean =>
      Array.isArray(value) ? value.some((item) => Array.isArray(item) || nestedArray(item)) : typeof value === 'object' && value !== null && Object.values(value).some(nestedArray);
    expect(nestedArray(recordOf({ kind: 'interactive', interactive: list }))).toBe(false);
    expect(nestedArray(recordOf({ kind: 'interactive', interactive: buttons }))).toBe(false);
  });

  const outbound = (interactive: InteractiveMessage): OutboundMessage => ({
    deliveryId: 'delivery-1',
    accountId: 'acc-1',
    channel: '15550100001',
    customer: '15550100123',
    conversationId: 'conv:acc-1:15550100001:15550100123',
    messageId: 'msg-1',
    campaignId: null,
    content: { kind: 'interactive', interactive },
    replyTo: null,
  });

  it('sends reply buttons in the Cloud API shape', () => {
    expect(graphMessageBody(outbound(buttons))).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+15550100123',
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Did this solve it?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
            { type: 'reply', reply: { id: 'no', title: 'No' } },
          ],
        },
      },
    });
  });

  it('sends a list in the Cloud API shape', () => {
    expect(graphMessageBody(outbound(list))).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'Pick a slot' },
        action: {
          button: 'Slots',
          sections: [
            { title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'with Ana' }, { id: 'm10', title: '10:00' }] },
            { title: 'Afternoon', rows: [{ id: 'a2', title: '14:00' }] },
          ],
        },
      },
    });
  });

  it('gives the webhook provider the message whole, beside kind, text and template', () => {
    expect(flatContentOf({ kind: 'interactive', interactive: buttons })).toEqual({ kind: 'interactive', text: null, template: null, interactive: buttons });
    expect(webhookDeliveryBody(outbound(list))).toMatchObject({ type: 'message', kind: 'interactive', text: null, template: null, interactive: list, replyTo: null });
  });
});
