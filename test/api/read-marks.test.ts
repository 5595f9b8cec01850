import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { MongoClient } from 'mongodb';
import { createApp } from '../../api/app';
import { readMarkCollections, readMarkId } from '../../store/read-marks';
import type { Stack } from '../support/stack';
import { quietLog } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import { SseClient } from '../support/sse-client';
import { testServers } from '../support/test-servers';

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

  const act = (conversationId: string, action: string, body: object, key: string) => stack.http.post(conversationPath(account, conversationId, `/${action}`), body, key);

  test('unreadForMe stays right across a reply: a reply clears unreadCount, not what the reader has not read', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer, text: 'one' });
    expect((await act(conversationId, 'assign', { assigneeId: account.users.agent }, account.keys.manager)).status).toBe(200);
    expect((await read(conversationId, account.keys.agent)).body.readUpToSeq).toBe(1);
    expect((await act(conversationId, 'replies', { text: 'hello' }, account.keys.agent)).status).toBe(200);
    await customerWrites(stack, account, { customer, text: 'two' });
    await customerWrites(stack, account, { customer, text: 'three' });
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 2, unreadCount: 2, inboundCount: 3 });
    // Reading up to the reply (outbound) takes the count at the reply: the two messages after it stay unread.
    const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as { messageId: string; direction: string }[];
    const replyId = messages.find((m) => m.direction === 'outbound')!.messageId;
    expect((await read(conversationId, account.keys.agent, { upTo: replyId })).body.readUpToSeq).toBe(2);
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 2, unreadForMe: 2 });
    // A supervisor who never read it: every customer message.
    expect(await view(conversationId, account.keys.manager)).toMatchObject({ readUpToSeq: null, unreadForMe: 3 });
  });

  test("unreadForMe stays right across a reassignment: each user's own mark", async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer, text: 'one' });
    expect((await act(conversationId, 'assign', { assigneeId: account.users.agent }, account.keys.manager)).status).toBe(200);
    expect((await read(conversationId, account.keys.agent)).status).toBe(200);
    expect((await act(conversationId, 'assign', { assigneeId: account.users.agent2 }, account.keys.manager)).status).toBe(200);
    await customerWrites(stack, account, { customer, text: 'two' });
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 1 });
    expect(await view(conversationId, account.keys.agent2)).toMatchObject({ readUpToSeq: null, unreadForMe: 2 });
    expect((await read(conversationId, account.keys.agent2)).status).toBe(200);
    expect(await view(conversationId, account.keys.agent2)).toMatchObject({ readUpToSeq: 2, unreadForMe: 0 });
  });

  test('unreadForMe stays right across a close and the reopen after it (the counter spans episodes)', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer, text: 'one' });
    expect((await act(conversationId, 'assign', { assigneeId: account.users.agent }, account.keys.manager)).status).toBe(200);
    expect((await read(conversationId, account.keys.agent)).status).toBe(200);
    expect((await act(conversationId, 'resolve', {}, account.keys.agent)).status).toBe(200);
    await customerWrites(stack, account, { customer, text: 'back again' });
    await customerWrites(stack, account, { customer, text: 'hello?' });
    expect(await view(conversationId)).toMatchObject({ episode: 2, status: 'open', readUpToSeq: 1, unreadForMe: 2 });
    expect(await view(conversationId, account.keys.manager)).toMatchObject({ readUpToSeq: null, unreadForMe: 3 });
  });

  test('a mark or a view from before the counter is counted as before, and reading again gives the mark its count', async () => {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer, text: 'one' });
    expect((await act(conversationId, 'assign', { assigneeId: account.users.agent }, account.keys.manager)).status).toBe(200);
    expect((await read(conversationId, account.keys.agent)).status).toBe(200);
    await customerWrites(stack, account, { customer, text: 'two' });
    // What older code wrote: a mark without the count (the copy; no revision beyond it)...
    const marks = readMarkCollections(stack.db);
    await marks.marks.updateOne({ _id: readMarkId(conversationId, account.users.agent) }, { $unset: { inboundCountAtRead: '' } });
    await marks.revisions.updateOne({ _id: `${readMarkId(conversationId, account.users.agent)}/1` }, { $unset: { inboundCountAtRead: '' } });
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 1 });
    // ... and a view without the counter.
    await stack.db.collection('conversations').updateOne({ _id: conversationId as never }, { $unset: { inboundCount: '', inboundCountFromStart: '' } });
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 1 });
    expect(await view(conversationId, account.keys.manager)).toMatchObject({ readUpToSeq: null, unreadForMe: 2 });
    // The next view write brings the counter back; reading again (even to where the mark is) gives the mark its count.
    await customerWrites(stack, account, { customer, text: 'three' });
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 2, inboundCount: 3 });
    const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages as { messageId: string }[];
    expect((await read(conversationId, account.keys.agent, { upTo: messages[0]!.messageId })).body.readUpToSeq).toBe(1);
    expect(await marks.marks.findOne({ _id: readMarkId(conversationId, account.users.agent) })).toMatchObject({ readUpToSeq: 1, inboundCountAtRead: 1 });
    expect(await view(conversationId)).toMatchObject({ readUpToSeq: 1, unreadForMe: 2 });
  });

  test('a list page for a user sends no query to the messages collection, and reads marks by _id only', async () => {
    // A second API process on its own client, whose every command is seen (the MongoDB driver's command monitoring).
    const mongo = await MongoClient.connect(testServers().mongoUri, { monitorCommands: true });
    const { app, deps } = createApp({ db: mongo.db(stack.db.databaseName), temporal: stack.client, taskQueue: stack.taskQueue, platformApiKey: stack.platformKey, log: quietLog });
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const commands: CommandStartedEvent[] = [];
    mongo.on('commandStarted', (e) => commands.push(e));
    try {
      // A channel of its own, so the page holds exactly these: some read, some not, one read then written to.
      const channel = `wa-unread-${randomUUID().slice(0, 8)}`;
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const customer = newCustomer();
        const { conversationId } = await customerWrites(stack, account, { customer, channel, text: 'one' });
        ids.push(conversationId);
        if (i % 2 === 0) expect((await read(conversationId, account.keys.manager)).status).toBe(200);
        if (i === 0) await customerWrites(stack, account, { customer, channel, text: 'two' });
      }
      const listPage = async () => {
        commands.length = 0;
        const res = await fetch(`${base}/v1/accounts/${account.id}/conversations?channel=${channel}`, { headers: { authorization: `Bearer ${account.keys.manager}` } });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { conversations: { id: string; unreadForMe: number; readUpToSeq: number | null }[] };
        return { byId: new Map(body.conversations.map((c) => [c.id, c])), seen: commands.map((e) => ({ name: e.commandName, collection: e.command[e.commandName] as unknown, filter: e.command.filter as unknown })) };
      };
      const { byId, seen } = await listPage();
      expect(ids.map((id) => [byId.get(id)?.readUpToSeq, byId.get(id)?.unreadForMe])).toEqual([
        [1, 1],
        [null, 1],
        [1, 0],
        [null, 1],
      ]);
      // The monitor saw the request (the page and its marks), and none of it went to messages.
      expect(seen.some((c) => c.collection === 'conversations')).toBe(true);
      expect(seen.some((c) => c.collection === 'read_marks')).toBe(true);
      expect(seen.filter((c) => c.collection === 'messages')).toEqual([]);
      expect(seen.filter((c) => c.name === 'count' || c.name === 'aggregate')).toEqual([]);
      // The page's marks are two reads, each an `_id` `$in` of strings (a filter our FerretDB answers from
      // its _id index): every copy, then every copy's next revision.
      const markReads = seen.filter((c) => c.collection === 'read_marks' || c.collection === 'read_mark_revisions');
      expect(markReads.map((c) => c.collection)).toEqual(['read_marks', 'read_mark_revisions']);
      for (const c of markReads) {
        expect(Object.keys(c.filter as object)).toEqual(['_id']);
        const values = (c.filter as { _id: { $in: unknown[] } })._id.$in;
        expect(values).toHaveLength(ids.length);
        for (const v of values) expect(typeof v).toBe('string');
      }
      // The probe that the monitor would catch a count: a view from before the counter is counted as before.
      await stack.db.collection('conversations').updateOne({ _id: ids[1] as never }, { $unset: { inboundCount: '' } });
      const old = await listPage();
      expect(old.byId.get(ids[1]!)?.unreadForMe).toBe(1);
      expect(old.seen.filter((c) => c.collection === 'messages').map((c) => c.name)).toEqual(['aggregate']);
    } finally {
      deps.streams.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mongo.close();
    }
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
