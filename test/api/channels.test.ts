import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhookBody } from '../../channels/webhook-provider';
import type { FakeGraph } from '../support/fake-graph';
import { inboundButtonBody, inboundImageBody, inboundTextBody, metaWebhookBody, signedMetaRequest, startFakeGraph } from '../support/fake-graph';
import type { Account } from '../support/scenario';
import { conversationApi, conversationPath, createAccount, newCustomer } from '../support/scenario';
import { capturedLogs, eventually, useStack } from '../support/stack';
import { loadTest } from '../support/tiers';

/**
 * SPEC section 7 end to end: WhatsApp Cloud API in through the signed webhook, replies and templates
 * out to a fake Graph API (real HTTP on loopback), receipts back, failures classified, and the
 * webhook provider for backends that send themselves. Everything through the public HTTP API.
 */
const secrets = {
  accessToken: `EAAG-token-${randomUUID()}`,
  appSecret: `app-secret-${randomUUID()}`,
  verifyToken: `verify-${randomUUID()}`,
  webhookSecret: `hook-secret-${randomUUID()}`,
};
const phoneNumberId = '114002873001456';
const channel = '15550100001';

let fake: FakeGraph;
const logs = capturedLogs('debug');

beforeAll(async () => {
  fake = await startFakeGraph({ autoReceipts: ['sent', 'delivered', 'read'] });
});
afterAll(async () => {
  await fake?.close();
});

// The processes' own logger (redacting), at debug: everything the API and the worker would log.
const env = useStack(() => ({ whatsappGraphUrl: fake.url, log: logs.logger }));
const api = conversationApi(env);
let account: Account;

beforeAll(async () => {
  account = await createAccount(env.stack);
  const put = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, {
    key: account.keys.owner,
    body: { provider: 'whatsapp_cloud', phoneNumberId, accessToken: secrets.accessToken, appSecret: secrets.appSecret, verifyToken: secrets.verifyToken },
  });
  if (put.status !== 200) throw new Error(`channel not configured: ${JSON.stringify(put.body)}`);
  fake.setStatusWebhook({ url: `${env.stack.baseUrl}/webhooks/whatsapp/${account.id}`, appSecret: secrets.appSecret });
});

const webhookPath = () => `/webhooks/whatsapp/${account.id}`;

/** Posts a body to the WhatsApp webhook the way Meta does: serialized once, signed over those bytes. */
async function metaPosts(body: unknown, appSecret = secrets.appSecret) {
  const { rawBody, headers } = signedMetaRequest(body, appSecret);
  return env.stack.http.request('POST', webhookPath(), { body: rawBody, headers });
}

async function timeline(conversationId: string): Promise<any[]> {
  return (await env.stack.http.get(conversationPath(account, conversationId, '/messages?limit=500'), account.keys.agent)).body.messages;
}

/** A customer writes through the webhook; resolves once the conversation shows the message. */
async function customerWritesOnWhatsApp(customer: string, text = 'Hi, my order has not arrived') {
  const wamid = `wamid.${randomUUID()}`;
  const res = await metaPosts(inboundTextBody({ phoneNumberId, from: customer, name: 'Priya Sharma', wamid, text }));
  expect(res.status).toBe(200);
  const conversationId = `conv:${account.id}:${channel}:${customer}`;
  await eventually(async () => ((await timeline(conversationId)).some((m) => m.messageId === wamid) ? true : undefined));
  await eventually(async () => ((await env.stack.http.get(conversationPath(account, conversationId), account.keys.agent)).status === 200 ? true : undefined));
  return { conversationId, wamid };
}

async function deliveryOf(conversationId: string, messageId: string, status: string, timeoutMs = 15_000) {
  return eventually(
    async () => {
      const message = (await timeline(conversationId)).find((m) => m.messageId === messageId);
      return message?.delivery?.status === status ? message : undefined;
    },
    { timeoutMs },
  );
}

