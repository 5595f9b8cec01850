import { randomUUID } from 'node:crypto';
import type { Stack } from '../support/stack';
import { eventually } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationApi, createAccount, customerWrites, newCustomer, routerQueues, useStackWithAccount } from '../support/scenario';

/**
 * SPEC 9's snooze through the real stack (API, worker, dev server, FerretDB): `POST .../snooze` with a
 * duration, an ISO time or "window"; the view's status and `snoozedUntil`; the wakes (timer, customer
 * message, unsnooze) seen as events; the refusals; the list filter; capacity while snoozed; and a
 * deactivated assignee. Short snoozes wake on the wall clock: tests wait for the `snooze_ended` event.
 */
describe('snooze', () => {
  const env = useStackWithAccount({ serviceWindow: '24h', autoCloseAfter: '1h' });
  const { view, act, events } = conversationApi(env);
  let stack: Stack;
  let account: Account;
  beforeAll(() => ({ stack, account } = env));

  /** A conversation the account's agent has claimed. */
  async function claimed(on: Account = account): Promise<string> {
    const { conversationId } = await customerWrites(stack, on, { customer: newCustomer() });
    expect((await act(on, conversationId, 'assign', on.keys.agent, { assigneeId: on.users.agent })).status).toBe(200);
    return conversationId;
  }
  const reasons = async (on: Account, id: string): Promise<string[]> => (await events(on, id)).map((e: { reason: string }) => e.reason);

  test('the assignee snoozes for a duration: snoozed, same assignee, no capacity held, listed under status=snoozed', async () => {
    const id = await claimed();
    const before = Date.now();
    const res = await act(account, id, 'snooze', account.keys.agent, { until: '2h' });
    expect(res.status).toBe(200);
    expect(res.body.conversation).toMatchObject({ status: 'snoozed', assigneeId: account.users.agent, heldBy: null, autoCloseAt: null });
    const until = Date.parse(res.body.conversation.snoozedUntil);
    expect(until).toBeGreaterThanOrEqual(before + 2 * 3_600_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 2 * 3_600_000);
    expect(await view(account, id)).toMatchObject({ status: 'snoozed', snoozedUntil: res.body.conversation.snoozedUntil });
    expect((await events(account, id)).at(-1)).toMatchObject({ from: 'assigned', to: 'snoozed', reason: 'snoozed', type: 'transition' });

    const snoozedList = await stack.http.get(`/v1/accounts/${account.id}/conversations?status=snoozed`, account.keys.agent);
    expect(snoozedList.status).toBe(200);
    expect(snoozedList.body.conversations.map((c: { id: string }) => c.id)).toContain(id);
    const assignedList = await stack.http.get(`/v1/accounts/${account.id}/conversations?status=assigned`, account.keys.agent);
    expect(assignedList.body.conversations.map((c: { id: string }) => c.id)).not.toContain(id);
  });

  test('an ISO time is that moment; "window" is snoozeWakeBeforeWindow before the window closes', async () => {
    const id = await claimed();
    const at = new Date(Date.now() + 3 * 3_600_000).toISOString();
    expect((await act(account, id, 'snooze', account.keys.agent, { until: at })).body.conversation.snoozedUntil).toBe(at);
    const windowed = await act(account, id, 'snooze', account.keys.agent, { until: 'window' });
    expect(windowed.status).toBe(200);
    const conv = windowed.body.conversation;
    expect(Date.parse(conv.windowExpiresAt) - Date.parse(conv.snoozedUntil)).toBe(3_600_000);
  });

  test('it wakes at `until` (reason snooze_ended) back to its assignee, and the inactivity clock starts again from the wake', async () => {
    const id = await claimed();
    expect((await act(account, id, 'snooze', account.keys.agent, { until: '2s' })).status).toBe(200);
    const woke = await eventually(async () => (await events(account, id)).find((e: { reason: string }) => e.reason === 'snooze_ended'), { timeoutMs: 30_000 });
    expect(woke).toMatchObject({ from: 'snoozed', to: 'assigned', actor: { kind: 'system' } });
    const after = await eventually(async () => {
      const v = await view(account, id);
      return v.status === 'assigned' ? v : undefined;
    });
    expect(after).toMatchObject({ assigneeId: account.users.agent, snoozedUntil: null, heldBy: account.users.agent });
    expect(Date.parse(after.autoCloseAt)).toBe(Date.parse(woke.at) + 3_600_000);
  });

  test('a customer message wakes it (reason customer_message); unsnooze wakes it now (reason unsnoozed)', async () => {
    const id = await claimed();
    await act(account, id, 'snooze', account.keys.agent, { until: '1d' });
    const customer = (await view(account, id)).customer as string;
    await customerWrites(stack, account, { customer });
    await eventually(async () => ((await view(account, id)).status === 'assigned' ? true : undefined));
    expect((await reasons(account, id)).slice(-2)).toEqual(['snoozed', 'customer_message']);

    await act(account, id, 'snooze', account.keys.agent, { until: '1d' });
    const woke = await act(account, id, 'unsnooze', account.keys.manager);
    expect(woke.status).toBe(200);
    expect(woke.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.agent, snoozedUntil: null });
    expect((await reasons(account, id)).at(-1)).toBe('unsnoozed');
    const again = await act(account, id, 'unsnooze', account.keys.agent);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  test('refusals: 400 naming until, 403 for another agent, 409 when closed or the window is too close', async () => {
    const id = await claimed();
    for (const until of ['soon', new Date(Date.now() - 60_000).toISOString(), '2026-12-07T09:00:00', '400d', 42]) {
      const bad = await act(account, id, 'snooze', account.keys.agent, { until });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
      expect(bad.body.error.message).toContain('until');
    }
    expect((await act(account, id, 'snooze', account.keys.agent, {})).body.error.message).toContain('until');
    const other = await act(account, id, 'snooze', account.keys.agent2, { until: '1h' });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('not_assignee');
    expect((await view(account, id)).status).toBe('assigned');

    // The window closes in 30 minutes; waking an hour before it has passed already.
    const short = await createAccount(stack, { serviceWindow: '30m' });
    const shortId = await claimed(short);
    const tooLate = await act(short, shortId, 'snooze', short.keys.agent, { until: 'window' });
    expect(tooLate.status).toBe(409);
    expect(tooLate.body.error.code).toBe('window_expired');

    expect((await act(account, id, 'resolve', account.keys.agent)).status).toBe(200);
    const closed = await act(account, id, 'snooze', account.keys.agent, { until: '1h' });
    expect(closed.status).toBe(409);
    expect(closed.body.error.code).toBe('conversation_closed');
  });

  test('a deactivated assignee: the conversation stays snoozed, unassigned, and wakes to open', async () => {
    const on = await createAccount(stack, { autoCloseAfter: '1h' });
    const id = await claimed(on);
    await act(on, id, 'snooze', on.keys.agent, { until: '1d' });
    const deactivated = await stack.http.patch(`/v1/accounts/${on.id}/users/${on.users.agent}`, { active: false }, stack.platformKey);
    expect(deactivated.status).toBe(200);
    const released = await eventually(async () => {
      const v = await view(on, id);
      return v.assigneeId === null ? v : undefined;
    });
    expect(released).toMatchObject({ status: 'snoozed', assigneeId: null });
    expect((await events(on, id)).at(-1)).toMatchObject({ from: 'snoozed', to: 'snoozed', reason: 'agent_deactivated' });
    const woke = await act(on, id, 'unsnooze', on.keys.admin);
    expect(woke.body.conversation).toMatchObject({ status: 'open', assigneeId: null });
  });

  test('capacity: a snoozed conversation frees its slot; at the wake it returns to its agent at capacity, who is offered nothing new', async () => {
    const on = await createAccount(stack, { autoCloseAfter: '1h' });
    expect((await stack.http.patch(`/v1/accounts/${on.id}/policy`, { routing: { mode: 'round_robin' } }, stack.platformKey)).status).toBe(200);
    const agentId = 'solo';
    const created = await stack.http.post(`/v1/accounts/${on.id}/users`, { id: agentId, name: agentId, role: 'agent', maxConcurrent: 1 }, stack.platformKey);
    const key = created.body.apiKey as string;
    await stack.http.request('PUT', `/v1/accounts/${on.id}/users/${agentId}/presence`, { key, body: { status: 'online' } });
    const deliver = async () =>
      (await stack.http.post(`/v1/accounts/${on.id}/messages`, { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text: 'hi' }, on.keys.service)).body
        .conversationId as string;
    const routedTo = (id: string) => eventually(async () => ((await view(on, id)).assigneeId === agentId ? true : undefined));

    const first = await deliver();
    await routedTo(first);
    expect((await act(on, first, 'snooze', key, { until: '1d' })).body.conversation).toMatchObject({ status: 'snoozed', heldBy: null });
    const second = await deliver();
    await routedTo(second);

    const woke = await act(on, first, 'unsnooze', key);
    expect(woke.body.conversation).toMatchObject({ status: 'assigned', assigneeId: agentId, heldBy: agentId });
    const third = await deliver();
    await routerQueues(stack, on.id, [third]);
    expect(await view(on, third)).toMatchObject({ status: 'open', assigneeId: null });
    // Below capacity again (both resolved): the waiting one is offered to them.
    await act(on, first, 'resolve', key);
    await act(on, second, 'resolve', key);
    await routedTo(third);
  });

  test('the OpenAPI document lists snooze and unsnooze', async () => {
    const doc = (await stack.http.get('/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/accounts/{accountId}/conversations/{conversationId}/snooze', '/v1/accounts/{accountId}/conversations/{conversationId}/unsnooze']));
  });
});
