/**
 * Sending through the WhatsApp Cloud API: the request body, how Graph's answers become SendResults,
 * and real HTTP calls to a local server standing in for Graph (success, each error class, a hang).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyGraphError, graphMessageBody, sendWhatsApp } from '../../channels/whatsapp/graph';
import type { postOutbound } from '../../channels/outbound-http';
import type { OutboundMessage, SendResult, WhatsAppChannelConfig } from '../../channels/types';

const accessToken = 'EAAG-secret-token-never-to-be-seen';

const config: WhatsAppChannelConfig = {
  provider: 'whatsapp_cloud',
  phoneNumberId: '114002873001456',
  accessToken,
  appSecret: 'app-secret',
  verifyToken: 'verify',
  apiVersion: 'v21.0',
};

function outbound(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    deliveryId: 'delivery-1',
    accountId: 'acc-1',
    channel: '15550100001',
    customer: '15550100123',
    conversationId: 'conv:acc-1:15550100001:15550100123',
    messageId: 'msg-1',
    campaignId: null,
    content: { kind: 'text', text: 'Your order ships today.' },
    replyTo: null,
    ...overrides,
  };
}

describe('graphMessageBody', () => {
  it('sends a text to the customer with a plus, without link preview', () => {
    expect(graphMessageBody(outbound())).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+15550100123',
      type: 'text',
      text: { body: 'Your order ships today.', preview_url: false },
    });
  });

  it('names the message replied to as context', () => {
    expect(graphMessageBody(outbound({ replyTo: 'wamid.customer-1' }))).toMatchObject({ context: { message_id: 'wamid.customer-1' } });
  });

  it('sends a template with its language and its parameters as body text parameters', () => {
    const body = graphMessageBody(outbound({ content: { kind: 'template', template: { name: 'order_update', language: 'pt_BR', params: ['Priya', '4821'] } } }));
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+15550100123',
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'pt_BR' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Priya' },
              { type: 'text', text: '4821' },
            ],
          },
        ],
      },
    });
  });

  it('sends a template without parameters in en_US with no components', () => {
    const body = graphMessageBody(outbound({ content: { kind: 'template', template: { name: 'hello_world' } } }));
    expect(body).toMatchObject({ type: 'template', template: { name: 'hello_world', language: { code: 'en_US' }, components: [] } });
  });

  it('refuses a text without text and a template without a name', () => {
    expect(() => graphMessageBody(outbound({ content: { kind: 'text', text: '' } }))).toThrow(/without text/);
    expect(() => graphMessageBody(outbound({ content: { kind: 'template', template: { name: '' } } }))).toThrow(/template name/);
  });
});

const graphError = (code: number, details?: string) => ({
  error: { message: `(#${code}) title`, type: 'OAuthException', code, ...(details ? { error_data: { messaging_product: 'whatsapp', details } } : {}), fbtrace_id: 'A1' },
});

describe('classifyGraphError', () => {
  it.each([1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 131057, 133004])('retries code %p on a 400', (code) => {
    expect(classifyGraphError(400, graphError(code))).toEqual({ outcome: 'retry', error: { code, message: `HTTP 400, Graph error ${code}` } });
  });

  it.each([131047, 131026, 131051, 132000, 132001, 190, 100, 131008, 131009, 368, 131031])('fails code %p on a 400 for good', (code) => {
    expect(classifyGraphError(400, graphError(code))).toEqual({ outcome: 'failed', error: { code, message: `HTTP 400, Graph error ${code}` } });
  });

  it('retries any 5xx, whatever its code', () => {
    expect(classifyGraphError(500, graphError(131000))).toMatchObject({ outcome: 'retry', error: { code: 131000 } });
    expect(classifyGraphError(503, graphError(190))).toMatchObject({ outcome: 'retry', error: { code: 190 } });
    expect(classifyGraphError(502, '<html>Bad gateway</html>')).toEqual({ outcome: 'retry', error: { code: 502, message: 'HTTP 502' } });
  });

  it('retries a 429 whatever its code', () => {
    expect(classifyGraphError(429, graphError(4))).toMatchObject({ outcome: 'retry', error: { code: 4 } });
    expect(classifyGraphError(429, undefined)).toMatchObject({ outcome: 'retry', error: { code: 429 } });
  });

  it('fails a 4xx without a Graph error with the HTTP status as code', () => {
    expect(classifyGraphError(404, 'not found')).toEqual({ outcome: 'failed', error: { code: 404, message: 'HTTP 404' } });
    expect(classifyGraphError(401, {})).toEqual({ outcome: 'failed', error: { code: 401, message: 'HTTP 401' } });
  });

  it("shows Graph's code and the HTTP status, never Graph's texts", () => {
    expect(classifyGraphError(400, graphError(131047, 'More than 24 hours have passed.'))).toEqual({
      outcome: 'failed',
      error: { code: 131047, message: 'HTTP 400, Graph error 131047' },
    });
  });

  it('reads a Graph error given as the raw JSON text', () => {
    expect(classifyGraphError(400, JSON.stringify(graphError(131026, 'Receiver is incapable')))).toEqual({
      outcome: 'failed',
      error: { code: 131026, message: 'HTTP 400, Graph error 131026' },
    });
  });

  it('turns a Retry-After of seconds into retryAfterMs, and ignores one that is not seconds', () => {
    expect(classifyGraphError(429, graphError(130429), '7')).toMatchObject({ outcome: 'retry', retryAfterMs: 7_000 });
    expect(classifyGraphError(503, undefined, 2)).toMatchObject({ outcome: 'retry', retryAfterMs: 2_000 });
    expect(classifyGraphError(429, undefined, 'Wed, 21 Oct 2026 07:28:00 GMT')).not.toHaveProperty('retryAfterMs');
    expect(classifyGraphError(400, graphError(131047), '7')).not.toHaveProperty('retryAfterMs');
  });
});

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** A local server standing in for Graph; each test says how it answers. */
describe('sendWhatsApp against a local server', () => {
  let server: http.Server;
  let graphUrl: string;
  let received: Received[];
  let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  const hanging = new Set<http.ServerResponse>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ method: req.method!, path: req.url!, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        answer(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    graphUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    received = [];
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

  it('posts the body to /{apiVersion}/{phoneNumberId}/messages with the bearer token, and answers sent with the wamid', async () => {
    answer = json(200, { messaging_product: 'whatsapp', contacts: [{ input: '+15550100123', wa_id: '15550100123' }], messages: [{ id: 'wamid.OUT1' }] });
    const result = await sendWhatsApp(config, outbound({ replyTo: 'wamid.IN1' }), { graphUrl: `${graphUrl}/` });
    expect(result).toEqual({ outcome: 'sent', providerMessageId: 'wamid.OUT1' });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', path: '/v21.0/114002873001456/messages' });
    expect(received[0]!.headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(received[0]!.headers['content-type']).toBe('application/json');
    expect(received[0]!.body).toEqual(graphMessageBody(outbound({ replyTo: 'wamid.IN1' })));
  });

  it('retries a 2xx that names no message id', async () => {
    answer = json(200, { messaging_product: 'whatsapp', messages: [] });
    expect(await sendWhatsApp(config, outbound(), { graphUrl })).toMatchObject({ outcome: 'retry', error: { code: 'malformed_response' } });
  });

  it('fails for good when the 24-hour window is closed (131047)', async () => {
    answer = json(400, graphError(131047, 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.'));
    expect(await sendWhatsApp(config, outbound(), { graphUrl })).toEqual({
      outcome: 'failed',
      error: { code: 131047, message: 'HTTP 400, Graph error 131047' },
    });
  });

  it('fails for good on an invalid token (190)', async () => {
    answer = json(401, { error: { message: 'Error validating access token: Session has expired.', type: 'OAuthException', code: 190, fbtrace_id: 'B' } });
    expect(await sendWhatsApp(config, outbound(), { graphUrl })).toEqual({
      outcome: 'failed',
      error: { code: 190, message: 'HTTP 401, Graph error 190' },
    });
  });

  it('retries a rate limit (429, 130429) after the Retry-After it gives', async () => {
    answer = json(429, graphError(130429), { 'retry-after': '3' });
    expect(await sendWhatsApp(config, outbound(), { graphUrl })).toEqual({ outcome: 'retry', error: { code: 130429, message: 'HTTP 429, Graph error 130429' }, retryAfterMs: 3_000 });
  });

  it('retries a server error (500, 131000)', async () => {
    answer = json(500, graphError(131000));
    expect(await sendWhatsApp(config, outbound(), { graphUrl })).toMatchObject({ outcome: 'retry', error: { code: 131000 } });
  });

  it('retries a redirect instead of following it with the token', async () => {
    answer = (_req, res) => res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' }).end();
    expect(await sendWhatsApp(config, outbound(), { graphUrl })).toMatchObject({ outcome: 'retry', error: { code: 307 } });
    expect(received).toHaveLength(1);
  });

  it('retries with code timeout when Graph does not answer in time', async () => {
    answer = (_req, res) => hanging.add(res);
    const started = Date.now();
    const result = await sendWhatsApp(config, outbound(), { graphUrl, timeoutMs: 150 });
    expect(result).toEqual({ outcome: 'retry', error: { code: 'timeout', message: 'no answer within 150 ms' } });
    // Not before its timeout (a Node timer may fire a millisecond early by Date.now()); how much after is load.
    expect(Date.now() - started).toBeGreaterThanOrEqual(149);
  });

  it('retries with code timeout when Graph sends headers and then stalls', async () => {
    answer = (_req, res) => {
      hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"messages":');
    };
    expect(await sendWhatsApp(config, outbound(), { graphUrl, timeoutMs: 150 })).toMatchObject({ outcome: 'retry', error: { code: 'timeout' } });
  });

  it('retries with code network when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await sendWhatsApp(config, outbound(), { graphUrl: `http://127.0.0.1:${port}` })).toEqual({
      outcome: 'retry',
      error: { code: 'network', message: 'network error: ECONNREFUSED' },
    });
  });

  it('reads no more than 64 KiB of an answer that never ends', async () => {
    // Read whole, this answer would never end and the send would time out; cut at 64 KiB, it is a malformed answer.
    answer = (_req, res) => {
      hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    expect(await sendWhatsApp(config, outbound(), { graphUrl, timeoutMs: 30_000 })).toMatchObject({ outcome: 'retry', error: { code: 'malformed_response' } });
  });

  it('fails a message it cannot build without calling Graph', async () => {
    expect(await sendWhatsApp(config, outbound({ content: { kind: 'text', text: '' } }), { graphUrl })).toMatchObject({ outcome: 'failed', error: { code: 'invalid_message' } });
    expect(received).toHaveLength(0);
  });

  it('never lets the token into a result, even from a server that echoes the request back', async () => {
    const echo = (status: number) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      const details = `you sent ${JSON.stringify(req.headers)}`;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(graphError(131000, details)));
    };
    const results: SendResult[] = [];
    for (const status of [400, 401, 429, 500, 503]) {
      answer = echo(status);
      results.push(await sendWhatsApp(config, outbound(), { graphUrl }));
    }
    answer = (_req, res) => res.writeHead(502).end(`token was ${accessToken}`);
    results.push(await sendWhatsApp(config, outbound(), { graphUrl }));
    const throwing: typeof postOutbound = (request) => Promise.reject(new Error(`boom ${JSON.stringify(request.headers)}`));
    results.push(await sendWhatsApp(config, outbound(), { graphUrl, post: throwing }));

    expect(results).toHaveLength(7);
    expect(JSON.stringify(results)).not.toContain(accessToken);
    expect(JSON.stringify(results)).not.toContain('you sent');
  });
});
