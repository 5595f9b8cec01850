import { z } from 'zod';
import type { Reply } from '../support/stack';
import { useStackWithAccount } from '../support/scenario';

type Operation = { operationId: string; responses: Record<string, { content?: { 'application/json': { schema: object } } }>; 'x-allowed'?: string[] };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: { Error: object } } };

/**
 * Issue 11 item 10: /openapi.json describes what the API really answers. Real answers are checked
 * against the schemas in the served document (turned back into validators with zod's JSON Schema
 * reader), so the document and the code cannot drift apart unnoticed.
 */
describe('the OpenAPI document', () => {
  const env = useStackWithAccount();
  let doc: Document;
  beforeAll(async () => {
    doc = (await env.stack.http.get('/openapi.json')).body;
  });

  function expectDocumented(method: string, path: string, reply: Reply): void {
    const operation = doc.paths[path]?.[method];
    expect({ method, path, documented: operation !== undefined }).toEqual({ method, path, documented: true });
    const schema = reply.status < 400 ? operation!.responses[String(reply.status)]?.content?.['application/json'].schema : doc.components.schemas.Error;
    expect({ method, path, status: reply.status, described: schema !== undefined }).toEqual({ method, path, status: reply.status, described: true });
    const result = z.fromJSONSchema(schema as never).safeParse(reply.body);
    expect({ method, path, status: reply.status, issues: result.success ? [] : result.error.issues }).toEqual({ method, path, status: reply.status, issues: [] });
  }

  test('every operation has a unique operationId', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids.every((id) => typeof id === 'string' && /^[a-z]+[A-Za-z]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('the error schema includes the validation details', () => {
    expect(doc.components.schemas.Error).toMatchObject({ properties: { error: { properties: { details: { type: 'array' } } } } });
  });

  test('every account, user, key and probe route describes its success answer', () => {
    // The routes that declare a response schema so far; conversation, inbound and channel routes follow.
    const described = ['/healthz', '/readyz', '/v1/accounts', '/v1/accounts/{accountId}', '/v1/accounts/{accountId}/policy', '/v1/accounts/{accountId}/users'];
    const operations = Object.entries(doc.paths)
      .filter(([path]) => described.includes(path) || /\/(users\/\{userId\}|service-keys)(\/|$)/.test(path))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, schema: Object.values(op.responses)[0]?.content?.['application/json'].schema })));
    expect(operations).toHaveLength(16);
    expect(operations.filter(({ schema }) => JSON.stringify(schema) === JSON.stringify({ type: 'object' }))).toEqual([]);
  });

  test('real answers of the account, user, key and probe routes match the document', async () => {
    const { http, platformKey } = env.stack;
    const { id, keys, users } = env.account;
    const base = '/v1/accounts/{accountId}';
    const at = (path: string) => path.replace('{accountId}', id);

    expectDocumented('get', '/healthz', await http.get('/healthz'));
    expectDocumented('get', '/readyz', await http.get('/readyz'));
    expectDocumented('post', '/v1/accounts', await http.post('/v1/accounts', { id: `${id}-2`, name: 'Second' }, platformKey));
    expectDocumented('post', '/v1/accounts', await http.post('/v1/accounts', { id: `${id}-2`, name: 'Second' }, platformKey)); // 409
    expectDocumented('get', base, await http.get(at(base), keys.agent));
    expectDocumented('patch', `${base}/policy`, await http.patch(at(`${base}/policy`), { autoCloseAfter: '24h' }, keys.owner));
    expectDocumented('patch', `${base}/policy`, await http.patch(at(`${base}/policy`), { autoCloseAfter: 'soon' }, keys.owner)); // 400 with details
    expectDocumented('post', `${base}/users`, await http.post(at(`${base}/users`), { id: 'documented', name: 'D', role: 'agent' }, keys.admin));
    expectDocumented('get', `${base}/users`, await http.get(at(`${base}/users`), keys.agent));
    expectDocumented('patch', `${base}/users/{userId}`, await http.patch(at(`${base}/users/documented`), { teams: ['t'] }, keys.admin));
    expectDocumented('put', `${base}/users/{userId}/presence`, await http.request('PUT', at(`${base}/users/${users.agent}/presence`), { key: keys.agent, body: { status: 'online' } }));
    expectDocumented('post', `${base}/service-keys`, await http.post(at(`${base}/service-keys`), { name: 'documented' }, keys.owner));
    const serviceKeys = await http.get(at(`${base}/service-keys`), keys.owner);
    expectDocumented('get', `${base}/service-keys`, serviceKeys);
    const serviceKeyId = serviceKeys.body.items[0].id;
    expectDocumented('post', `${base}/service-keys/{keyId}/rotate`, await http.post(at(`${base}/service-keys/${serviceKeyId}/rotate`), { gracePeriod: '1m' }, keys.owner));
    expectDocumented('delete', `${base}/service-keys/{keyId}`, await http.request('DELETE', at(`${base}/service-keys/${serviceKeyId}`), { key: keys.owner }));
    const userKeys = await http.get(at(`${base}/users/documented/keys`), keys.admin);
    expectDocumented('get', `${base}/users/{userId}/keys`, userKeys);
    expectDocumented('post', `${base}/users/{userId}/keys/rotate`, await http.post(at(`${base}/users/documented/keys/rotate`), { gracePeriod: '1m' }, keys.admin));
    expectDocumented('delete', `${base}/users/{userId}/keys/{keyId}`, await http.request('DELETE', at(`${base}/users/documented/keys/${userKeys.body.items[0].id}`), { key: keys.admin }));
  });

  test('every conversation, inbound, channel and webhook route that answers JSON describes its success answer', () => {
    const operations = Object.entries(doc.paths)
      .filter(([path]) => /\/(conversations|messages|campaign-messages|delivery-statuses|customer-events|channels)(\/|$)|^\/webhooks\//.test(path))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, schema: Object.values(op.responses)[0]?.content?.['application/json']?.schema })))
      // The WhatsApp handshake answers the challenge as plain text.
      .filter(({ path, method }) => !(path.startsWith('/webhooks/') && method === 'get'));
    expect(operations.length).toBeGreaterThanOrEqual(24);
    expect(operations.filter(({ schema }) => JSON.stringify(schema) === JSON.stringify({ type: 'object' }))).toEqual([]);
  });

  test('real answers of the conversation, inbound and channel routes match the document', async () => {
    const { http } = env.stack;
    const { id, keys, users } = env.account;
    const base = '/v1/accounts/{accountId}';
    const at = (path: string) => path.replace('{accountId}', id);
    const conv = `${base}/conversations/{conversationId}`;
    const customer = `49170${Date.now() % 1_000_000}`;
    const delivered = await http.post(at(`${base}/messages`), { channel: 'wa-main', customer, messageId: `wamid.doc.${customer}`, text: 'hi' }, keys.service);
    expectDocumented('post', `${base}/messages`, delivered);
    const conversationId: string = delivered.body.conversationId;
    const on = (suffix: string) => at(`${base}/conversations/${encodeURIComponent(conversationId)}${suffix}`);
    for (let i = 0; i < 100 && (await http.get(on(''), keys.agent)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    expectDocumented('get', conv, await http.get(on(''), keys.agent));
    expectDocumented('get', `${base}/conversations`, await http.get(at(`${base}/conversations?status=open`), keys.agent));
    expectDocumented('post', `${conv}/replies`, await http.post(on('/replies'), { text: 'Hello' }, keys.agent));
    expectDocumented('post', `${conv}/replies`, await http.post(on('/replies'), { text: 'not mine' }, keys.agent2)); // 403
    expectDocumented('post', `${conv}/templates`, await http.post(on('/templates'), { name: 'follow_up' }, keys.agent));
    expectDocumented('post', `${conv}/assign`, await http.post(on('/assign'), { assigneeId: users.agent2 }, keys.agent));
    expectDocumented('post', `${conv}/take-over`, await http.post(on('/take-over'), {}, keys.manager));
    expectDocumented('get', `${conv}/messages`, await http.get(on('/messages'), keys.agent));
    expectDocumented('get', `${conv}/events`, await http.get(on('/events'), keys.agent));
    expectDocumented('post', `${conv}/resolve`, await http.post(on('/resolve'), {}, keys.manager));
    expectDocumented('post', `${conv}/resolve`, await http.post(on('/resolve'), {}, keys.manager)); // 409
    expectDocumented('post', `${base}/customer-events`, await http.post(at(`${base}/customer-events`), { channel: 'wa-main', customer, type: 'left' }, keys.service));
    expectDocumented('post', `${base}/campaign-messages`, await http.post(at(`${base}/campaign-messages`), { channel: 'wa-main', customer, campaignId: 'doc', template: { name: 'promo' } }, keys.service));
    expectDocumented('post', `${base}/delivery-statuses`, await http.post(at(`${base}/delivery-statuses`), { providerMessageId: 'unknown', status: 'read' }, keys.service)); // 404
    const channel = `${base}/channels/{channel}`;
    expectDocumented('put', channel, await http.request('PUT', at(`${base}/channels/15550100001`), { key: keys.owner, body: { provider: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'documented-secret' } }));
    expectDocumented('get', channel, await http.get(at(`${base}/channels/15550100001`), keys.admin));
    expectDocumented('get', `${base}/channels`, await http.get(at(`${base}/channels`), keys.admin));
    expectDocumented('post', '/webhooks/whatsapp/{accountId}', await http.request('POST', `/webhooks/whatsapp/${id}`, { body: '{}', headers: { 'x-hub-signature-256': 'sha256=00' } })); // 401
  });

  test("the WhatsApp handshake's challenge is documented as plain text, and a refused handshake answers its error as JSON", async () => {
    // Found by the fuzz tier (test/fuzz): the route set text/plain before the check that refuses, so the error went out labelled text/plain.
    const handshake = doc.paths['/webhooks/whatsapp/{accountId}']!.get!.responses as Record<string, { content: Record<string, { schema: object }> }>;
    expect(handshake['200']!.content).toEqual({ 'text/plain': { schema: { type: 'string' } } });
    const refused = await env.stack.http.get(`/webhooks/whatsapp/${env.account.id}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42`);
    expect([refused.status, refused.headers.get('content-type'), refused.body.error?.code]).toEqual([403, 'application/json; charset=utf-8', 'forbidden']);
  });

  test('a wrong method on a known path is 405 with Allow, an unknown path still 404', async () => {
    const { http } = env.stack;
    const wrong = await http.request('DELETE', `/v1/accounts/${env.account.id}`, { key: env.account.keys.owner });
    expect([wrong.status, wrong.body.error.code]).toEqual([405, 'method_not_allowed']);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    const list = await http.get('/v1/accounts', env.stack.platformKey);
    expect([list.status, list.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await http.request('POST', '/openapi.json')).headers.get('allow')).toBe('GET, HEAD');
    expect((await http.get('/v1/nothing-here')).status).toBe(404);
  });

  test('a body sent without content-type application/json is 400 with a message that says so', async () => {
    const res = await fetch(`${env.stack.baseUrl}/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.stack.platformKey}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ id: 'plain-text', name: 'x' }),
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, body.error.code]).toEqual([400, 'validation_failed']);
    expect(body.error.message).toContain('content-type: application/json');
  });
});
