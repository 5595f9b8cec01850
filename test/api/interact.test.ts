import { randomUUID } from 'node:crypto';
import type { FakeGraph, FakeGraphRequest } from '../support/fake-graph';
import { inboundButtonReplyBody, inboundTextBody, isReadRequest, isTypingRequest, signedMetaRequest, startFakeGraph } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationApi, conversationPath, createAccount, newCustomer } from '../support/scenario';
import { capturedLogs, eventually, useStack } from '../support/stack';

/**
 * SPEC 10 end to end, on the real stack with a fake Graph API on loopback: interactive replies (buttons
 * and lists) go out in Meta's shape and the customer's choice comes back; the customer's messages are
 * marked read at WhatsApp when the assignee replies (`markRead: "on_reply"`) or opens the conversation
 * (`"on_open"`); `POST .../typing` shows the typing indicator at most once every 20 s.
 */
const secrets = { accessToken: `EAAG-token-${randomUUID()}`, appSecret: `app-secret-${randomUUID()}`, verifyToken: `verify-${randomUUID()}` };
const phoneNumberId = '114002873009999';
const channel = '15550100009';

let fake: FakeGraph;
const logs = capturedLogs('debug');
beforeAll(async () => {
  fake = await startFakeGraph();
});
afterAll(async () => {
  await fake?.close();
});

const env = useStack(() => ({ whatsappGraphUrl: fake.url, log: logs.logger }));
const api = conversationApi(env);
let account: Account;
let onOpen: Account;

async function whatsappAccount(policy?: Record<string, string>): Promise<Account> {
  const made = await createAccount(env.stack, policy);
  const put = await env.stack.http.request('PUT', `/v1/accounts/${made.id}/channels/${channel}`, {
    key: made.keys.owner,
    body: { provider: 'whatsapp_cloud', phoneNumberId, accessToken: secrets.accessToken, appSecret: secrets.appSecret, verifyToken: secrets.verifyToken },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
  return made;
}

beforeAll(async () => {
  account = await whatsappAccount();
  onOpen = await whatsappAccount({ markRead: 'on_open' });
});

async function timeline(of: Account, conversationId: string): Promise<any[]> {
  return (await env.stack.http.get(conversationPath(of, conversationId, '/messages?limit=500'), of.keys.agent)).body.messages;
}

/** A customer writes through the signed webhook; resolves once the timeline shows the message. */
async function customerWrites(of: Account, customer: string, body?: (wamid: string) => unknown) {
  const wamid = `wamid.${randomUUID()}`;
  const { rawBody, headers } = signedMetaRequest(body ? body(wamid) : inboundTextBody({ phoneNumberId, from: customer, name: 'Priya', wamid, text: 'Hi there' }), secrets.appSecret);
  const res = await env.stack.http.request('POST', `/webhooks/whatsapp/${of.id}`, { body: rawBody, headers });
  expect(res.status).toBe(200);
  const conversationId = `conv:${of.id}:${channel}:${customer}`;
  const message = await eventually(async () => (await timeline(of, conversationId)).find((m) => m.messageId === wamid));
  return { conversationId, wamid, message };
}

const buttons = {
  type: 'button',
  body: 'Did this solve your problem?',
  buttons: [
    { id: 'solved', title: 'Yes, thanks' },
    { id: 'not_solved', title: 'Not yet' },
  ],
};

describe('interactive replies', () => {
  test("reply buttons reach Graph in Meta's shape, show on the timeline whole, and the customer's tap comes back as their choice", async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(account, customer);
    const sent = await api.act(account, conversationId, 'replies', account.keys.agent, { interactive: buttons });
    expect(sent.status).toBe(200);

    const request = await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.type === 'interactive');
    expect(request.body.interactive).toEqual({
      type: 'button',
      body: { text: 'Did this solve your problem?' },
      action: {
        buttons: [
          { type: 'reply', reply: { id: 'solved', title: 'Yes, thanks' } },
          { type: 'reply', reply: { id: 'not_solved', title: 'Not yet' } },
        ],
      },
    });
    const recorded = (await timeline(account, conversationId)).find((m) => m.messageId === sent.body.messageId);
    expect(recorded).toMatchObject({ direction: 'outbound', kind: 'interactive', text: 'Did this solve your problem?', content: { interactive: buttons } });

    const { message } = await customerWrites(account, customer, (wamid) =>
      inboundButtonReplyBody({ phoneNumberId, from: customer, wamid, buttonId: 'solved', title: 'Yes, thanks', contextId: request.wamid! }),
    );
    expect(message).toMatchObject({ direction: 'inbound', kind: 'interactive', text: 'Yes, thanks', content: { choice: { id: 'solved', title: 'Yes, thanks', type: 'button_reply' } } });
  });

  test("a list goes out with its button and sections; a list of 11 rows answers 400 naming the field, and nothing is recorded", async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(account, customer);
    const rows = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ id: `slot-${from + i}`, title: `${9 + from + i}:00` }));
    const tooLong = { type: 'list', body: 'Pick a time', button: 'Times', sections: [{ title: 'Morning', rows: rows(6, 0) }, { title: 'Afternoon', rows: rows(5, 6) }] };
    const refused = await api.act(account, conversationId, 'replies', account.keys.agent, { interactive: tooLong });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'interactive.sections' }] });
    const wordy = await api.act(account, conversationId, 'replies', account.keys.agent, { interactive: { ...buttons, buttons: [{ id: 'a', title: 'A title far over twenty' }] } });
    expect(wordy.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'interactive.buttons.0.title' }] });

    const list = { ...tooLong, sections: [{ title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'with Ana' }] }, { title: 'Afternoon', rows: rows(2, 6) }] };
    const sent = await api.act(account, conversationId, 'replies', account.keys.agent, { interactive: list });
    expect(sent.status).toBe(200);
    const request = await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.type === 'interactive');
    expect(request.body.interactive).toEqual({
      type: 'list',
      body: { text: 'Pick a time' },
      action: {
        button: 'Times',
        sections: [
          { title: 'Morning', rows: [{ id: 'm9', title: '9:00', description: 'with Ana' }] },
          { title: 'Afternoon', rows: [{ id: 'slot-6', title: '15:00' }, { id: 'slot-7', title: '16:00' }] },
        ],
      },
    });
    // Only the list was recorded: the customer's message and the one reply.
    expect((await timeline(account, conversationId)).map((m) => m.kind)).toEqual(['text', 'interactive']);
  });
});

