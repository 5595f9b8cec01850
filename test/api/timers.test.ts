import type { Stack } from '../support/stack';
import { eventually, untilPast, useStack } from '../support/stack';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';

/**
 * Real timers on the real dev server, with policy durations of seconds. The default 48h/24h values
 * are proven on the time-skipping server (test/workflows); here the wall clock runs.
 */
describe('deadlines with short policy durations', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  test('after the service window passes a free-form reply is 409 window_expired, and a template is still sent', async () => {
    // 5s, not less: the first reply must land inside the window even on a loaded machine; the test then
    // waits exactly until the window's end, not a margin past it.
    const account = await createAccount(stack, { serviceWindow: '5s', autoCloseAfter: '1h' });
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const quick = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'quick' }, account.keys.agent);
    expect(quick.status).toBe(200);
    await untilPast(Date.parse(quick.body.conversation.windowExpiresAt));
    const late = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'too late' }, account.keys.agent);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('window_expired');
    expect((await stack.http.post(conversationPath(account, conversationId, '/templates'), { name: 'reopen_chat' }, account.keys.agent)).status).toBe(200);
    const events = (await stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.agent)).body.events;
    expect(events.filter((e: { reason: string }) => e.reason === 'window_expired')).toHaveLength(1);
  });

  test('an assigned conversation with no customer message for autoCloseAfter closes by itself with reason inactivity', async () => {
    const account = await createAccount(stack, { serviceWindow: '1h', autoCloseAfter: '3s' });
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const assigned = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'hi' }, account.keys.agent);
    const autoCloseAt = Date.parse(assigned.body.conversation.autoCloseAt);
    const closed = await eventually(async () => {
      const view = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
      return view.status === 'closed' ? view : undefined;
    });
    expect(closed.closedReason).toBe('inactivity');
    // Not before the deadline. How soon after it is the time-skipping server's to show (test/workflows/timers.test.ts):
    // on a loaded machine the wall clock says nothing about the timer.
    expect(Date.parse(closed.closedAt)).toBeGreaterThanOrEqual(autoCloseAt);
    const last = (await stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.agent)).body.events.at(-1);
    expect(last).toMatchObject({ from: 'assigned', to: 'closed', reason: 'inactivity', actor: { kind: 'system' } });
  });

  test('an open conversation never auto-closes, and agent messages do not extend the inactivity deadline', async () => {
    const account = await createAccount(stack, { serviceWindow: '1h', autoCloseAfter: '3s' });
    const open = await customerWrites(stack, account, { customer: newCustomer() });
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const first = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'one' }, account.keys.agent);
    // The second reply comes at a later instant than the first (an extended deadline would differ).
    await untilPast(Date.parse(first.body.conversation.updatedAt));
    const second = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'two' }, account.keys.agent);
    expect(second.body.conversation.autoCloseAt).toBe(first.body.conversation.autoCloseAt);
    await eventually(async () => ((await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body.status === 'closed' ? true : undefined));
    expect((await stack.http.get(conversationPath(account, open.conversationId), account.keys.agent)).body.status).toBe('open');
  });

  test('a policy change reaches running conversations without restarting them', async () => {
    const account = await createAccount(stack, { serviceWindow: '1h', autoCloseAfter: '1h' });
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'hi' }, account.keys.agent);
    // Visibility is eventually consistent: wait until the workflow is listable before changing the policy.
    await eventually(async () => {
      const found = [];
      for await (const w of stack.client.workflow.list({ query: `AccountId = '${account.id}' AND ExecutionStatus = 'Running'` })) found.push(w);
      return found.length > 0 ? true : undefined;
    });
    const patched = await stack.http.patch(`/v1/accounts/${account.id}/policy`, { autoCloseAfter: '2s' }, account.keys.admin);
    expect(patched.status).toBe(200);
    expect(patched.body.policy.autoCloseAfter).toBe('2s');
    expect(patched.body.propagation.workflowId).toBe(`policy-propagation/${account.id}`);
    const closed = await eventually(async () => {
      const view = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
      return view.status === 'closed' ? view : undefined;
    });
    expect(closed.closedReason).toBe('inactivity');
  });
});
