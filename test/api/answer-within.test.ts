import { randomUUID } from 'node:crypto';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';
import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';

/**
 * SPEC 9's answer-or-reroute through the real stack (API, worker, router, dev server, FerretDB) with an
 * `answerWithin` of seconds. The wall clock runs: the test waits for the events themselves and asserts
 * only lower bounds on when they happened; exactness is the time-skipping server's
 * (test/workflows/timer-labels.test.ts).
 */
describe('answer or reroute', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  type Entry = { reason: string; from: string | null; to: string; at: string; assigneeBefore: string | null; assigneeAfter: string | null; actor: { kind: string } };
  const events = async (account: Account, conversationId: string): Promise<Entry[]> =>
    (await stack.http.get(conversationPath(account, conversationId, '/events'), account.keys.owner)).body.events;
  /** Waits until the conversation's events satisfy `check`. */
  const eventsUntil = (account: Account, conversationId: string, check: (e: Entry[]) => boolean) =>
    eventually(async () => {
      const e = await events(account, conversationId);
      return check(e) ? e : undefined;
    }, { timeoutMs: 30_000 });

  async function addOnlineAgents(account: Account, ids: string[]): Promise<void> {
    for (const id of ids) {
      const res = await stack.http.post(`/v1/accounts/${account.id}/users`, { id, name: id, role: 'agent' }, stack.platformKey);
      expect(res.status).toBe(201);
      await stack.http.request('PUT', `/v1/accounts/${account.id}/users/${id}/presence`, { key: res.body.apiKey, body: { status: 'online' } });
    }
  }

  test('routing on: an unanswered conversation goes back to open and to the other agent, even with sticky routing; with both avoided, to one of them', async () => {
    const account = await createAccount(stack);
    const policy = await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'round_robin', sticky: true }, answerWithin: '2s' }, account.keys.admin);
    expect(policy.status).toBe(200);
    expect(policy.body.policy.answerWithin).toBe('2s');
    await addOnlineAgents(account, ['ag-1', 'ag-2']);
    const res = await stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text: 'hi' }, account.keys.service);
    expect(res.status).toBe(202);
    const conversationId: string = res.body.conversationId;

    // Routed, unanswered, routed to the other, unanswered, routed to one of the two again.
    const all = await eventsUntil(account, conversationId, (e) => e.filter((x) => x.reason === 'routing').length >= 3);
    const relevant = all.filter((e) => e.reason === 'routing' || e.reason === 'unanswered').slice(0, 5);
    expect(relevant.map((e) => e.reason)).toEqual(['routing', 'unanswered', 'routing', 'unanswered', 'routing']);
    const [first, unanswered, second, unansweredAgain, third] = relevant as [Entry, Entry, Entry, Entry, Entry];
    expect(unanswered).toMatchObject({ from: 'assigned', to: 'open', assigneeBefore: first.assigneeAfter, assigneeAfter: null, actor: { kind: 'system' } });
    expect(Date.parse(unanswered.at) - Date.parse(first.at)).toBeGreaterThanOrEqual(2_000);
    expect(second.assigneeAfter).not.toBe(first.assigneeAfter);
    expect(unansweredAgain.assigneeBefore).toBe(second.assigneeAfter);
    // Nobody else is eligible: one of the two who did not answer gets it back.
    expect(['ag-1', 'ag-2']).toContain(third.assigneeAfter);
  });

  test('manual routing: the claimed, unanswered conversation returns to open unassigned and stays there; a reply then claims it', async () => {
    const account = await createAccount(stack);
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { answerWithin: '2s' }, account.keys.admin);
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    const claimed = await stack.http.post(conversationPath(account, conversationId, '/assign'), { assigneeId: account.users.agent }, account.keys.agent);
    expect(claimed.status).toBe(200);
    const all = await eventsUntil(account, conversationId, (e) => e.some((x) => x.reason === 'unanswered'));
    expect(all.at(-1)).toMatchObject({ reason: 'unanswered', from: 'assigned', to: 'open', assigneeBefore: account.users.agent, assigneeAfter: null });
    const view = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
    expect(view).toMatchObject({ status: 'open', assigneeId: null, unreadCount: 1 });
    // A fact to wait on instead of time passing: the agent's reply is decided after the reroute, and claims it.
    const replied = await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'sorry, here now' }, account.keys.agent);
    expect(replied.status).toBe(200);
    expect(replied.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.agent });
    expect((await events(account, conversationId)).filter((e) => e.reason === 'unanswered')).toHaveLength(1);
  });

  test('PATCH /policy refuses a bad answerWithin, naming the field (400)', async () => {
    const account = await createAccount(stack);
    const bad = await stack.http.patch(`/v1/accounts/${account.id}/policy`, { answerWithin: 'soon' }, account.keys.admin);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_failed' });
    expect(bad.body.error.message).toContain('answerWithin');
  });
});
