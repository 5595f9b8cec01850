import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signWebhookBody } from '../../channels/webhook-provider';
import { channelForSending } from '../../store/channels';
import { collections } from '../../store/collections';
import { SecretsKeyError, createSecretBox } from '../../store/secret-box';
import type { Account } from '../support/scenario';
import { conversationApi, conversationPath, createAccount, newCustomer } from '../support/scenario';
import { SseClient } from '../support/sse-client';
import type { Stack } from '../support/stack';
import { capturedLogs, eventually, useStack } from '../support/stack';

/**
 * SPEC section 12, "Outbound destinations" and "Secrets at rest", through the public API: webhook
 * channels send only over https to public addresses (unless OUTBOUND_ALLOW_PRIVATE), nothing a remote
 * server writes reaches agents, and channel secrets are stored sealed.
 */

/** A backend on loopback that records what it is sent and answers as told. */
async function startBackend(answer: (res: http.ServerResponse, received: number) => void) {
  const received: { body: string; signature: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString(), signature: req.headers['x-convoflow-signature'] as string | undefined });
      answer(res, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function helpers(env: { stack: Stack }) {
  const api = conversationApi(env);
  const putChannel = (account: Account, channel: string, body: object) => env.stack.http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, { key: account.keys.admin, body });
  const timeline = async (account: Account, conversationId: string): Promise<any[]> =>
    (await env.stack.http.get(conversationPath(account, conversationId, '/messages?limit=500'), account.keys.agent)).body.messages;
  /** A customer writes on `channel`; a reply goes out; resolves with the reply once its delivery has settled. */
  const replyThrough = async (account: Account, channel: string) => {
    const res = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel, customer: newCustomer(), messageId: `m-${randomUUID()}`, text: 'hi' }, account.keys.service);
    expect(res.status).toBe(202);
    const conversationId: string = res.body.conversationId;
    await eventually(async () => ((await timeline(account, conversationId)).length === 1 ? true : undefined));
    const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'Your order ships today' });
    expect(reply.status).toBe(200);
    const settled = await eventually(async () => {
      const message = (await timeline(account, conversationId)).find((m) => m.messageId === reply.body.messageId);
      return message?.delivery?.status === 'sent' || message?.delivery?.status === 'failed' ? message : undefined;
    });
    return { conversationId, message: settled };
  };
  return { putChannel, timeline, replyThrough };
}

