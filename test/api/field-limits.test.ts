import { randomUUID } from 'node:crypto';
import { customerMessageSignal, conversationWorkflowId } from '../../workflows/conversation/messages';
import { metaWebhookBody, signedMetaRequest } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import type { Stack } from '../support/stack';
import { eventually } from '../support/stack';

/**
 * Issue 24 items 5 and 8, SPEC section 12 "Field limits": one set of limits on every path in. Over a
 * limit, HTTP answers 400 `validation_failed` naming the field (before: 202 and the message silently
 * refused by the store, or 500); a signed WhatsApp item is recorded cut, with `truncated: true`; a
 * signal is brought within the limits by the workflow; nothing the customer wrote is lost.
 */
describe('field limits', () => {
  const env = useStackWithAccount();
  let stack: Stack;
  let a: Account;
  const appSecret = `app-secret-${randomUUID()}`;
  const phoneNumberId = '114002873009876';
  const channel = '15550109876';

  beforeAll(async () => {
    ({ stack, account: a } = env);
    const put = await stack.http.request('PUT', `/v1/accounts/${a.id}/channels/${channel}`, {
      key: a.keys.owner,
      body: { provider: 'whatsapp_cloud', phoneNumberId, accessToken: `token-${randomUUID()}`, appSecret, verifyToken: `verify-${randomUUID()}` },
    });
    if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
  });

  const messagesPath = () => `/v1/accounts/${a.id}/messages`;
  const sendMessage = (body: Record<string, unknown>) =>
    stack.http.post(messagesPath(), { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text: 'hello', ...body }, a.keys.service);
  const expect400 = (reply: { status: number; body: any }, field: RegExp) => {
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe('validation_failed');
    expect(reply.body.error.message).toMatch(field);
  };
  const timeline = async (conversationId: string): Promise<any[]> =>
    (await stack.http.get(conversationPath(a, conversationId, '/messages?limit=500'), a.keys.owner)).body.messages ?? [];
  const recorded = (conversationId: string, messageId: string) =>
    eventually(async () => (await timeline(conversationId)).find((m) => m.messageId === messageId));
  const metaPosts = (body: unknown) => {
    const { rawBody, headers } = signedMetaRequest(body, appSecret);
    return stack.http.request('POST', `/webhooks/whatsapp/${a.id}`, { body: rawBody, headers });
  };
  const textMessage = (from: string, text: string, wamid = `wamid.${randomUUID()}`) => ({ from, id: wamid, timestamp: '1733500000', type: 'text', text: { body: text } });

  /** `[[[...]]]` nested `levels` deep, as JSON text. */
  const nestedText = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

  describe('over HTTP: 400 naming the field, never 202 then lost, never 500', () => {
    test('attributes {"utm.source": "ad"}', async () => {
      expect400(await sendMessage({ attributes: { 'utm.source': 'ad' } }), /attributes\.utm\.source: a key: letters, digits/);
    });

    test('an attribute key with a leading "$", and 51 attributes', async () => {
      expect400(await sendMessage({ attributes: { $where: 'x' } }), /attributes/);
      expect400(await sendMessage({ attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }), /attributes: at most 50 attributes/);
    });

    test('arrays nested 40 deep in content.contacts', async () => {
      const body = `{"channel":"wa-main","customer":"${newCustomer()}","messageId":"wamid.${randomUUID()}","type":"contacts","content":{"contacts":[{"x":${nestedText(40)}}]}}`;
      expect400(await stack.http.request('POST', messagesPath(), { key: a.keys.service, body }), /body: nested more than 32 levels deep/);
    });

    test('a contact card with a dotted key anywhere in it', async () => {
      expect400(await sendMessage({ type: 'contacts', content: { contacts: [{ name: { 'first.name': 'Ana' } }] } }), /content\.contacts\.0\.name: the key at name\.first\.name/);
      expect400(await sendMessage({ type: 'contacts', content: { contacts: [{ $set: 1 }] } }), /content\.contacts\.0/);
    });

    test('an array directly inside an array in content (FerretDB: "nested arrays are not supported")', async () => {
      expect400(await sendMessage({ type: 'contacts', content: { contacts: [{ phones: [['+1', '+2']] }] } }), /content\.contacts\.0\.phones: phones\.0 is an array directly inside an array/);
    });

    test('arrays nested 50,000 deep (100 KB), with and without a key', async () => {
      for (const key of [a.keys.service, undefined]) {
        expect400(await stack.http.request('POST', messagesPath(), { key, body: nestedText(50_000) }), /nested more than 32 levels/);
      }
    });

    test('a routing rule matching a dotted key', async () => {
      const reply = await stack.http.patch(`/v1/accounts/${a.id}/policy`, { routing: { mode: 'round_robin', rules: [{ match: { 'utm.source': 'ad' }, team: 'sales' }] } }, a.keys.owner);
      expect400(reply, /routing\.rules\.0\.match\.utm\.source: a key/);
    });

    test('a text of 4,097 characters; 4,096 is accepted and recorded whole', async () => {
      expect400(await sendMessage({ text: 'x'.repeat(4097) }), /text: Too big/);
      const customer = newCustomer();
      const { conversationId, messageId } = await customerWrites(stack, a, { customer, text: 'y'.repeat(4096) });
      expect((await recorded(conversationId, messageId)).text).toHaveLength(4096);
    });

    test('60 tags on one conversation: the 51st is refused naming add', async () => {
      const { conversationId } = await customerWrites(stack, a, { customer: newCustomer() });
      const tags = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `tag-${from + i}`);
      const fifty = await stack.http.post(conversationPath(a, conversationId, '/tags'), { add: tags(0, 50) }, a.keys.owner);
      expect(fifty.status).toBe(200);
      expect400(await stack.http.post(conversationPath(a, conversationId, '/tags'), { add: tags(50, 60) }, a.keys.owner), /add: a conversation holds at most 50 tags/);
      // Replacing some stays possible.
      const swapped = await stack.http.post(conversationPath(a, conversationId, '/tags'), { add: ['other'], remove: ['tag-0'] }, a.keys.owner);
      expect(swapped.status).toBe(200);
      expect(swapped.body.conversation.tags).toHaveLength(50);
    });
  });

  describe('through the signed WhatsApp webhook: recorded within the limits, nothing lost', () => {
    test('a text of 5,000 characters is recorded cut to 4,096 with truncated: true', async () => {
      const customer = newCustomer();
      const wamid = `wamid.${randomUUID()}`;
      const reply = await metaPosts(metaWebhookBody({ phoneNumberId, messages: [textMessage(customer, 'z'.repeat(5000), wamid)] }));
      expect(reply.status).toBe(200);
      const message = await recorded(conversationWorkflowId({ accountId: a.id, channel, customer }), wamid);
      expect(message.text).toBe('z'.repeat(4096));
      expect(message.truncated).toBe(true);
    });

    test('a contact card with dotted and "$" keys is recorded, its keys escaped', async () => {
      const customer = newCustomer();
      const wamid = `wamid.${randomUUID()}`;
      const contacts = [{ name: { formatted_name: 'Ana', 'x.y': 'kept' }, $extra: 1 }];
      const reply = await metaPosts(metaWebhookBody({ phoneNumberId, messages: [{ from: customer, id: wamid, timestamp: '1733500000', type: 'contacts', contacts }] }));
      expect(reply.status).toBe(200);
      const message = await recorded(conversationWorkflowId({ accountId: a.id, channel, customer }), wamid);
      expect(message.content.contacts).toEqual([{ name: { formatted_name: 'Ana', 'x\uff0ey': 'kept' }, '\uff04extra': 1 }]);
      expect(message.truncated).toBeUndefined();
    });

    test('a contact card with an array inside an array is recorded, the inner array wrapped', async () => {
      const customer = newCustomer();
      const wamid = `wamid.${randomUUID()}`;
      const contacts = [{ name: { formatted_name: 'Ana' }, phones: [['+1', '+2']] }];
      const reply = await metaPosts(metaWebhookBody({ phoneNumberId, messages: [{ from: customer, id: wamid, timestamp: '1733500000', type: 'contacts', contacts }] }));
      expect(reply.status).toBe(200);
      const message = await recorded(conversationWorkflowId({ accountId: a.id, channel, customer }), wamid);
      expect(message.content.contacts).toEqual([{ name: { formatted_name: 'Ana' }, phones: [{ items: ['+1', '+2'] }] }]);
      expect(message.truncated).toBeUndefined();
    });

    test('more than 1,000 items in one body answers 400 naming the field', async () => {
      const customer = newCustomer();
      const messages = Array.from({ length: 1001 }, (_, i) => textMessage(customer, `m${i}`));
      expect400(await metaPosts(metaWebhookBody({ phoneNumberId, messages })), /entry\[0\]\.changes\[0\]\.value\.messages makes more than 1000 items/);
    });

    test("one body with many messages of one customer records them in the body's order", async () => {
      const customer = newCustomer();
      const other = newCustomer();
      // Interleaved with another customer's, so that both conversations are signalled at once.
      const mine = Array.from({ length: 60 }, (_, i) => textMessage(customer, `in order ${i}`));
      const theirs = Array.from({ length: 60 }, (_, i) => textMessage(other, `theirs ${i}`));
      const reply = await metaPosts(metaWebhookBody({ phoneNumberId, messages: mine.flatMap((m, i) => [m, theirs[i]!]) }));
      expect(reply.status).toBe(200);
      const conversationId = conversationWorkflowId({ accountId: a.id, channel, customer });
      const all = await eventually(async () => {
        const messages = await timeline(conversationId);
        return messages.length === 60 ? messages : undefined;
      });
      expect(all.map((m) => m.text)).toEqual(mine.map((m) => m.text.body));
    });
  });

  describe('through a signal (a backend service signalling the workflow itself)', () => {
    test('a 5,000-character text and a dotted attribute key are recorded within the limits', async () => {
      const customer = newCustomer();
      const conversationId = conversationWorkflowId({ accountId: a.id, channel: 'wa-main', customer });
      const messageId = `wamid.${randomUUID()}`;
      await stack.client.workflow.signalWithStart('conversationWorkflow', {
        workflowId: conversationId,
        taskQueue: stack.taskQueue,
        args: [{ accountId: a.id, channel: 'wa-main', customer }],
        signal: customerMessageSignal,
        signalArgs: [{ messageId, text: 'w'.repeat(5000), attributes: { 'utm.source': 'ad' } }],
      });
      const message = await recorded(conversationId, messageId);
      expect(message.text).toHaveLength(4096);
      expect(message.truncated).toBe(true);
      expect(message.attributes).toEqual({ utm_source: 'ad' });
    });
  });
});
