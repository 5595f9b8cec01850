import type { Stack } from '../support/stack';
import { eventually } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';

/** SPEC section 2, row by row, through HTTP against the real dev server and FerretDB. */
describe('conversation lifecycle through the API', () => {
  let stack: Stack;
  let account: Account;
  const env = useStackWithAccount();
  beforeAll(() => ({ stack, account } = env));

  const view = async (id: string, key = account.keys.agent) => (await stack.http.get(conversationPath(account, id), key)).body;
  const act = (id: string, action: string, body: unknown, key: string) => stack.http.post(conversationPath(account, id, `/${action}`), body, key);

  test('a first customer message opens episode 1, unassigned, with one unread', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const v = await view(conversationId);
    expect(v).toMatchObject({ status: 'open', assigneeId: null, episode: 1, unreadCount: 1, accountId: account.id, channel: 'wa-main' });
    expect(v.windowExpiresAt).not.toBeNull();
    expect(v.autoCloseAt).toBeNull();
  });

  test('another customer message on open keeps it open and counts unread', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    await customerWrites(stack, account, { customer });
    expect(await view(conversationId)).toMatchObject({ status: 'open', unreadCount: 2, episode: 1 });
  });

  test('an agent reply from open assigns the conversation to that agent and clears unread', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const res = await act(conversationId, 'replies', { text: 'Hi, how can I help?' }, account.keys.agent);
    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.agent, unreadCount: 0 });
    // The answer comes after the views are written: a read right after sees the reply.
    const msgs = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages;
    expect(msgs.map((m: { direction: string }) => m.direction)).toEqual(['inbound', 'outbound']);
    expect((await view(conversationId)).autoCloseAt).not.toBeNull();
  });

  test('another agent cannot reply to an assigned conversation: 403 not_assignee, nothing changes', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    await act(conversationId, 'replies', { text: 'mine' }, account.keys.agent);
    // The reply's delivery moves on by itself after the answer (queued, then sent): let it settle first.
    await eventually(async () => {
      const msgs = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages;
      return msgs.at(-1)?.delivery?.status === 'sent' ? true : undefined;
    });
    const before = await view(conversationId);
    const res = await act(conversationId, 'replies', { text: 'let me' }, account.keys.agent2);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('not_assignee');
    expect(await view(conversationId)).toEqual(before);
  });

  test('a supervisor takes over, and the previous assignee can no longer reply', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    await act(conversationId, 'replies', { text: 'mine' }, account.keys.agent);
    const res = await act(conversationId, 'take-over', {}, account.keys.manager);
    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.manager });
    expect((await act(conversationId, 'replies', { text: 'still me?' }, account.keys.agent)).body.error.code).toBe('not_assignee');
  });

  test('resolving closes with reason resolved; a free-form reply then gets 409 conversation_closed; a template is recorded and it stays closed', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    await act(conversationId, 'replies', { text: 'mine' }, account.keys.agent);
    const resolved = await act(conversationId, 'resolve', {}, account.keys.agent);
    expect(resolved.body.conversation).toMatchObject({ status: 'closed', closedReason: 'resolved', assigneeId: null });
    const reply = await act(conversationId, 'replies', { text: 'one more thing' }, account.keys.agent);
    expect(reply.status).toBe(409);
    expect(reply.body.error.code).toBe('conversation_closed');
    const template = await act(conversationId, 'templates', { name: 'follow_up', language: 'en' }, account.keys.agent2);
    expect(template.status).toBe(200);
    expect(template.body.conversation.status).toBe('closed');
  });

  test('a customer message on a closed conversation opens episode 2 with the assignee cleared', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    await act(conversationId, 'replies', { text: 'mine' }, account.keys.agent);
    await act(conversationId, 'resolve', {}, account.keys.agent);
    await customerWrites(stack, account, { customer, text: 'back again' });
    expect(await view(conversationId)).toMatchObject({ status: 'open', episode: 2, assigneeId: null, closedReason: null, unreadCount: 1 });
    const events = (await stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.agent)).body.events;
    expect(events.map((e: { from: string | null; to: string; reason: string }) => [e.from, e.to, e.reason])).toEqual([
      [null, 'open', 'first_customer_message'],
      ['open', 'assigned', 'reply'],
      ['assigned', 'closed', 'resolved'],
      ['closed', 'open', 'customer_message'],
    ]);
  });

  test('a repeated provider message id is recorded once', async () => {
    const customer = newCustomer();
    const { conversationId, messageId } = await customerWrites(stack, account, { customer });
    await stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'wa-main', customer, messageId, text: 'hello' }, account.keys.service);
    await customerWrites(stack, account, { customer, text: 'later' });
    const msgs = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages;
    expect(msgs).toHaveLength(2);
    expect((await view(conversationId)).unreadCount).toBe(2);
  });

  test('the timeline pages forwards with after, and backwards from the newest with before', async () => {
    const customer = newCustomer();
    let conversationId = '';
    for (let i = 1; i <= 7; i++) ({ conversationId } = await customerWrites(stack, account, { customer, text: `m${i}` }));
    const page = async (query: string, name = 'messages') => {
      const res = await stack.http.get(conversationPath(account, conversationId, `/${name}?${query}`), account.keys.agent);
      expect(res.status).toBe(200);
      return res.body[name] as { seq: number; text?: string }[];
    };
    const all = await eventually(async () => {
      const messages = await page('limit=100');
      return messages.length === 7 ? messages : undefined;
    });
    const texts = (messages: { text?: string }[]) => messages.map((m) => m.text);
    expect(texts(all)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const newest = await page('before=end&limit=3');
    expect(texts(newest)).toEqual(['m5', 'm6', 'm7']);
    const earlier = await page(`before=${newest[0]!.seq}&limit=3`);
    expect(texts(earlier)).toEqual(['m2', 'm3', 'm4']);
    expect(texts(await page(`before=${earlier[0]!.seq}&limit=3`))).toEqual(['m1']);
    expect(texts(await page(`after=${all[1]!.seq}&limit=2`))).toEqual(['m3', 'm4']);
    const events = await page('limit=100', 'events');
    expect((await page('before=end&limit=1', 'events')).map((e) => e.seq)).toEqual([events.at(-1)!.seq]);

    for (const [query, path] of [
      ['after=1&before=5', 'before'],
      ['before=0', 'before'],
      ['before=newest', 'before'],
    ]) {
      const res = await stack.http.get(conversationPath(account, conversationId, `/messages?${query}`), account.keys.agent);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain(path);
    }
  });

  test('the listing shows the newest activity first and filters by status and assignee=me', async () => {
    const a = await customerWrites(stack, account, { customer: newCustomer() });
    const b = await customerWrites(stack, account, { customer: newCustomer() });
    await act(a.conversationId, 'replies', { text: 'mine' }, account.keys.agent2);
    const mine = await eventually(async () => {
      const res = await stack.http.get(`/v1/accounts/${account.id}/conversations?assignee=me`, account.keys.agent2);
      return res.body.conversations.length > 0 ? res.body.conversations : undefined;
    });
    expect(mine.map((c: { id: string }) => c.id)).toContain(a.conversationId);
    const open = (await stack.http.get(`/v1/accounts/${account.id}/conversations?status=open`, account.keys.agent)).body.conversations;
    expect(open.map((c: { id: string }) => c.id)).toContain(b.conversationId);
    expect(open.map((c: { id: string }) => c.id)).not.toContain(a.conversationId);
  });
});
