/**
 * The webhook provider: each outbound message POSTed to the backend's URL, signed over the exact body
 * bytes, with a delivery id that stays the same on every retry; the answer read into a SendResult.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboundMessage, WebhookChannelConfig } from '../../channels/types';
import { sendWebhook, signWebhookBody, webhookDeliveryBody } from '../../channels/webhook-provider';

const secret = 'backend-shared-secret';

const message: OutboundMessage = {
  deliveryId: 'dlv-7f3a',
  accountId: 'acc-1',
  channel: '15550100001',
  customer: '15550100123',
  conversationId: 'conv:acc-1:15550100001:15550100123',
  messageId: 'msg-42',
  campaignId: null,
  content: { kind: 'template', template: { name: 'order_update', language: 'en_US', params: ['Priya', 'caf\u00e9 \u{1F44D}'] } },
  replyTo: 'wamid.IN1',
};

interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  /** The backend's own check of X-Convoflow-Signature, over the bytes as received. */
  signatureValid: boolean;
}

/** What a receiving backend does: verifies the signature in constant time over the raw bytes. */
function verify(raw: Buffer, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice(7), 'hex');
  const expected = createHmac('sha256', secret).update(raw).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('signWebhookBody', () => {
  it('is sha256= and the hex HMAC-SHA256 of the bytes with the secret, the same for a string and its UTF-8 bytes', () => {
    const text = '{"text":"caf\u00e9"}';
    const expected = `sha256=${createHmac('sha256', secret).update(Buffer.from(text, 'utf8')).digest('hex')}`;
    expect(signWebhookBody(text, secret)).toBe(expected);
    expect(signWebhookBody(Buffer.from(text, 'utf8'), secret)).toBe(expected);
    expect(signWebhookBody(text, 'another')).not.toBe(expected);
  });
});

