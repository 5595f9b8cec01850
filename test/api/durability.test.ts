import type { Stack } from '../support/stack';
import { eventually, untilPast, useStack } from '../support/stack';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';

/** Deadlines and messages survive the worker going away: they live in Temporal, not in the process. */
describe('durability across a worker restart', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  test('an auto-close deadline that falls due while no worker runs closes the conversation when a new worker starts', async () => {
    const account = await createAccount(stack, { serviceWindow: '1h', autoCloseAfter: '2s' });
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const assigned = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'hi' }, account.keys.agent);
    const autoCloseAt = Date.parse(assigned.body.conversation.autoCloseAt);

    await stack.stopWorker();
    await untilPast(autoCloseAt); // due while no worker runs
    expect((await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body.status).toBe('assigned');

    const restartedAt = Date.now();
    await stack.startWorker();
    const closed = await eventually(async () => {
      const view = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
      return view.status === 'closed' ? view : undefined;
    });
    expect(closed.closedReason).toBe('inactivity');
    expect(Date.parse(closed.closedAt)).toBeGreaterThanOrEqual(restartedAt - 1_000);
  });

  test('customer messages accepted while no worker runs are all recorded once the worker is back', async () => {
    const account = await createAccount(stack);
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    await stack.stopWorker();
    for (let i = 0; i < 5; i++) {
      const res = await stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'wa-main', customer, messageId: `offline-${i}`, text: `m${i}` }, account.keys.service);
      expect(res.status).toBe(202);
    }
    await stack.startWorker();
    const view = await eventually(async () => {
      const v = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
      return v.unreadCount === 6 ? v : undefined;
    });
    expect(view.status).toBe('open');
    const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages;
    expect(messages.map((m: { text: string }) => m.text)).toEqual(['hello', 'm0', 'm1', 'm2', 'm3', 'm4']);
  });

  test('a customer message that arrives after a waiting timeout fell due (worker down) finds the episode closed, and opens the next one', async () => {
    const account = await createAccount(stack, { preset: 'work_items', waitingTimeout: '2s' });
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    await stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.agent);
    expect((await stack.http.post(conversationPath(account, conversationId, '/leave'), {}, account.keys.agent)).body.conversation.status).toBe('waiting');
    const waitingFrom = Date.now(); // the waiting began before this instant

    await stack.stopWorker();
    await untilPast(waitingFrom + 2_000); // the waiting timeout fell due while no worker runs
    await stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'wa-main', customer, messageId: 'late-1', text: 'still there?' }, account.keys.service);
    await stack.startWorker();

    const view = await eventually(async () => {
      const v = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
      return v.episode === 2 ? v : undefined;
    });
    expect(view).toMatchObject({ status: 'open', assigneeId: null });
    const events = (await stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.agent)).body.events;
    expect(events.slice(-2).map((e: { from: string; to: string; reason: string }) => [e.from, e.to, e.reason])).toEqual([
      ['waiting', 'closed', 'inactivity'],
      ['closed', 'open', 'customer_message'],
    ]);
  });
});