describe('with OUTBOUND_ALLOW_PRIVATE off (production)', () => {
  const env = useStack(() => ({ outboundAllowPrivate: false }));
  const { putChannel, replyThrough } = helpers(env);
  let account: Account;
  beforeAll(async () => {
    account = await createAccount(env.stack);
  });

  test.each([
    'http://hooks.example.com/send',
    'http://127.0.0.1:8080/hook',
    'https://127.0.0.1/hook',
    'https://127.1/hook',
    'https://2130706433/hook',
    'https://0x7f.1/hook',
    'https://0177.0.0.1/hook',
    'https://[::1]/hook',
    'https://[::ffff:127.0.0.1]/hook',
    'https://[fc00::]/hook',
    'https://[fe80::1]/hook',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/hook',
    'https://172.16.0.1/hook',
    'https://192.168.1.1/hook',
    'https://100.64.0.1/hook',
    'https://224.0.0.1/hook',
    'https://0.0.0.0/hook',
    'https://[64:ff9b::7f00:1]/hook',
  ])('PUT of a webhook channel to %s answers 400 naming url', async (url) => {
    const res = await putChannel(account, 'hook', { provider: 'webhook', url, secret: 'a-webhook-secret' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toMatch(/^url: /);
  });

  test('a name that resolves to a loopback address fails the send with destination_forbidden, and nothing is sent', async () => {
    const backend = await startBackend((res) => res.writeHead(200).end());
    try {
      const put = await putChannel(account, 'hook-local', { provider: 'webhook', url: `https://localhost:${backend.port}/send`, secret: 'a-webhook-secret' });
      expect(put.status).toBe(200);
      const { message } = await replyThrough(account, 'hook-local');
      expect(message.delivery).toMatchObject({ status: 'failed', error: { code: 'destination_forbidden' } });
      expect(backend.received).toHaveLength(0);
    } finally {
      await backend.close();
    }
  });
});

describe('with OUTBOUND_ALLOW_PRIVATE on (tests, private deployments)', () => {
  const logs = capturedLogs('info');
  const env = useStack(() => ({ log: logs.logger }));
  const { putChannel, replyThrough, timeline } = helpers(env);
  let account: Account;
  beforeAll(async () => {
    account = await createAccount(env.stack);
  });

  test("a backend's refusal reaches the timeline, /events and the stream as its status only, never its body", async () => {
    const leak = `INTERNAL-SECRET: db_password=${randomUUID()}; internal host 10.0.0.7`;
    const backend = await startBackend((res) => res.writeHead(400, { 'content-type': 'text/plain' }).end(leak));
    const stream = await SseClient.open(`${env.stack.baseUrl}/v1/accounts/${account.id}/stream`, { authorization: `Bearer ${account.keys.agent}` });
    try {
      expect((await putChannel(account, 'internal', { provider: 'webhook', url: `http://127.0.0.1:${backend.port}/send`, secret: 'a-webhook-secret' })).status).toBe(200);
      const { conversationId, message } = await replyThrough(account, 'internal');
      expect(backend.received).toHaveLength(1);
      expect(message.delivery).toMatchObject({ status: 'failed', error: { code: 'http_400', message: 'HTTP 400' } });
      const events = await env.stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.agent);
      expect(JSON.stringify(events.body)).toContain('http_400');
      await stream.next((e) => JSON.stringify(e.data).includes('http_400'));
      for (const seen of [JSON.stringify(message), JSON.stringify(events.body), JSON.stringify(stream.events)]) {
        expect(seen).not.toContain('INTERNAL-SECRET');
        expect(seen).not.toContain('db_password');
      }
    } finally {
      stream.close();
      await backend.close();
    }
  });

  test('channel secrets are stored sealed; sends still sign with the secret; a record stored in plaintext still works and is sealed at its next write', async () => {
    const secrets = { accessToken: `EAAG-${randomUUID()}`, appSecret: `app-${randomUUID()}`, verifyToken: `verify-${randomUUID()}`, webhook: `hook-${randomUUID()}` };
    const backend = await startBackend((res, n) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ providerMessageId: `backend-${n}` })));
    try {
      expect(
        (await putChannel(account, 'wa', { provider: 'whatsapp_cloud', phoneNumberId: '114002873001999', accessToken: secrets.accessToken, appSecret: secrets.appSecret, verifyToken: secrets.verifyToken }))
          .status,
      ).toBe(200);
      const url = `http://127.0.0.1:${backend.port}/send`;
      expect((await putChannel(account, 'backend', { provider: 'webhook', url, secret: secrets.webhook })).status).toBe(200);

      const raw = await env.stack.db.collection('channels').find({ accountId: account.id }).toArray();
      const stored = JSON.stringify(raw);
      for (const secret of Object.values(secrets)) expect(stored).not.toContain(secret);
      const wa = raw.find((d) => d.channel === 'wa')!;
      for (const field of ['accessToken', 'appSecret', 'verifyToken']) expect(wa.config[field]).toMatch(/^cfsec1\./);

      // The handshake compares the verify token, opened where it is used.
      const handshake = await fetch(`${env.stack.baseUrl}/webhooks/whatsapp/${account.id}?hub.mode=subscribe&hub.verify_token=${secrets.verifyToken}&hub.challenge=42`);
      expect(await handshake.text()).toBe('42');

      const sent = await replyThrough(account, 'backend');
      expect(sent.message.delivery).toMatchObject({ status: 'sent' });
      expect(backend.received[0]!.signature).toBe(signWebhookBody(backend.received[0]!.body, secrets.webhook));

      // A record from before encryption: read as it is, sealed when next written.
      const legacySecret = `legacy-${randomUUID()}`;
      const now = new Date();
      await env.stack.db.collection('channels').insertOne({
        _id: `${account.id}/legacy` as never,
        accountId: account.id,
        channel: 'legacy',
        config: { provider: 'webhook', url, secret: legacySecret },
        createdAt: now,
        updatedAt: now,
      });
      const legacy = await replyThrough(account, 'legacy');
      expect(legacy.message.delivery).toMatchObject({ status: 'sent' });
      const last = backend.received.at(-1)!;
      expect(last.signature).toBe(signWebhookBody(last.body, legacySecret));
      expect((await putChannel(account, 'legacy', { provider: 'webhook', url: `${url}?v=2` })).status).toBe(200);
      const rewritten = await env.stack.db.collection('channels').findOne({ _id: `${account.id}/legacy` as never });
      expect(rewritten!.config.secret).toMatch(/^cfsec1\./);
      expect(JSON.stringify(rewritten)).not.toContain(legacySecret);
      const opened = await channelForSending(env.stack.apiDeps.collections, account.id, 'legacy');
      expect(opened).toMatchObject({ provider: 'webhook', secret: legacySecret });

      // Another key opens nothing, and says so without the secret.
      const wrong = collections(env.stack.db, { secrets: createSecretBox(randomBytes(32)) });
      const failure = await channelForSending(wrong, account.id, 'wa').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(SecretsKeyError);
      expect((failure as Error).message).toMatch(/neither SECRETS_KEY/);
      for (const secret of Object.values(secrets)) expect((failure as Error).message).not.toContain(secret);
    } finally {
      await backend.close();
    }
  });

  test('a channel sealed with another key fails its send loudly, naming the channel and not the secret, and the message waits', async () => {
    const secret = `hook-${randomUUID()}`;
    const now = new Date();
    const _id = `${account.id}/other-key`;
    await env.stack.db.collection('channels').insertOne({
      _id: _id as never,
      accountId: account.id,
      channel: 'other-key',
      config: { provider: 'webhook', url: 'http://127.0.0.1:9/never', secret: createSecretBox(randomBytes(32)).seal(secret, `${_id}#secret`) },
      createdAt: now,
      updatedAt: now,
    });
    const res = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'other-key', customer: newCustomer(), messageId: `m-${randomUUID()}`, text: 'hi' }, account.keys.service);
    const conversationId: string = res.body.conversationId;
    await eventually(async () => ((await timeline(account, conversationId)).length === 1 ? true : undefined));
    const reply = await conversationApi(env).act(account, conversationId, 'replies', account.keys.agent, { text: 'Hello' });
    expect(reply.status).toBe(200);
    const logged = await eventually(async () => logs.records().find((r) => r.msg === 'channel secrets do not open: check SECRETS_KEY' && r.channel === 'other-key'));
    expect(logged.level).toBeGreaterThanOrEqual(50);
    expect(logged.err.message).toMatch(/neither SECRETS_KEY/);
    expect(logs.lines.join('')).not.toContain(secret);
    const message = (await timeline(account, conversationId)).find((m) => m.messageId === reply.body.messageId);
    expect(message.delivery.status).toBe('queued');
  });
});
