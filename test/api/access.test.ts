import type { Stack } from '../support/stack';
import { startStack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';

/** Authentication, account isolation and bad input: clear 4xx answers and nothing changed. */
describe('access and input', () => {
  let stack: Stack;
  let a: Account;
  let b: Account;
  let conversationId: string;

  beforeAll(async () => {
    stack = await startStack();
    a = await createAccount(stack);
    b = await createAccount(stack);
    ({ conversationId } = await customerWrites(stack, a, { customer: newCustomer() }));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('a request without a key, or with an unknown key, is 401 unauthenticated', async () => {
    expect((await stack.http.get(`/v1/accounts/${a.id}/conversations`)).body.error.code).toBe('unauthenticated');
    const res = await stack.http.get(`/v1/accounts/${a.id}/conversations`, 'cf_u_not-a-real-key');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthenticated');
  });

  test("another account's user sees none of this account's conversations: 404, not 403", async () => {
    expect((await stack.http.get(conversationPath(a, conversationId), b.keys.owner)).status).toBe(404);
    expect((await stack.http.get(`/v1/accounts/${a.id}/conversations`, b.keys.owner)).status).toBe(404);
    const reply = await stack.http.post(conversationPath(a, conversationId, '/replies'), { text: 'hi' }, b.keys.owner);
    expect(reply.status).toBe(404);
    expect(reply.body.error.code).toBe('not_found');
  });

  test("a conversation id of another account under this account's path is not found", async () => {
    const res = await stack.http.get(conversationPath(b, conversationId), b.keys.owner);
    expect(res.status).toBe(404);
  });

  test("another account's service key cannot deliver messages here", async () => {
    const res = await stack.http.post(`/v1/accounts/${a.id}/messages`, { channel: 'wa', customer: newCustomer(), messageId: 'x1', text: 'hi' }, b.keys.service);
    expect(res.status).toBe(404);
  });

  test('a service key cannot read conversations, and a user key cannot deliver customer messages', async () => {
    expect((await stack.http.get(`/v1/accounts/${a.id}/conversations`, a.keys.service)).body.error.code).toBe('forbidden');
    const res = await stack.http.post(`/v1/accounts/${a.id}/messages`, { channel: 'wa', customer: newCustomer(), messageId: 'x2', text: 'hi' }, a.keys.agent);
    expect(res.status).toBe(403);
  });

  test('only the platform key creates accounts; owners and admins add users; agents and managers do not', async () => {
    expect((await stack.http.post('/v1/accounts', { id: 'nope-1', name: 'x' }, a.keys.owner)).status).toBe(403);
    expect((await stack.http.post(`/v1/accounts/${a.id}/users`, { id: 'u-by-admin', name: 'x', role: 'agent' }, a.keys.admin)).status).toBe(201);
    expect((await stack.http.post(`/v1/accounts/${a.id}/users`, { id: 'u-by-manager', name: 'x', role: 'agent' }, a.keys.manager)).status).toBe(403);
    expect((await stack.http.post(`/v1/accounts/${a.id}/users`, { id: 'o-by-admin', name: 'x', role: 'owner' }, a.keys.admin)).status).toBe(403);
    expect((await stack.http.patch(`/v1/accounts/${a.id}/policy`, { autoCloseAfter: '24h' }, a.keys.manager)).status).toBe(403);
  });

  test('a duplicate account or user id is 409 conflict', async () => {
    expect((await stack.http.post('/v1/accounts', { id: a.id, name: 'again' }, stack.platformKey)).body.error.code).toBe('conflict');
    expect((await stack.http.post(`/v1/accounts/${a.id}/users`, { id: a.users.agent, name: 'x', role: 'agent' }, stack.platformKey)).status).toBe(409);
  });

  test.each([
    ['a customer id with a plus sign', { channel: 'wa', customer: '+4912345', messageId: 'm', text: 'x' }, 'customer'],
    ['an empty text', { channel: 'wa', customer: '4912345', messageId: 'm', text: '' }, 'text'],
    ['a channel with a colon', { channel: 'wa:1', customer: '4912345', messageId: 'm', text: 'x' }, 'channel'],
    ['an unknown field', { channel: 'wa', customer: '4912345', messageId: 'm', text: 'x', priority: 1 }, 'priority'],
    ['a sentAt that is not ISO-8601', { channel: 'wa', customer: '4912345', messageId: 'm', text: 'x', sentAt: 'yesterday' }, 'sentAt'],
  ])('a customer message with %s is 400 validation_failed naming the field', async (_name, body, field) => {
    const res = await stack.http.post(`/v1/accounts/${a.id}/messages`, body, a.keys.service);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.message).toContain(field);
  });

  test('a body that is not JSON is 400 validation_failed', async () => {
    const res = await stack.http.request('POST', `/v1/accounts/${a.id}/messages`, { key: a.keys.service, body: '{"channel":', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });

  test('a bad action body changes nothing', async () => {
    const before = (await stack.http.get(conversationPath(a, conversationId), a.keys.agent)).body;
    expect((await stack.http.post(conversationPath(a, conversationId, '/replies'), { text: 42 }, a.keys.agent)).status).toBe(400);
    expect((await stack.http.post(conversationPath(a, conversationId, '/assign'), { assigneeId: 'ghost' }, a.keys.admin)).body.error.code).toBe('validation_failed');
    expect((await stack.http.get(conversationPath(a, conversationId), a.keys.agent)).body).toEqual(before);
  });

  test('a policy with a bad duration is 400 and the policy stays as it was', async () => {
    const before = (await stack.http.get(`/v1/accounts/${a.id}`, a.keys.owner)).body.policy;
    const res = await stack.http.patch(`/v1/accounts/${a.id}/policy`, { autoCloseAfter: '2 days' }, a.keys.owner);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('autoCloseAfter');
    expect((await stack.http.get(`/v1/accounts/${a.id}`, a.keys.owner)).body.policy).toEqual(before);
  });

  test('a listing with a forged cursor or a bad status is 400', async () => {
    expect((await stack.http.get(`/v1/accounts/${a.id}/conversations?cursor=garbage`, a.keys.agent)).status).toBe(400);
    expect((await stack.http.get(`/v1/accounts/${a.id}/conversations?status=pending`, a.keys.agent)).status).toBe(400);
  });

  test('an unknown route is 404 in the error format', async () => {
    const res = await stack.http.get('/v2/nothing', a.keys.agent);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  test('a retried action with the same Idempotency-Key acts once', async () => {
    const { conversationId: id } = await customerWrites(stack, a, { customer: newCustomer() });
    const headers = { 'idempotency-key': 'reply-1' };
    const first = await stack.http.post(conversationPath(a, id, '/replies'), { text: 'once' }, a.keys.agent, headers);
    const second = await stack.http.post(conversationPath(a, id, '/replies'), { text: 'once' }, a.keys.agent, headers);
    expect(second.status).toBe(200);
    expect(second.body.messageId).toBe(first.body.messageId);
    const messages = (await stack.http.get(conversationPath(a, id, '/messages'), a.keys.agent)).body.messages;
    expect(messages.filter((m: { direction: string }) => m.direction === 'outbound')).toHaveLength(1);
  });
});
