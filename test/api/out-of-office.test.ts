import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';

/**
 * SPEC 9's out-of-office reply through the real stack (API, worker, dev server, FerretDB): business hours
 * that are closed whatever the time of the run (today and the days around it are holidays) or open all
 * week, and an out-of-office text. The reply is recorded in the same decision, and written in the same
 * batch, as the customer message that caused it: once that message is on the timeline, a reply that is
 * not there beside it was not sent.
 */
describe('out of office', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  const text = 'We are closed now; we answer from 09:00.';
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const allWeek = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]]));
  /** Open all week in UTC, but today and the days around it are holidays: closed now, whenever now is. */
  const closedNow = { timezone: 'UTC', weekly: allWeek, holidays: [day(-1), day(0), day(1)] };
  const openNow = { timezone: 'UTC', weekly: allWeek };

  type Message = { direction: string; text: string | null; authorId: string | null; author: { kind: string; id: string | null }; delivery: { status: string } | null };
  const timeline = async (account: Account, conversationId: string): Promise<Message[]> =>
    (await stack.http.get(conversationPath(account, conversationId, '/messages?limit=500'), account.keys.agent)).body.messages;
  const outbound = async (account: Account, conversationId: string) => (await timeline(account, conversationId)).filter((m) => m.direction === 'outbound');
  const policy = async (account: Account, patch: object) => {
    const res = await stack.http.patch(`/v1/accounts/${account.id}/policy`, patch, account.keys.admin);
    expect(res.status).toBe(200);
    return res.body.policy;
  };

  test('a customer message while closed gets exactly one system reply, delivered through the channel; a second within the cooldown gets none', async () => {
    const account = await createAccount(stack);
    const read = await policy(account, { businessHours: closedNow, outOfOffice: { text } });
    expect(read.outOfOffice).toEqual({ text, cooldown: '12h' });
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });

    const replies = await outbound(account, conversationId);
    expect(replies).toEqual([expect.objectContaining({ text, authorId: null, author: { kind: 'system', id: null } })]);
    // Delivered like any business message: the channel (the recording provider here) got it.
    await eventually(async () => ((await outbound(account, conversationId))[0]?.delivery?.status === 'sent' ? true : undefined));
    const sent = await stack.db.collection('outbound').find({ conversationId }).toArray();
    expect(sent.map((d) => d.text)).toEqual([text]);
    // A system message answers nobody: the customer's message is still unread.
    const view = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
    expect(view).toMatchObject({ status: 'open', unreadCount: 1 });
    expect(view.lastMessage).toMatchObject({ direction: 'outbound', text });

    await customerWrites(stack, account, { customer, text: 'anyone?' });
    expect((await timeline(account, conversationId)).map((m) => m.direction)).toEqual(['inbound', 'outbound', 'inbound']);
    expect((await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body.unreadCount).toBe(2);
  });

  test('in business hours, none', async () => {
    const account = await createAccount(stack);
    await policy(account, { businessHours: openNow, outOfOffice: { text } });
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    expect(await outbound(account, conversationId)).toEqual([]);
  });

  test('while in_flow, none; the same message outside a flow gets one', async () => {
    const account = await createAccount(stack);
    await policy(account, { flows: true, outOfOffice: { text } });
    const customer = newCustomer();
    // No business hours yet: always open, so the first message gets no reply.
    const { conversationId } = await customerWrites(stack, account, { customer });
    const started = await stack.http.post(conversationPath(account, conversationId, '/flow'), { action: 'start' }, account.keys.service);
    expect(started.status).toBe(200);
    await policy(account, { businessHours: closedNow });
    // The message is stamped with the new policy's version: the conversation loads it before deciding.
    await customerWrites(stack, account, { customer, text: 'option 2' });
    expect(await outbound(account, conversationId)).toEqual([]);

    const ended = await stack.http.post(conversationPath(account, conversationId, '/flow'), { action: 'end', assignTo: { team: 'support' } }, account.keys.service);
    expect(ended.status).toBe(200);
    await customerWrites(stack, account, { customer, text: 'hello?' });
    expect((await outbound(account, conversationId)).map((m) => m.text)).toEqual([text]);
  });

  test('PATCH /policy refuses an out-of-office reply without a text, naming the field (400, nothing changed)', async () => {
    const account = await createAccount(stack);
    const bad = await stack.http.patch(`/v1/accounts/${account.id}/policy`, { outOfOffice: { cooldown: '1h' } }, account.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed' });
    expect(bad.body.error.message).toContain('outOfOffice.text');
    expect((await stack.http.get(`/v1/accounts/${account.id}`, account.keys.admin)).body.policy.outOfOffice).toBeNull();
  });
});
