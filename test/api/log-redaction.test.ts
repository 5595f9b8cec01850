import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '../../infra/logger';
import type { Stack } from '../support/stack';
import { eventually, startStack } from '../support/stack';

/**
 * Issue 11 item 0: no credential reaches a log. The API and the worker log at `trace` into memory while
 * real requests use every kind of key and secret; then the captured text is searched for each of them.
 */
describe('secrets in logs', () => {
  let stack: Stack;
  const lines: string[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logText = () => lines.join('');

  beforeAll(async () => {
    stack = await startStack(undefined, 'logs', { log: createLogger({ level: 'trace', destination: capture }) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('request logs carry no API key, no query-string token and no channel secret, at trace level', async () => {
    const accountId = `acct-${randomUUID().slice(0, 8)}`;
    const secrets: string[] = [stack.platformKey];
    expect((await stack.http.post('/v1/accounts', { id: accountId, name: 'Logs' }, stack.platformKey)).status).toBe(201);
    const user = await stack.http.post(`/v1/accounts/${accountId}/users`, { id: 'ana', name: 'Ana', role: 'agent' }, stack.platformKey);
    const service = await stack.http.post(`/v1/accounts/${accountId}/service-keys`, { name: 'wa-backend' }, stack.platformKey);
    const agentKey: string = user.body.apiKey;
    const serviceKey: string = service.body.apiKey;
    secrets.push(agentKey, serviceKey);

    const sent = await stack.http.post(
      `/v1/accounts/${accountId}/messages`,
      { channel: 'wa-main', customer: '4915100000001', messageId: 'wamid.log-1', text: 'hi' },
      serviceKey,
    );
    expect(sent.status).toBe(202);
    const conversationId: string = sent.body.conversationId;
    await eventually(async () => ((await stack.http.get(`/v1/accounts/${accountId}/conversations/${conversationId}`, agentKey)).status === 200 ? true : undefined));
    expect((await stack.http.post(`/v1/accounts/${accountId}/conversations/${conversationId}/replies`, { text: 'hello' }, agentKey)).status).toBe(200);

    // A key that does not exist (a typo, an attacker) is just as secret to its owner.
    const unknownKey = `cf_u_${randomUUID().replaceAll('-', '')}`;
    secrets.push(unknownKey);
    expect((await stack.http.get(`/v1/accounts/${accountId}/conversations`, unknownKey)).status).toBe(401);
    // A session token (the inbox's cookie value) pasted where a path segment goes is a secret too.
    const sessionToken = `cf_c_${randomUUID().replaceAll('-', '')}`;
    secrets.push(sessionToken);
    expect((await stack.http.get(`/v1/accounts/${sessionToken}/conversations`, agentKey)).status).toBe(404);
    // Also as a lower-case scheme, and a key that is not ours at all.
    const foreign = `sk-${randomUUID()}`;
    secrets.push(foreign);
    expect((await stack.http.request('GET', `/v1/accounts/${accountId}`, { headers: { authorization: `bearer ${foreign}` } })).status).toBe(401);

    // WhatsApp's verification handshake (channels work) and any other query-string credential.
    const verifyToken = `verify-${randomUUID()}`;
    const queryKey = `qk-${randomUUID()}`;
    secrets.push(verifyToken, queryKey);
    await stack.http.get(`/webhooks/whatsapp/${accountId}?hub.mode=subscribe&hub.verify_token=${verifyToken}&hub.challenge=1158201444`);
    await stack.http.get(`/v1/accounts/${accountId}/conversations?api_key=${queryKey}`, agentKey);

    // Channel secrets in a body, and a failed write whose error quotes the document (as MongoDB's
    // document-validation error does): the error handler logs it with the error.
    const channel = {
      provider: 'whatsapp_cloud',
      phoneNumberId: '1234567890',
      accessToken: `EAAG${randomUUID()}`,
      appSecret: `app-${randomUUID()}`,
      verifyToken: `vt-${randomUUID()}`,
      webhook: { url: 'https://example.com/hook', secret: `wh-${randomUUID()}` },
      apiKey: `ak-${randomUUID()}`,
    };
    secrets.push(channel.accessToken, channel.appSecret, channel.verifyToken, channel.webhook.secret, channel.apiKey);
    await stack.http.request('PUT', `/v1/accounts/${accountId}/channels/4915100000000`, { key: stack.platformKey, body: channel });
    const users = stack.apiDeps.collections.users;
    const insertOne = users.insertOne.bind(users);
    users.insertOne = (async () => {
      throw Object.assign(new Error(`Document failed validation: ${JSON.stringify(channel)}`), { code: 121, errInfo: { failingDocument: channel } });
    }) as never;
    try {
      expect((await stack.http.post(`/v1/accounts/${accountId}/users`, { id: 'bo', name: 'Bo', role: 'agent' }, stack.platformKey)).status).toBe(500);
    } finally {
      users.insertOne = insertOne;
    }

    const text = logText();
    // The test saw the requests it made: the log is not empty and shows what was removed.
    expect(text).toContain('request completed');
    expect(text).toContain('hub.challenge=1158201444');
    expect(text).toContain('[redacted]');
    expect(text).toContain('Document failed validation');
    for (const secret of secrets) expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
  });
});
