import type { Stack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';

/**
 * Seed 003's permission table as executable rows: the assigned agent, other team members and an admin,
 * on a conversation assigned to `agent`. Where seed 003 and SPEC section 2 differ (an admin changing
 * the status of a chat not assigned to them), SPEC wins: supervisors may resolve (see DESIGN.md).
 */
describe("seed 003's permission table", () => {
  let stack: Stack;
  let account: Account;
  const env = useStackWithAccount();
  beforeAll(() => ({ stack, account } = env));

  async function assignedToAgent(): Promise<string> {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'I have it' }, account.keys.agent);
    return conversationId;
  }

  test.each([
    ['the assigned agent', 'agent', 200],
    ['another team member', 'agent2', 200],
    ['an admin', 'admin', 200],
  ] as const)('view chats: %s can read the conversation and its timeline', async (_who, key, status) => {
    const id = await assignedToAgent();
    expect((await stack.http.get(conversationPath(account, id), account.keys[key])).status).toBe(status);
    expect((await stack.http.get(conversationPath(account, id, '/messages'), account.keys[key])).status).toBe(status);
    const list = (await stack.http.get(`/v1/accounts/${account.id}/conversations?status=assigned&limit=100`, account.keys[key])).body.conversations;
    expect(list.map((c: { id: string }) => c.id)).toContain(id);
  });

  test.each([
    ['the assigned agent', 'agent', 200, undefined],
    ['another team member (view only)', 'agent2', 403, 'not_assignee'],
    ['an admin, unless assigned to self', 'admin', 403, 'not_assignee'],
  ] as const)('reply to customer: %s', async (_who, key, status, code) => {
    const id = await assignedToAgent();
    const res = await stack.http.post(conversationPath(account, id, '/replies'), { text: 'hello' }, account.keys[key]);
    expect(res.status).toBe(status);
    if (code) expect(res.body.error.code).toBe(code);
  });

  test('reply to customer: an admin who assigned the chat to self can reply', async () => {
    const id = await assignedToAgent();
    expect((await stack.http.post(conversationPath(account, id, '/take-over'), {}, account.keys.admin)).status).toBe(200);
    expect((await stack.http.post(conversationPath(account, id, '/replies'), { text: 'admin here' }, account.keys.admin)).status).toBe(200);
  });

  test.each([
    ['the assigned agent', 'agent', 200],
    ['another team member', 'agent2', 403],
    ['an admin (SPEC section 2: supervisors resolve)', 'admin', 200],
  ] as const)('change chat status (resolve): %s', async (_who, key, status) => {
    const id = await assignedToAgent();
    expect((await stack.http.post(conversationPath(account, id, '/resolve'), {}, account.keys[key])).status).toBe(status);
  });

  test.each([
    ['the assigned agent, to another team member', 'agent', 200],
    ['another team member', 'agent2', 403],
    ['an admin, any chat', 'admin', 200],
  ] as const)('reassign: %s', async (_who, key, status) => {
    const id = await assignedToAgent();
    const res = await stack.http.post(conversationPath(account, id, '/assign'), { assigneeId: account.users.manager }, account.keys[key]);
    expect(res.status).toBe(status);
    if (status === 200) expect(res.body.conversation.assigneeId).toBe(account.users.manager);
  });
});