const readsOf = (wamid: string) => (r: FakeGraphRequest) => isReadRequest(r) && r.body.message_id === wamid;

describe('read and typing', () => {
  test("on_reply (the default): the assignee's reply marks the customer's latest message read at WhatsApp, once", async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(account, customer);
    const { wamid: latest } = await customerWrites(account, customer);
    expect((await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Looking now' })).status).toBe(200);
    const read = await fake.waitFor(readsOf(latest));
    expect(read).toMatchObject({ phoneNumberId, token: secrets.accessToken });
    expect(read.body).toEqual({ messaging_product: 'whatsapp', status: 'read', message_id: latest });

    // A second reply marks nothing new: its send reaching Graph is the probe, then one read is all there is.
    expect((await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Found it' })).status).toBe(200);
    await fake.waitFor((r) => r.body?.text?.body === 'Found it');
    const marks = () => fake.requests.filter((r) => r.body?.status === 'read' && r.body?.message_id === latest);
    expect(marks()).toHaveLength(1);
  });

  test("on_open: the assignee's read mark marks the customer's message read at WhatsApp", async () => {
    const customer = newCustomer();
    const { conversationId, wamid } = await customerWrites(onOpen, customer);
    expect((await api.act(onOpen, conversationId, 'assign', onOpen.keys.agent, { assigneeId: onOpen.users.agent })).status).toBe(200);
    const read = await api.act(onOpen, conversationId, 'read', onOpen.keys.agent, {});
    expect(read.status).toBe(200);
    const request = await fake.waitFor(readsOf(wamid));
    expect(request.body).toEqual({ messaging_product: 'whatsapp', status: 'read', message_id: wamid });
  });

  test('typing: the assignee shows the indicator on the latest message, at most once every 20 s; others may not', async () => {
    const customer = newCustomer();
    const { conversationId, wamid } = await customerWrites(onOpen, customer);
    expect((await api.act(onOpen, conversationId, 'typing', onOpen.keys.agent)).body.error).toMatchObject({ code: 'not_assignee' });
    expect((await api.act(onOpen, conversationId, 'assign', onOpen.keys.agent, { assigneeId: onOpen.users.agent })).status).toBe(200);

    const first = await api.act(onOpen, conversationId, 'typing', onOpen.keys.agent);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ conversationId, sent: true });
    const request = await fake.waitFor((r) => isTypingRequest(r) && r.body.message_id === wamid);
    expect(request.body).toEqual({ messaging_product: 'whatsapp', status: 'read', message_id: wamid, typing_indicator: { type: 'text' } });

    const again = await api.act(onOpen, conversationId, 'typing', onOpen.keys.agent);
    expect(again.body).toEqual({ conversationId, sent: false });
    expect((await api.act(onOpen, conversationId, 'typing', onOpen.keys.agent2)).body.error).toMatchObject({ code: 'not_assignee' });
    expect((await api.act(onOpen, conversationId, 'typing', onOpen.keys.service)).status).toBe(403);
  });

  test('a provider that refuses the read fails nothing: the read mark is answered, the refusal logged by its code, the token never', async () => {
    const customer = newCustomer();
    const { conversationId, wamid } = await customerWrites(onOpen, customer);
    expect((await api.act(onOpen, conversationId, 'assign', onOpen.keys.agent, { assigneeId: onOpen.users.agent })).status).toBe(200);
    fake.behaveOnReads('invalid_token', 1);
    expect((await api.act(onOpen, conversationId, 'read', onOpen.keys.agent, {})).status).toBe(200);
    const refused = await fake.waitFor(readsOf(wamid));
    expect(refused.answeredWith).toBe(400);
    await eventually(async () => (logs.records().some((r) => r.msg === 'the provider refused to mark the message read' && r.conversationId === conversationId) ? true : undefined));
    expect(logs.lines.some((line) => line.includes(secrets.accessToken))).toBe(false);
  });
});