describe('channel configuration', () => {
  test('secrets are write-only: answers and lists show which are set, never their values', async () => {
    const one = await env.stack.http.get(`/v1/accounts/${account.id}/channels/${channel}`, account.keys.admin);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ channel, provider: 'whatsapp_cloud', phoneNumberId, apiVersion: 'v21.0', secretsSet: ['accessToken', 'appSecret', 'verifyToken'] });
    const list = await env.stack.http.get(`/v1/accounts/${account.id}/channels`, account.keys.owner);
    expect(list.body.items.map((c: any) => c.channel)).toContain(channel);
    for (const answer of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
      for (const value of Object.values(secrets)) expect(answer).not.toContain(value);
    }
  });

  test('a change may leave the secrets out and keeps them; a new channel needs them; agents and managers may not configure', async () => {
    const path = `/v1/accounts/${account.id}/channels/15550100009`;
    const missing = await env.stack.http.request('PUT', path, { key: account.keys.owner, body: { provider: 'whatsapp_cloud', phoneNumberId: '999' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('validation_failed');
    const hook = await env.stack.http.request('PUT', path, { key: account.keys.admin, body: { provider: 'webhook', url: 'http://127.0.0.1:9/hook', secret: secrets.webhookSecret } });
    expect(hook.status).toBe(200);
    const moved = await env.stack.http.request('PUT', path, { key: account.keys.admin, body: { provider: 'webhook', url: 'http://127.0.0.1:9/other' } });
    expect(moved.body).toMatchObject({ url: 'http://127.0.0.1:9/other', secretsSet: ['secret'] });
    for (const key of [account.keys.agent, account.keys.manager]) {
      expect((await env.stack.http.request('PUT', path, { key, body: { provider: 'recording' } })).status).toBe(403);
    }
    const clash = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/15550100008`, {
      key: account.keys.owner,
      body: { provider: 'whatsapp_cloud', phoneNumberId, accessToken: 'another-token', appSecret: 'another-secret', verifyToken: 'another-verify' },
    });
    expect(clash.status).toBe(409);
  });
});

describe('WhatsApp webhook in', () => {
  test("the verification handshake answers the challenge for the channel's verify token and 403 otherwise", async () => {
    const ok = await fetch(`${env.stack.baseUrl}${webhookPath()}?hub.mode=subscribe&hub.verify_token=${secrets.verifyToken}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${env.stack.baseUrl}${webhookPath()}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444`);
    expect(wrong.status).toBe(403);
  });

  test('a customer message opens a conversation with the name from the contact', async () => {
    const customer = newCustomer();
    const { conversationId, wamid } = await customerWritesOnWhatsApp(customer);
    expect(await api.view(account, conversationId)).toMatchObject({ status: 'open', customer, channel, customerName: 'Priya Sharma', unreadCount: 1 });
    const [message] = await timeline(conversationId);
    expect(message).toMatchObject({ messageId: wamid, direction: 'inbound', kind: 'text', text: 'Hi, my order has not arrived', delivery: null });
  });

  test('a forged or missing signature gets 401 invalid_signature and records nothing', async () => {
    const customer = newCustomer();
    const body = inboundTextBody({ phoneNumberId, from: customer, wamid: `wamid.${randomUUID()}`, text: 'forged' });
    const forged = await metaPosts(body, 'not-the-app-secret');
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('invalid_signature');
    const unsigned = await env.stack.http.request('POST', webhookPath(), { body: JSON.stringify(body) });
    expect(unsigned.status).toBe(401);
    expect((await env.stack.http.get(conversationPath(account, `conv:${account.id}:${channel}:${customer}`), account.keys.agent)).status).toBe(404);
    // Probe: a signed message from the same customer afterwards. Inputs to one conversation apply in
    // order, so once it shows, anything the rejected posts had started would show before it.
    const { conversationId } = await customerWritesOnWhatsApp(customer, 'probe');
    expect((await timeline(conversationId)).map((m) => m.text)).toEqual(['probe']);
  });

  test('an image without caption is a customer message: it reopens a closed conversation and is kept with its media id', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    expect((await api.act(account, conversationId, 'resolve', account.keys.owner)).status).toBe(200);
    const wamid = `wamid.${randomUUID()}`;
    expect((await metaPosts(inboundImageBody({ phoneNumberId, from: customer, wamid, mediaId: '1479537139650973', mimeType: 'image/jpeg' }))).status).toBe(200);
    const image = await eventually(async () => (await timeline(conversationId)).find((m) => m.messageId === wamid));
    expect(image).toMatchObject({ kind: 'image', text: null, episode: 2, content: { media: { id: expect.stringMatching(/^med_in_/), providerMediaId: '1479537139650973', mimeType: 'image/jpeg' } } });
    // The view is written a moment after the timeline record, in the same batch.
    const view = await eventually(async () => {
      const v = await api.view(account, conversationId);
      return v.episode === 2 ? v : undefined;
    });
    expect(view).toMatchObject({ status: 'open', episode: 2 });
  });

  test('the same body delivered twice (Meta retries) records each message once', async () => {
    const customer = newCustomer();
    const body = inboundTextBody({ phoneNumberId, from: customer, wamid: `wamid.${randomUUID()}`, text: 'once' });
    expect((await metaPosts(body)).status).toBe(200);
    expect((await metaPosts(body)).status).toBe(200);
    const conversationId = `conv:${account.id}:${channel}:${customer}`;
    await eventually(async () => ((await timeline(conversationId)).length === 1 ? true : undefined));
    // Probe: a later message of the same conversation; once it shows, the second delivery has been handled.
    await customerWritesOnWhatsApp(customer, 'probe');
    expect((await timeline(conversationId)).map((m) => m.text)).toEqual(['once', 'probe']);
    expect((await eventually(async () => {
      const v = await api.view(account, conversationId);
      return v.unreadCount === 2 ? v : undefined;
    })).unreadCount).toBe(2);
  });

  test('items for a phone number id the account does not have are counted and answered 200', async () => {
    const res = await metaPosts(inboundTextBody({ phoneNumberId: '777000777', from: newCustomer(), wamid: `wamid.${randomUUID()}`, text: 'elsewhere' }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ messages: 0, unknownPhoneNumberIds: 1 });
  });

  loadTest('a body of 1,000 messages is answered 200 once every one is accepted, and all are recorded', async () => {
    const customers = Array.from({ length: 50 }, () => newCustomer());
    const messages = Array.from({ length: 1_000 }, (_, i) => ({
      from: customers[i % customers.length],
      id: `wamid.batch.${i}.${randomUUID()}`,
      timestamp: String(Math.floor(Date.now() / 1000)),
      type: 'text',
      text: { body: `message ${i}` },
    }));
    const res = await metaPosts(metaWebhookBody({ phoneNumberId, messages }));
    expect(res.status).toBe(200);
    expect(res.body.messages).toBe(1_000);
    await eventually(
      async () => {
        const n = await env.stack.db.collection('messages').countDocuments({ messageId: { $regex: /^wamid\.batch\./ } });
        return n === 1_000 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
  }, 180_000);
});

describe('messages out through the WhatsApp Cloud API', () => {
  test("an agent's reply reaches Graph with the channel's token and the WhatsApp body, quoting the customer's message, and its ticks advance", async () => {
    const customer = newCustomer();
    const { conversationId, wamid } = await customerWritesOnWhatsApp(customer);
    const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Hello, let me check.', replyTo: wamid });
    expect(reply.status).toBe(200);
    const messageId: string = reply.body.messageId;
    const [queued] = (await timeline(conversationId)).filter((m) => m.messageId === messageId);
    expect(queued.delivery.status).toMatch(/^(queued|sent|delivered|read)$/);

    const request = await fake.waitFor((r) => r.body?.to === `+${customer}`);
    expect(request).toMatchObject({ phoneNumberId, apiVersion: 'v21.0', token: secrets.accessToken });
    expect(request.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: `+${customer}`,
      type: 'text',
      text: { body: 'Hello, let me check.', preview_url: false },
      context: { message_id: wamid },
    });
    const read = await deliveryOf(conversationId, messageId, 'read');
    expect(read.delivery).toMatchObject({ providerMessageId: request.wamid, error: null });
  });

  test("sent, delivered and read move the reply's delivery and reach the stream, not the conversation's version (issue 28)", async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'One moment, please.' });
    expect(reply.status).toBe(200);
    const version: number = reply.body.conversation.version;
    await deliveryOf(conversationId, reply.body.messageId, 'read');
    // Each receipt was decided light: the view is the one the reply wrote.
    const view = await env.stack.http.get(conversationPath(account, conversationId), account.keys.agent);
    expect(view.body).toMatchObject({ version, updatedAt: reply.body.conversation.updatedAt });
    // And each went to the account's stream, with the conversation at that same version.
    const entries = await env.stack.db.collection('stream_entries').find({ conversationId }).toArray();
    const moves = entries.flatMap((e) => (e.deliveries ?? []).filter((d: any) => d.messageId === reply.body.messageId).map((d: any) => [d.delivery.status, e.conversation.version]));
    // sent, delivered, read (a receipt that overtook the send's outcome is applied with it, in one entry).
    expect(moves.length).toBeGreaterThan(0);
    expect(moves.at(-1)).toEqual(['read', version]);
    expect(moves.every(([, v]) => v === version)).toBe(true);
  });

  test('a template goes out with its language and parameters, also after the window closed', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    const sent = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'order_update', language: 'pt_BR', params: ['Priya', '4821'] });
    expect(sent.status).toBe(200);
    const request = await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.type === 'template');
    expect(request.body.template).toEqual({
      name: 'order_update',
      language: { code: 'pt_BR' },
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Priya' }, { type: 'text', text: '4821' }] }],
    });
    await deliveryOf(conversationId, sent.body.messageId, 'read');
  });

  test('receipts only move forwards: a late "delivered" after "read" changes nothing', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Done!' });
    const message = await deliveryOf(conversationId, reply.body.messageId, 'read');
    const late = await fake.sendStatus({ wamid: message.delivery.providerMessageId, status: 'delivered', recipient: customer, phoneNumberId });
    expect(late).toBe(200);
    // Probe: a second reply, sent after the late receipt was accepted; its own receipts reach the same
    // conversation after that one, so once it reads 'read' the late 'delivered' has been handled.
    const probe = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Anything else?' });
    await deliveryOf(conversationId, probe.body.messageId, 'read');
    expect((await timeline(conversationId)).find((m) => m.messageId === reply.body.messageId).delivery.status).toBe('read');
  });

  test('131047 fails the message with the code, as an event, and closes the window for free-form replies; a template still goes', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    fake.behave('window_closed', 1);
    const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Are you still there?' });
    expect(reply.status).toBe(200);
    const failed = await deliveryOf(conversationId, reply.body.messageId, 'failed');
    expect(failed.delivery.error.code).toBe(131047);
    // The failure is an event, and the window the provider says is closed is recorded right after it.
    const events = await eventually(async () => {
      const all = await api.events(account, conversationId);
      return all.at(-1)?.reason === 'window_expired' ? all : undefined;
    });
    expect(events.at(-2)).toMatchObject({ reason: 'delivery_failed', details: { messageId: reply.body.messageId, error: { code: 131047 } } });
    const again = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Hello?' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('window_expired');
    const template = await api.act(account, conversationId, 'templates', account.keys.agent, { name: 'follow_up' });
    expect(template.status).toBe(200);
    await deliveryOf(conversationId, template.body.messageId, 'read');
  });

  test('a 500 and a 130429 are retried with backoff until Graph accepts; the message is sent once', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    fake.behave('server_error', 1);
    fake.behave('rate_limited', 1);
    const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Retried' });
    await deliveryOf(conversationId, reply.body.messageId, 'read');
    const attempts = fake.requests.filter((r) => r.body?.to === `+${customer}`);
    expect(attempts.map((r) => r.answeredWith)).toEqual([500, 429, 200]);
  }, 60_000);

  test('a Graph request that hangs is abandoned after its timeout and sent again', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    fake.behave('hang', 1);
    const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Still here' });
    expect(reply.status).toBe(200);
    await deliveryOf(conversationId, reply.body.messageId, 'read', 45_000);
    const attempts = fake.requests.filter((r) => r.body?.to === `+${customer}`);
    expect(attempts.map((r) => r.answeredWith)).toEqual([0, 200]);
  }, 60_000);

  test('messages of one conversation reach Graph in the order they were accepted', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWritesOnWhatsApp(customer);
    fake.behave('server_error', 1);
    for (const text of ['one', 'two', 'three']) {
      expect((await api.act(account, conversationId, 'replies', account.keys.agent, { text })).status).toBe(200);
    }
    await eventually(async () => (fake.requests.filter((r) => r.body?.to === `+${customer}` && r.answeredWith === 200).length === 3 ? true : undefined), {
      timeoutMs: 30_000,
    });
    const accepted = fake.requests.filter((r) => r.body?.to === `+${customer}` && r.answeredWith === 200).map((r) => r.body.text.body);
    expect(accepted).toEqual(['one', 'two', 'three']);
  }, 60_000);

  test('no secret of the channel appears in any log line of the API or the worker', async () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    const all = logs.lines.join('');
    for (const value of Object.values(secrets)) expect(logs.lines.filter((line) => line.includes(value))).toEqual([]);
    expect(all.length).toBeGreaterThan(0);
  });
});

describe('the satisfaction survey over WhatsApp (status_inbox)', () => {
  test("a button reply to the survey closes the resolved conversation with its score instead of opening a new episode", async () => {
    await env.stack.http.patch(`/v1/accounts/${account.id}/policy`, { preset: 'status_inbox' }, account.keys.owner);
    try {
      const customer = newCustomer();
      const { conversationId } = await customerWritesOnWhatsApp(customer);
      await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Fixed it.' });
      const resolved = await api.act(account, conversationId, 'resolve', account.keys.agent);
      expect(resolved.body.conversation.status).toBe('resolved');
      const survey = await fake.waitFor((r) => r.body?.to === `+${customer}` && r.body?.type === 'template');
      expect(survey.body.template.name).toBe('csat_survey');
      const answer = inboundButtonBody({ phoneNumberId, from: customer, wamid: `wamid.${randomUUID()}`, payload: '5', text: 'Excellent', contextId: survey.wamid! });
      expect((await metaPosts(answer)).status).toBe(200);
      const closed = await eventually(async () => {
        const view = await api.view(account, conversationId);
        return view.status === 'closed' ? view : undefined;
      });
      expect(closed).toMatchObject({ csatScore: 5, episode: 1, closedReason: 'resolved' });
    } finally {
      await env.stack.http.patch(`/v1/accounts/${account.id}/policy`, { preset: 'default' }, account.keys.owner);
    }
  });
});

describe('the webhook provider', () => {
  test('posts each message signed, with a delivery id that stays the same on retry; receipts come back through delivery-statuses', async () => {
    const received: { body: string; signature: string | undefined; delivery: string | undefined }[] = [];
    const backend = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks).toString(), signature: req.headers['x-convoflow-signature'] as string, delivery: req.headers['x-convoflow-delivery'] as string });
        if (received.length === 1) {
          res.writeHead(503).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ providerMessageId: `backend-${received.length}` }));
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    try {
      const hookChannel = 'wa-backend';
      const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/send`;
      const put = await env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${hookChannel}`, {
        key: account.keys.owner,
        body: { provider: 'webhook', url, secret: secrets.webhookSecret },
      });
      expect(put.status).toBe(200);
      const customer = newCustomer();
      const res = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: hookChannel, customer, messageId: `m-${randomUUID()}`, text: 'hi' }, account.keys.service);
      const conversationId: string = res.body.conversationId;
      await eventually(async () => ((await timeline(conversationId)).length === 1 ? true : undefined));
      const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'From the backend' });
      const sent = await deliveryOf(conversationId, reply.body.messageId, 'sent');
      expect(sent.delivery.providerMessageId).toBe('backend-2');
      expect(received).toHaveLength(2);
      expect(received[0]!.delivery).toBe(received[1]!.delivery);
      for (const r of received) expect(r.signature).toBe(signWebhookBody(r.body, secrets.webhookSecret));
      expect(JSON.parse(received[1]!.body)).toMatchObject({ conversationId, customer, text: 'From the backend', kind: 'text' });

      const receipt = await env.stack.http.post(`/v1/accounts/${account.id}/delivery-statuses`, { providerMessageId: 'backend-2', status: 'delivered' }, account.keys.service);
      expect(receipt.status).toBe(200);
      await deliveryOf(conversationId, reply.body.messageId, 'delivered');
      const unknown = await env.stack.http.post(`/v1/accounts/${account.id}/delivery-statuses`, { providerMessageId: 'never-sent', status: 'read' }, account.keys.service);
      expect(unknown.status).toBe(404);
      const byAgent = await env.stack.http.post(`/v1/accounts/${account.id}/delivery-statuses`, { providerMessageId: 'backend-2', status: 'read' }, account.keys.agent);
      expect(byAgent.status).toBe(403);
    } finally {
      await new Promise<void>((resolve) => backend.close(() => resolve()));
    }
  }, 60_000);
});
