import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { createApp, routes } from '../../api/app';
import type { Stack } from '../support/stack';
import { Http, quietLog, useStack } from '../support/stack';
import { startOwnFerretDB, testServers } from '../support/test-servers';
import { createAccount, customerWrites, newCustomer } from '../support/scenario';

describe('probes, OpenAPI and metrics', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  test('/healthz answers while the process lives, with no key', async () => {
    expect(await stack.http.get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  test('/readyz is 200 when Temporal and MongoDB both answer', async () => {
    const res = await stack.http.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual([
      { name: 'temporal', ok: true },
      { name: 'mongodb', ok: true },
    ]);
  });

  test('/readyz turns 503 while FerretDB is stopped, reads answer 503 unavailable, a recently used service key still delivers messages, and all recover when it is back', async () => {
    const own = await startOwnFerretDB();
    const mongo = await MongoClient.connect(own.uri, { serverSelectionTimeoutMS: 1_000 });
    const connection = await Connection.connect({ address: testServers().temporalAddress });
    const { app } = createApp({
      db: mongo.db('readiness'),
      temporal: new Client({ connection }),
      taskQueue: 'unused',
      platformApiKey: 'platform-key-for-readiness-test',
      log: quietLog,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const http = new Http(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const platformKey = 'platform-key-for-readiness-test';
    const accountId = `ready-${randomUUID().slice(0, 8)}`;
    const message = (messageId: string) => ({ channel: 'wa-main', customer: '4915100000001', messageId, text: 'hello' });
    try {
      expect((await http.get('/readyz')).status).toBe(200);
      expect((await http.post('/v1/accounts', { id: accountId, name: 'Readiness' }, platformKey)).status).toBe(201);
      const serviceKey = (await http.post(`/v1/accounts/${accountId}/service-keys`, { name: 'backend' }, platformKey)).body.apiKey as string;
      const unusedKey = (await http.post(`/v1/accounts/${accountId}/service-keys`, { name: 'never used' }, platformKey)).body.apiKey as string;
      expect((await http.post(`/v1/accounts/${accountId}/messages`, message('before'), serviceKey)).status).toBe(202);
      await own.stop();
      // Temporal takes the message on its own; the key was resolved a moment ago, so the API remembers it.
      expect((await http.post(`/v1/accounts/${accountId}/messages`, message('during'), serviceKey)).status).toBe(202);
      const unknown = await http.post(`/v1/accounts/${accountId}/messages`, message('other'), unusedKey);
      expect(unknown.status).toBe(503);
      expect(unknown.body.error.code).toBe('unavailable');
      const down = await http.get('/readyz');
      expect(down.status).toBe(503);
      expect(down.body.checks.find((c: { name: string }) => c.name === 'mongodb')).toEqual({ name: 'mongodb', ok: false, error: expect.stringMatching(/^(timeout|unavailable)$/) });
      // Unauthenticated: a stable word per dependency, never the driver's message with internal hosts and ports.
      expect(JSON.stringify(down.body)).not.toMatch(new RegExp(`127\\.0\\.0\\.1|localhost|:${own.port}\\b|ECONNREFUSED`));
      expect(down.body.checks.find((c: { name: string }) => c.name === 'temporal').ok).toBe(true);
      const read = await http.get('/v1/accounts/any', 'platform-key-for-readiness-test');
      expect(read.status).toBe(503);
      expect(read.body.error.code).toBe('unavailable');
      expect((await http.get('/healthz')).status).toBe(200);

      const again = await startOwnFerretDB({ dataDir: own.dataDir, port: own.port });
      try {
        const deadline = Date.now() + 15_000;
        let status = 0;
        while (Date.now() < deadline && (status = (await http.get('/readyz')).status) !== 200) await new Promise((r) => setTimeout(r, 200));
        expect(status).toBe(200);
      } finally {
        await again.dispose();
      }
    } finally {
      server.close();
      await mongo.close(true);
      await connection.close();
      await own.dispose();
    }
  });

  test('/openapi.json describes every route of SPEC section 5 with its input schemas', async () => {
    const doc = (await stack.http.get('/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const route of routes) expect(doc.paths[route.path]?.[route.method]).toBeDefined();
    for (const path of [
      '/v1/accounts',
      '/v1/accounts/{accountId}/policy',
      '/v1/accounts/{accountId}/users',
      '/v1/accounts/{accountId}/service-keys',
      '/v1/accounts/{accountId}/messages',
      '/v1/accounts/{accountId}/campaign-messages',
      '/v1/accounts/{accountId}/conversations',
      '/v1/accounts/{accountId}/conversations/{conversationId}',
      '/v1/accounts/{accountId}/conversations/{conversationId}/messages',
      '/v1/accounts/{accountId}/conversations/{conversationId}/events',
      '/v1/accounts/{accountId}/conversations/{conversationId}/replies',
      '/v1/accounts/{accountId}/conversations/{conversationId}/templates',
      '/v1/accounts/{accountId}/conversations/{conversationId}/assign',
      '/v1/accounts/{accountId}/conversations/{conversationId}/take-over',
      '/v1/accounts/{accountId}/conversations/{conversationId}/resolve',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const message = doc.paths['/v1/accounts/{accountId}/messages'].post.requestBody.content['application/json'].schema;
    // SPEC section 7 widened it: `text` is required of text messages only (an image may have none).
    expect(message.required).toEqual(expect.arrayContaining(['channel', 'customer', 'messageId']));
    expect(Object.keys(message.properties)).toEqual(expect.arrayContaining(['text', 'type', 'content']));
  });

  test('/metrics exposes request and Temporal call latencies in Prometheus format', async () => {
    const account = await createAccount(stack);
    await customerWrites(stack, account, { customer: newCustomer() });
    const res = await stack.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.body).toContain('convoflow_http_request_duration_seconds_bucket');
    expect(res.body).toMatch(/convoflow_temporal_call_duration_seconds_count\{operation="signalWithStart",outcome="ok"\} [1-9]/);
  });

  test('every answer carries a request id, echoing a sane one the caller sent', async () => {
    const res = await stack.http.request('GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect((await stack.http.get('/healthz')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
