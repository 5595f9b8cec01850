/**
 * Outbound content is one union from the API to the adapters (workflows/conversation/core/outbound.ts).
 * Recorded histories, states carried across continue-as-new, activities scheduled by older workers and
 * older API processes still hold the shapes from before it; every boundary reads both.
 */
import type { LegacyOutboundMessage, OutboundMessage } from '../../channels/types';
import type { ConversationState, OutboxEntry } from '../../workflows/conversation/core/lifecycle';
import { initialState, upgradeState } from '../../workflows/conversation/core/lifecycle';
import { actionInput } from '../../workflows/conversation/core/inputs';
import { recordOf } from '../../workflows/conversation/core/draft';
import type { OutboundContent } from '../../workflows/conversation/core/outbound';
import { flatContentOf, outboundContentOf, withContent } from '../../workflows/conversation/core/outbound';

const actor = { kind: 'user', userId: 'u-1', role: 'agent' } as const;
const text: OutboundContent = { kind: 'text', text: 'on it' };
const template: OutboundContent = { kind: 'template', template: { name: 'follow_up', language: 'en', params: ['Ana'] } };

describe('the update arguments, in either shape', () => {
  test('a reply carries its content whole, and its quoted message beside it', () => {
    expect(actionInput.reply({ actor, content: { kind: 'text', text: 'on it' }, replyTo: 'wamid-1' })).toEqual({ type: 'reply', content: text, replyTo: 'wamid-1' });
  });

  test('a reply recorded before the union ({ text }) becomes the same input', () => {
    expect(actionInput.reply({ actor, text: 'on it', replyTo: 'wamid-1' })).toEqual({ type: 'reply', content: text, replyTo: 'wamid-1' });
    expect(actionInput.reply({ actor, text: 'on it' })).toEqual({ type: 'reply', content: text, replyTo: undefined });
  });

  test('a template, new or recorded before the union ({ template }), becomes the same input', () => {
    const expected = { type: 'template', content: template };
    expect(actionInput.template({ actor, content: { kind: 'template', template: { name: 'follow_up', language: 'en', params: ['Ana'] } } })).toEqual(expected);
    expect(actionInput.template({ actor, template: { name: 'follow_up', language: 'en', params: ['Ana'] } })).toEqual(expected);
  });
});

describe('the flat fields of older send requests and deliver inputs', () => {
  test.each([
    ['a text', { kind: 'text', text: 'on it', template: null }, text],
    ['a template', { kind: 'template', text: null, template: template.kind === 'template' ? template.template : null }, template],
    ['a text without text (refused by the adapters, as before)', { kind: 'text', text: null, template: null }, { kind: 'text', text: '' }],
    ['a template without a template (refused by the adapters, as before)', { kind: 'template', text: null, template: null }, { kind: 'template', template: { name: '' } }],
  ] as const)('%s maps to the union', (_name, legacy, expected) => {
    expect(outboundContentOf(legacy)).toEqual(expected);
  });

  test('content already in the union passes through unchanged', () => {
    expect(outboundContentOf({ content: template })).toBe(template);
  });

  test('a deliver input scheduled by an older worker keeps its envelope and gets its content as the union', () => {
    const envelope = {
      deliveryId: 'conv:a:wa:1/out-3',
      accountId: 'a',
      channel: 'wa',
      customer: '1',
      conversationId: 'conv:a:wa:1',
      messageId: 'out-3',
      campaignId: null,
      replyTo: 'wamid-1',
    };
    const legacy: LegacyOutboundMessage = { ...envelope, kind: 'text', text: 'on it', template: null };
    const current: OutboundMessage = { ...envelope, content: text };
    expect(withContent(legacy)).toEqual(current);
    expect(withContent(current)).toEqual(current);
  });
});

describe('the flat form of the public shapes (webhook body, recording document, timeline record)', () => {
  test('keeps kind, text and template, null when not the kind’s, in that order', () => {
    expect(flatContentOf(text)).toEqual({ kind: 'text', text: 'on it', template: null });
    expect(Object.keys(flatContentOf(template))).toEqual(['kind', 'text', 'template']);
    expect(flatContentOf(template)).toEqual({ kind: 'template', text: null, template: { name: 'follow_up', language: 'en', params: ['Ana'] } });
  });

  test('the timeline record shows the same fields', () => {
    expect(recordOf(text)).toEqual({ ...flatContentOf(text), content: null });
    expect(recordOf(template)).toEqual({ ...flatContentOf(template), content: null });
  });
});

describe('a state carried across continue-as-new from before the union', () => {
  test('has its queued messages read as the union; sent ones and current ones are left alone', () => {
    const entry = (messageId: string, send: unknown): OutboxEntry =>
      ({ messageId, version: 3, status: send === null ? 'sent' : 'queued', providerMessageId: null, send }) as OutboxEntry;
    const carried: ConversationState = {
      ...initialState({ conversationId: 'conv:a:wa:1', accountId: 'a', channel: 'wa', customer: '1' }),
      outbox: [
        entry('out-1', null),
        entry('out-2', { kind: 'text', text: 'on it', template: null, replyTo: 'wamid-1' }),
        entry('out-3', { kind: 'template', text: null, template: { name: 'follow_up', language: 'en', params: ['Ana'] }, replyTo: null }),
        entry('out-4', { content: text, replyTo: null }),
      ],
    };
    expect(upgradeState(carried).outbox.map((e) => e.send)).toEqual([
      null,
      { content: text, replyTo: 'wamid-1' },
      { content: template, replyTo: null },
      { content: text, replyTo: null },
    ]);
  });
});
