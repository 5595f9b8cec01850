/**
 * The fake Graph API the end-to-end tests and harnesses rely on: it answers sends like Graph, fails on
 * demand in the order asked, and its status webhooks and inbound bodies are what our own webhook code
 * accepts (signature and parse), shaped like the shared fixtures.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { OutboundMessage, WhatsAppChannelConfig } from '../../channels/types';
import { sendWhatsApp } from '../../channels/whatsapp/graph';
import { parseWhatsAppWebhook, verifyMetaSignature } from '../../channels/whatsapp/webhook';
import type { FakeGraph } from '../support/fake-graph';
import {
  inboundButtonBody,
  inboundButtonReplyBody,
  inboundImageBody,
  inboundTextBody,
  signedMetaRequest,
  startFakeGraph,
  statusWebhookBody,
} from '../support/fake-graph';

const fixturesDir = path.join(__dirname, '../fixtures/whatsapp');
const appSecret = 'fake-graph-app-secret';
const phoneNumberId = '114002873001456';

const config: WhatsAppChannelConfig = {
  provider: 'whatsapp_cloud',
  phoneNumberId,
  accessToken: 'token-of-channel-A',
  appSecret,
  verifyToken: 'verify',
  apiVersion: 'v21.0',
};

const message: OutboundMessage = {
  deliveryId: 'd-1',
  accountId: 'acc-1',
  channel: '15550100001',
  customer: '15550100123',
  conversationId: null,
  messageId: 'm-1',
  campaignId: null,
  content: { kind: 'text', text: 'hello' },
  replyTo: null,
};

/** Our side of the status webhook: checks each body's signature and parses it, answering as told. */
interface Receiver {
  url: string;
  bodies: { valid: boolean; parsed: ReturnType<typeof parseWhatsAppWebhook> }[];
  answers: number[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const bodies: Receiver['bodies'] = [];
  const answers: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const header = req.headers['x-hub-signature-256'];
      bodies.push({ valid: verifyMetaSignature(raw, typeof header === 'string' ? header : undefined, appSecret), parsed: parseWhatsAppWebhook(JSON.parse(raw.toString('utf8'))) });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp/acc-1`,
    bodies,
    answers,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the fake Graph API answering sends', () => {
  let graph: FakeGraph;

  beforeAll(async () => {
    graph = await startFakeGraph();
  });
  afterEach(() => graph.reset());
  afterAll(() => graph.close());

  it('answers a send like Graph and records it with the token, the path parts and the wamid', async () => {
    const result = await sendWhatsApp(config, message, { graphUrl: graph.url });
    expect(result).toEqual({ outcome: 'sent', providerMessageId: expect.stringMatching(/^wamid\./) });
    expect(graph.requests).toEqual([
      {
        at: expect.any(Number),
        path: `/v21.0/${phoneNumberId}/messages`,
        apiVersion: 'v21.0',
        phoneNumberId,
        authorized: true,
        token: 'token-of-channel-A',
        body: expect.objectContaining({ messaging_product: 'whatsapp', to: '+15550100123', type: 'text' }),
        answeredWith: 200,
        wamid: result.outcome === 'sent' ? result.providerMessageId : 'none',
        method: 'POST',
        query: {},
      },
    ]);
  });

  it('uses queued behaviours in order, each as many times as asked, then answers ok again', async () => {
    graph.behave('server_error', 2);
    graph.behave('window_closed', 1);
    graph.behave('rate_limited', 1);
    graph.behave('invalid_token', 1);
    const outcomes = [];
    for (let i = 0; i < 6; i++) {
      const result = await sendWhatsApp(config, message, { graphUrl: graph.url });
      outcomes.push(result.outcome === 'sent' ? 'sent' : `${result.outcome} ${result.error.code}`);
    }
    expect(outcomes).toEqual(['retry 131000', 'retry 131000', 'failed 131047', 'retry 130429', 'failed 190', 'sent']);
    expect(graph.requests.map((r) => r.answeredWith)).toEqual([500, 500, 400, 429, 401, 200]);
    expect(graph.requests.map((r) => r.wamid === null)).toEqual([true, true, true, true, true, false]);
  });

  it('keeps a behaviour queued without a count for every send, until reset', async () => {
    graph.behave('server_error');
    for (let i = 0; i < 3; i++) expect((await sendWhatsApp(config, message, { graphUrl: graph.url })).outcome).toBe('retry');
    graph.reset();
    expect(graph.requests).toHaveLength(0);
    expect((await sendWhatsApp(config, message, { graphUrl: graph.url })).outcome).toBe('sent');
  });

  it('answers a send without a bearer token with 401 and code 190, without using a queued behaviour', async () => {
    graph.behave('server_error', 1);
    const response = await fetch(`${graph.url}/v21.0/${phoneNumberId}/messages`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).error.code).toBe(190);
    expect(graph.requests[0]).toMatchObject({ authorized: false, token: '', answeredWith: 401 });
    expect((await sendWhatsApp(config, message, { graphUrl: graph.url })).outcome).toBe('retry');
  });

  it('holds a hanging send, recorded as not answered, until the sender gives up', async () => {
    graph.behave('hang', 1);
    expect(await sendWhatsApp(config, message, { graphUrl: graph.url, timeoutMs: 100 })).toMatchObject({ outcome: 'retry', error: { code: 'timeout' } });
    expect(graph.requests[0]).toMatchObject({ answeredWith: 0, wamid: null });
  });

  it('waits for a request still to come, and gives up after the time given', async () => {
    const waiting = graph.waitFor((r) => r.body?.text?.body === 'later', 2_000);
    await sendWhatsApp(config, { ...message, content: { kind: 'text', text: 'sooner' } }, { graphUrl: graph.url });
    await sendWhatsApp(config, { ...message, content: { kind: 'text', text: 'later' } }, { graphUrl: graph.url });
    expect((await waiting).body.text.body).toBe('later');
    await expect(graph.waitFor((r) => r.token === 'never', 50)).rejects.toThrow(/no matching Graph request within 50 ms/);
  });
});

describe('the fake Graph API closing', () => {
  it('ends hanging requests when it closes', async () => {
    const graph = await startFakeGraph();
    graph.behave('hang');
    const pending = sendWhatsApp(config, message, { graphUrl: graph.url, timeoutMs: 30_000 });
    await graph.waitFor(() => true, 2_000);
    await graph.close();
    // A network error, not the 30 s timeout's `timeout`: closing ended the request.
    expect(await pending).toMatchObject({ outcome: 'retry', error: { code: 'network' } });
  });
});

describe('the fake Graph API posting status webhooks', () => {
  let receiver: Receiver;

  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(() => receiver.close());

  it('builds a status body shaped like wa-status-delivered.json', () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'wa-status-delivered.json'), 'utf8'));
    const status = fixture.entry[0].changes[0].value.statuses[0];
    const ours = statusWebhookBody({ wamid: status.id, status: 'delivered', recipient: status.recipient_id, phoneNumberId, timestamp: Number(status.timestamp) });
    // The fixture's receipt is for a campaign: it carries callback data and a marketing price the fake does not invent.
    delete status.biz_opaque_callback_data;
    status.pricing.category = 'service';
    expect(ours).toEqual(fixture);
  });

  it('posts a signed delivered status that our webhook code verifies and reads back', async () => {
    const graph = await startFakeGraph({ statusWebhook: { url: receiver.url, appSecret } });
    try {
      expect(await graph.sendStatus({ wamid: 'wamid.OUT1', status: 'delivered', recipient: '15550100123', phoneNumberId, timestamp: 1781517606 })).toBe(200);
    } finally {
      await graph.close();
    }
    expect(receiver.bodies).toEqual([
      {
        valid: true,
        parsed: {
          messages: [],
          receipts: [{ phoneNumberId, recipient: '15550100123', providerMessageId: 'wamid.OUT1', status: 'delivered', at: new Date(1781517606_000).toISOString() }],
          ignored: 0,
        },
      },
    ]);
  });

  it('posts a failed status whose error reads back with its code and reason', async () => {
    const graph = await startFakeGraph();
    graph.setStatusWebhook({ url: receiver.url, appSecret });
    try {
      const errors = [{ code: 131026, title: 'Message undeliverable', message: 'Receiver is incapable of receiving this message' }];
      await graph.sendStatus({ wamid: 'wamid.OUT2', status: 'failed', recipient: '15550100123', phoneNumberId, errors });
    } finally {
      await graph.close();
    }
    expect(receiver.bodies[0]!.parsed.receipts[0]).toMatchObject({
      status: 'failed',
      error: { code: 131026, message: 'Receiver is incapable of receiving this message' },
    });
  });

  it('returns the status our side answered, and fails plainly without a status webhook', async () => {
    const graph = await startFakeGraph({ statusWebhook: { url: receiver.url, appSecret: 'wrong' } });
    try {
      receiver.answers.push(401);
      expect(await graph.sendStatus({ wamid: 'wamid.X', status: 'read', recipient: '15550100123', phoneNumberId })).toBe(401);
      expect(receiver.bodies[0]!.valid).toBe(false);
      graph.setStatusWebhook(undefined);
      await expect(graph.sendStatus({ wamid: 'wamid.X', status: 'read', recipient: '15550100123', phoneNumberId })).rejects.toThrow(/no statusWebhook/);
    } finally {
      await graph.close();
    }
  });

  it('posts automatic receipts in order after each successful send, retrying a refused one', async () => {
    const graph = await startFakeGraph({ statusWebhook: { url: receiver.url, appSecret }, autoReceipts: ['sent', 'delivered', 'read'] });
    try {
      receiver.answers.push(503);
      const result = await sendWhatsApp(config, message, { graphUrl: graph.url });
      graph.behave('server_error', 1);
      await sendWhatsApp(config, message, { graphUrl: graph.url });
      await graph.idle();
      const wamid = result.outcome === 'sent' ? result.providerMessageId : '';
      expect(graph.statusPosts).toEqual([
        { wamid, status: 'sent', tries: 2, answeredWith: 200 },
        { wamid, status: 'delivered', tries: 1, answeredWith: 200 },
        { wamid, status: 'read', tries: 1, answeredWith: 200 },
      ]);
      expect(receiver.bodies.every((b) => b.valid)).toBe(true);
      expect(receiver.bodies.map((b) => b.parsed.receipts.map((r) => [r.providerMessageId, r.status, r.recipient]))).toEqual([
        [[wamid, 'sent', '15550100123']],
        [[wamid, 'sent', '15550100123']],
        [[wamid, 'delivered', '15550100123']],
        [[wamid, 'read', '15550100123']],
      ]);
    } finally {
      await graph.close();
    }
  });
});

describe('the inbound bodies the fake builds', () => {
  const signedAndParsed = (body: unknown) => {
    const { rawBody, headers } = signedMetaRequest(body, appSecret);
    expect(headers['content-type']).toBe('application/json');
    expect(verifyMetaSignature(Buffer.from(rawBody), headers['x-hub-signature-256'], appSecret)).toBe(true);
    return parseWhatsAppWebhook(JSON.parse(rawBody));
  };
  const base = { phoneNumberId, from: '15550100123', name: 'Priya Sharma', timestamp: 1781523843 };

  it('builds a text reply that reads back like wa-reply-with-context.json', () => {
    const fixture = parseWhatsAppWebhook(JSON.parse(fs.readFileSync(path.join(fixturesDir, 'wa-reply-with-context.json'), 'utf8')));
    const ours = signedAndParsed(
      inboundTextBody({
        ...base,
        wamid: 'wamid.HBgLMTU1NTAxMDAxMjMVAgASGBQzRUIwNUQ3RTE5QTI0QzBGODNBQgA=',
        text: 'Is the linen shirt from this offer available in size M?',
        contextId: 'wamid.HBgLMTU1NTAxMDAxMjMVAgARGBI3QzIxRTBCOTREM0Y1OEEyMUIA',
      }),
    );
    expect(ours).toEqual(fixture);
  });

  it('builds a button tap that reads back like wa-button-reply.json', () => {
    const fixture = parseWhatsAppWebhook(JSON.parse(fs.readFileSync(path.join(fixturesDir, 'wa-button-reply.json'), 'utf8')));
    const ours = signedAndParsed(
      inboundButtonBody({
        ...base,
        timestamp: 1781523737,
        wamid: 'wamid.HBgLMTU1NTAxMDAxMjMVAgASGBQzRUIwQTFGMjdDOUQ0RTU4QjZDMgA=',
        payload: 'SHOW_OFFERS',
        text: 'Show offers',
        contextId: 'wamid.HBgLMTU1NTAxMDAxMjMVAgARGBI3QzIxRTBCOTREM0Y1OEEyMUIA',
      }),
    );
    expect(ours).toEqual(fixture);
  });

  it('builds an image with caption and an interactive button reply', () => {
    const image = signedAndParsed(inboundImageBody({ ...base, wamid: 'wamid.IMG', mediaId: 'media-1', caption: 'torn box' })).messages[0]!;
    expect(image).toMatchObject({ customer: '15550100123', message: { type: 'image', text: 'torn box', content: { media: { id: 'media-1', mimeType: 'image/jpeg' } } } });
    const reply = signedAndParsed(inboundButtonReplyBody({ ...base, wamid: 'wamid.BTN', buttonId: 'yes', title: 'Yes' })).messages[0]!;
    expect(reply.message).toMatchObject({ type: 'interactive', text: 'Yes', content: { choice: { id: 'yes', title: 'Yes', type: 'button_reply' } } });
  });

  it('leaves the name out when none is given', () => {
    const { messages } = signedAndParsed(inboundTextBody({ phoneNumberId, from: '15550100999', wamid: 'wamid.T', text: 'hi' }));
    expect(messages[0]!.message).not.toHaveProperty('customerName');
    expect(messages[0]!.message.sentAt).toEqual(expect.any(String));
  });
});
