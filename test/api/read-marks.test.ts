import type { Stack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import { SseClient } from '../support/sse-client';

/** Issue 22, item 5: unread clears by reading, per user, not only by replying. */
describe('read marks', () => {
  let stack: Stack;
  let account: Account;
  const env = useStackWithAccount();
  beforeAll(() => ({ stack, account } = env));
  const clients: SseClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  /** A conversation the agent holds: the customer wrote (seq 1), the agent replied (seq 2). */
  async function heldByAgent(): Promise<{ conversationId: string; firstMessageId: string }> {
    const customer = newCustomer();
    const { conversationId, messageId } = await customerWrites(stack, account, { customer, text: 'hi' });
    const reply = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'hello' }, account.keys.agent);
    expect(reply.status).toBe(200);
    return { conversationId, firstMessageId: messageId };
  }
  const view = async (conversationId: string, key = account.keys.agent) => (await stack.http.get(conversationPath(account, conversationId), key)).body;
  const read = (conversationId: string, key: string, body: object = {}) => stack.http.post(conversationPath(account, conversationId, '/read'), body, key);

  test('an agent who is not the assignee gets 403 not_assignee, and an unknown conversation 404', async () => {
    const { conversationId } = await heldByAgent();
    const other = await read(conversationId, account.keys.agent2);
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('not_assignee');
    const unknown = await read(`conv:${account.id}:wa-main:nobody-${newCustomer()}`, account.keys.agent);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect((await read(conversationId, account.keys.service)).status).toBe(403);
  });

  test('unreadForMe drops to 0 after reading and rises with the next customer message; the customer-facing unreadCount is left alone', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer, text: 'one' });
    expect((await stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.manager)).status).toBe(200);
    const before = await view(conversationId);
    expect(before).toMatchObject({ readUpToSeq: null, unreadForMe: 1 });

    const marked = await read(conversationId, account.keys.agent);
    expect(marked.status).toBe(200);
    expect(marked.body).toEqual({ conversationId, userId: account.users.agent, readUpToSeq: 1, readAt: expect.any(String) });
    const after = await view(conversationId);
    expect(after).toMatchObject({ readUpToSeq: 1, unreadForMe: 0, unreadCount: before.unreadCount });

    await customerWrites(stack, account, { customer, text: 'two' });
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 1 });
    // The list carries the same fields for the caller, and a mark is the caller's own.
    const list = await stack.http.get(`/v1/accounts/${account.id}/conversations?assignee=me`, account.keys.agent);
    expect(list.body.conversations.find((c: { id: string }) => c.id === conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 1 });
    expect(await view(conversationId, account.keys.manager)).toMatchObject({ readUpToSeq: null, unreadForMe: 2 });
    // A service key has no mark: the fields are not there.
    expect(await view(conversationId, account.keys.service)).not.toHaveProperty('unreadForMe');
  });

  test('a mark never moves backwards: an older upTo answers the mark as it is', async () => {
    const { conversationId, firstMessageId } = await heldByAgent();
    expect((await read(conversationId, account.keys.agent)).body.readUpToSeq).toBe(2);
    const older = await read(conversationId, account.keys.agent, { upTo: firstMessageId });
    expect(older.status).toBe(200);
    expect(older.body.readUpToSeq).toBe(2);
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 2, unreadForMe: 0 });
    expect((await read(conversationId, account.keys.agent, { upTo: 'wamid.unknown' })).status).toBe(400);
  });

  test('concurrent marks from several tabs end at the furthest one', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer, text: 'a' });
    expect((await stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.manager)).status).toBe(200);
    const ids: string[] = [];
    for (const text of ['b', 'c', 'd']) ids.push((await customerWrites(stack, account, { customer, text })).messageId);
    const answers = await Promise.all([...ids, ...ids].map((upTo) => read(conversationId, account.keys.agent, { upTo })));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 4, unreadForMe: 0 });
  });

  test("a mark that moves goes on the account's stream as a read event", async () => {
    const { conversationId } = await heldByAgent();
    const tab = await SseClient.open(`${stack.baseUrl}/v1/accounts/${account.id}/stream`, { authorization: `Bearer ${account.keys.agent}` });
    clients.push(tab);
    await tab.next((e) => e.type === 'ready');
    expect((await read(conversationId, account.keys.agent)).status).toBe(200);
    const event = await tab.next((e) => e.type === 'read');
    expect(event.data).toEqual({ conversationId, userId: account.users.agent, readUpToSeq: 2 });
    expect(event.id).toMatch(/^\d+\.0$/);
  });
});
