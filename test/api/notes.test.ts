import type { Stack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationApi, conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import { SseClient } from '../support/sse-client';

/**
 * SPEC 10's notes and mentions through the real stack (API, worker, dev server, FerretDB): `POST .../notes`
 * by any user in any status, the note on the timeline and the stream, a conversation that does not move,
 * mentions checked against the account's active users, the `mention` event to the mentioned user only,
 * and `GET .../mentions`, newest first, paginated.
 */
describe('notes and mentions', () => {
  const env = useStackWithAccount({ serviceWindow: '24h' });
  const { view, act, events } = conversationApi(env);
  let stack: Stack;
  let account: Account;
  beforeAll(() => ({ stack, account } = env));
  const clients: SseClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  const note = (id: string, key: string, body: unknown) => act(account, id, 'notes', key, body);
  const timeline = async (id: string) => (await stack.http.get(conversationPath(account, id, '/messages?limit=500'), account.keys.owner)).body.messages as Record<string, unknown>[];
  const mentionsOf = (key: string, query = '') => stack.http.get(`/v1/accounts/${account.id}/mentions${query}`, key);
  /** A view without what a note may move: its version and `updatedAt`. */
  const still = (v: Record<string, unknown>) => {
    const { version: _version, updatedAt: _updatedAt, ...rest } = v;
    return rest;
  };
  async function openStream(key: string): Promise<SseClient> {
    const client = await SseClient.open(`${stack.baseUrl}/v1/accounts/${account.id}/stream`, { authorization: `Bearer ${key}` });
    clients.push(client);
    await client.next((e) => e.type === 'ready');
    return client;
  }

  test('any user notes an open conversation: 201, an internal timeline entry by its author, and nothing else moves', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer(), text: 'where is my order?' });
    const before = await view(account, conversationId);
    const eventsBefore = await events(account, conversationId);
    const res = await note(conversationId, account.keys.agent, { text: 'VIP, answer first', mentions: [account.users.agent2, account.users.manager, account.users.agent2] });
    expect(res.status).toBe(201);
    expect(res.body.messageId).toMatch(/^note-\d+$/);
    expect(res.body.conversation.version).toBe(before.version + 1);
    const after = await view(account, conversationId);
    expect(still(after)).toEqual(still(before));
    expect(after).toMatchObject({ status: 'open', assigneeId: null, unreadCount: 1, lastMessage: before.lastMessage });
    expect(await events(account, conversationId)).toEqual(eventsBefore);
    expect((await timeline(conversationId)).at(-1)).toMatchObject({
      messageId: res.body.messageId,
      direction: 'internal',
      kind: 'note',
      text: 'VIP, answer first',
      author: { kind: 'user', id: account.users.agent },
      authorId: account.users.agent,
      delivery: null,
      mentions: [account.users.agent2, account.users.manager],
    });
  });

  test('a note on a closed conversation by someone who never held it is recorded and leaves it closed', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    expect((await act(account, conversationId, 'assign', account.keys.agent, { assigneeId: account.users.agent })).status).toBe(200);
    expect((await act(account, conversationId, 'resolve', account.keys.agent)).status).toBe(200);
    const res = await note(conversationId, account.keys.agent2, { text: 'customer called back by phone' });
    expect(res.status).toBe(201);
    expect(res.body.conversation).toMatchObject({ status: 'closed', closedReason: 'resolved', assigneeId: null });
    expect((await timeline(conversationId)).at(-1)).toMatchObject({ kind: 'note', direction: 'internal', mentions: [] });
  });

  test('mentions must be active users of the account: 400 naming mentions[i], and nothing is recorded', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const gone = await stack.http.post(`/v1/accounts/${account.id}/users`, { id: 'gone-1', name: 'Gone', role: 'agent' }, stack.platformKey);
    expect(gone.status).toBe(201);
    expect((await stack.http.patch(`/v1/accounts/${account.id}/users/gone-1`, { active: false }, stack.platformKey)).status).toBe(200);
    const length = (await timeline(conversationId)).length;

    const unknown = await note(conversationId, account.keys.agent, { text: 'hi', mentions: [account.users.agent2, 'nobody-1'] });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'validation_failed']);
    expect(unknown.body.error.message).toMatch(/^mentions\[1\]: nobody-1 /);
    const inactive = await note(conversationId, account.keys.agent, { text: 'hi', mentions: ['gone-1'] });
    expect([inactive.status, inactive.body.error.message]).toEqual([400, expect.stringMatching(/^mentions\[0\]: gone-1 /)]);
    const badId = await note(conversationId, account.keys.agent, { text: 'hi', mentions: ['not an id'] });
    expect([badId.status, badId.body.error.message]).toEqual([400, expect.stringMatching(/^mentions\.0:/)]);
    const blank = await note(conversationId, account.keys.agent, { text: '  ' });
    expect([blank.status, blank.body.error.message]).toEqual([400, expect.stringMatching(/^text:/)]);
    const long = await note(conversationId, account.keys.agent, { text: 'x'.repeat(4097) });
    expect([long.status, long.body.error.message]).toEqual([400, expect.stringMatching(/^text:/)]);
    expect((await timeline(conversationId)).length).toBe(length);
  });

  test('a service key may not write notes nor read mentions: 403', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    expect((await note(conversationId, account.keys.service, { text: 'automated?' })).status).toBe(403);
    expect((await mentionsOf(account.keys.service)).status).toBe(403);
  });

  test('the mentioned user gets a mention event; everyone gets the note; nobody else gets the mention', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const mentioned = await openStream(account.keys.agent2);
    const author = await openStream(account.keys.agent);
    const res = await note(conversationId, account.keys.agent, { text: '@agent2 can you take this?', mentions: [account.users.agent2] });
    expect(res.status).toBe(201);
    const mention = await mentioned.next((e) => e.type === 'mention');
    expect(mention.data).toEqual({ conversationId, messageId: res.body.messageId, by: account.users.agent, text: '@agent2 can you take this?' });
    expect(mention.id).toMatch(/^\d+\.\d+$/);
    const seen = await author.next((e) => e.type === 'message' && e.data.messageId === res.body.messageId);
    expect(seen.data).toMatchObject({ direction: 'internal', kind: 'note', mentions: [account.users.agent2] });
    // A probe after it: once the author's stream shows the probe, it has shown everything before it.
    const probe = await note(conversationId, account.keys.manager, { text: 'probe' });
    await author.next((e) => e.type === 'message' && e.data.messageId === probe.body.messageId);
    expect(author.events.filter((e) => e.type === 'mention')).toEqual([]);
  });

  test("GET .../mentions lists the caller's mentions, newest first, a page at a time; others see none of them", async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const sent: string[] = [];
    for (const text of ['first', 'second', 'third']) {
      const res = await note(conversationId, account.keys.manager, { text, mentions: [account.users.admin] });
      expect(res.status).toBe(201);
      sent.push(res.body.messageId);
    }
    const first = await mentionsOf(account.keys.admin, '?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toEqual([
      { conversationId, messageId: sent[2], by: account.users.manager, at: expect.any(String), text: 'third' },
      { conversationId, messageId: sent[1], by: account.users.manager, at: expect.any(String), text: 'second' },
    ]);
    expect(Date.parse(first.body.items[0].at)).toBeGreaterThanOrEqual(Date.parse(first.body.items[1].at));
    expect(typeof first.body.nextCursor).toBe('string');
    const second = await mentionsOf(account.keys.admin, `?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toEqual({ items: [expect.objectContaining({ messageId: sent[0], text: 'first' })], nextCursor: null });

    const others = await mentionsOf(account.keys.owner);
    expect(others.body.items.map((m: { messageId: string; conversationId: string }) => m.conversationId)).not.toContain(conversationId);
    // A cursor is the caller's own: another user's is refused rather than read.
    const foreign = await mentionsOf(account.keys.owner, `?cursor=${first.body.nextCursor}`);
    expect([foreign.status, foreign.body.error.code]).toEqual([400, 'validation_failed']);
  });
});