describe('sendWebhook against a local backend', () => {
  let server: http.Server;
  let config: WebhookChannelConfig;
  let received: Received[];
  let answer: (res: http.ServerResponse) => void;
  const hanging = new Set<http.ServerResponse>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        received.push({ method: req.method!, headers: req.headers, raw, signatureValid: verify(raw, req.headers['x-convoflow-signature']) });
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    config = { provider: 'webhook', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/convoflow`, secret };
  });

  beforeEach(() => {
    received = [];
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  // The backend here is a fake on loopback over http: allowed, as OUTBOUND_ALLOW_PRIVATE allows it.
  const send = (c: WebhookChannelConfig, options: { timeoutMs?: number } = {}) => sendWebhook(c, message, { allowPrivate: true, ...options });

  const reply = (status: number, body = '', headers: Record<string, string> = {}) => (res: http.ServerResponse) => res.writeHead(status, headers).end(body);

  it('posts the message as JSON with a signature the backend verifies over the raw bytes', async () => {
    answer = reply(204);
    expect(await send(config)).toEqual({ outcome: 'sent', providerMessageId: 'dlv-7f3a' });
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.signatureValid).toBe(true);
    expect(request!.headers['x-convoflow-signature']).toBe(signWebhookBody(request!.raw, secret));
    // The documented body (docs/channels.md), field for field and in that order: the content flat.
    const documented = {
      type: 'message',
      deliveryId: 'dlv-7f3a',
      accountId: 'acc-1',
      channel: '15550100001',
      customer: '15550100123',
      conversationId: 'conv:acc-1:15550100001:15550100123',
      messageId: 'msg-42',
      campaignId: null,
      kind: 'template',
      text: null,
      template: { name: 'order_update', language: 'en_US', params: ['Priya', 'caf\u00e9 \u{1F44D}'] },
      replyTo: 'wamid.IN1',
    };
    expect(request!.raw.toString('utf8')).toBe(JSON.stringify(documented));
  });

  it('posts a text with its words in `text` and a null `template`', () => {
    const body = webhookDeliveryBody({ ...message, content: { kind: 'text', text: 'Hello' }, replyTo: null });
    expect(Object.keys(body)).toEqual(['type', 'deliveryId', 'accountId', 'channel', 'customer', 'conversationId', 'messageId', 'campaignId', 'kind', 'text', 'template', 'replyTo']);
    expect(body).toMatchObject({ kind: 'text', text: 'Hello', template: null, replyTo: null });
  });

  it('sends the same delivery id, body and signature on every retry', async () => {
    answer = reply(503, 'busy');
    const first = await send(config);
    const second = await send(config);
    answer = reply(200);
    const third = await send(config);
    expect([first.outcome, second.outcome, third.outcome]).toEqual(['retry', 'retry', 'sent']);
    expect(received.map((r) => r.headers['x-convoflow-delivery'])).toEqual(['dlv-7f3a', 'dlv-7f3a', 'dlv-7f3a']);
    expect(new Set(received.map((r) => r.headers['x-convoflow-signature'])).size).toBe(1);
    expect(received.every((r) => r.signatureValid)).toBe(true);
  });

  it('takes the providerMessageId the backend answers with', async () => {
    answer = reply(200, JSON.stringify({ providerMessageId: 'backend-991' }), { 'content-type': 'application/json' });
    expect(await send(config)).toEqual({ outcome: 'sent', providerMessageId: 'backend-991' });
  });

  it('falls back to the delivery id when a 2xx answer is not JSON or names no id', async () => {
    for (const body of ['ok', '{}', '{"providerMessageId":""}', '{"providerMessageId":42}', 'null']) {
      answer = reply(200, body);
      expect(await send(config)).toEqual({ outcome: 'sent', providerMessageId: 'dlv-7f3a' });
    }
  });

  it('fails for good on a 4xx, with http_<status> and nothing of what the backend wrote', async () => {
    answer = reply(422, `INTERNAL-SECRET: db_password=hunter2 ${'x'.repeat(500)}`);
    expect(await send(config)).toEqual({ outcome: 'failed', error: { code: 'http_422', message: 'HTTP 422' } });
    answer = reply(404);
    expect(await send(config)).toEqual({ outcome: 'failed', error: { code: 'http_404', message: 'HTTP 404' } });
  });

  it('retries 408 and 429, which ask for later rather than refuse, with the Retry-After given', async () => {
    answer = reply(429, 'slow down', { 'retry-after': '5' });
    expect(await send(config)).toEqual({ outcome: 'retry', error: { code: 'http_429', message: 'HTTP 429' }, retryAfterMs: 5_000 });
    answer = reply(408);
    expect(await send(config)).toMatchObject({ outcome: 'retry', error: { code: 'http_408' } });
  });

  it('retries a 5xx', async () => {
    answer = reply(500, 'database down');
    expect(await send(config)).toEqual({ outcome: 'retry', error: { code: 'http_500', message: 'HTTP 500' } });
  });

  it('retries a redirect without following it', async () => {
    answer = reply(302, '', { location: 'http://127.0.0.1:1/elsewhere' });
    expect(await send(config)).toMatchObject({ outcome: 'retry', error: { code: 'http_302' } });
    expect(received).toHaveLength(1);
  });

  it('retries with code timeout when the backend does not answer in time', async () => {
    answer = (res) => hanging.add(res);
    expect(await send(config, { timeoutMs: 150 })).toEqual({ outcome: 'retry', error: { code: 'timeout', message: 'no answer within 150 ms' } });
  });

  it('retries with code network when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise((resolve) => closed.close(resolve));
    expect(await send({ ...config, url })).toEqual({ outcome: 'retry', error: { code: 'network', message: 'network error: ECONNREFUSED' } });
  });

  it('never puts the secret in the request', async () => {
    answer = reply(200);
    await send(config);
    const request = received[0]!;
    expect(request.raw.toString('utf8')).not.toContain(secret);
    expect(JSON.stringify(request.headers)).not.toContain(secret);
  });
});
