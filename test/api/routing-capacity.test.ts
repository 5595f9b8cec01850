import { randomUUID } from 'node:crypto';
import { routerWorkflowId } from '../../workflows/routing/messages';
import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationApi, createAccount, newCustomer, routerQueues } from '../support/scenario';

/**
 * Issue 11 item 1: the router rebuilds agents' load from the views whenever it starts or the routing
 * configuration changes. Capacity a wrap-up still blocks (seed 004) must survive that rebuild: the load
 * comes from `heldBy` (whose capacity a conversation consumes), not from `status: 'assigned'`.
 */
describe('capacity held in wrap-up survives a router rebuild', () => {
  const env = useStack();
  const { view, act } = conversationApi(env);
  let stack: Stack;
  beforeAll(() => ({ stack } = env));

  const capacity = 1;
  const agentIds = ['wrap-a', 'wrap-b'];

  async function deliver(account: Account): Promise<string> {
    const res = await stack.http.post(
      `/v1/accounts/${account.id}/messages`,
      { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text: 'hi' },
      account.keys.service,
    );
    expect(res.status).toBe(202);
    return res.body.conversationId as string;
  }

  /** Per agent, how many conversations consume their capacity now, from the views. */
  async function held(account: Account): Promise<Record<string, number>> {
    const docs = await stack.db.collection('conversations').find({ accountId: account.id }).toArray();
    const counts: Record<string, number> = Object.fromEntries(agentIds.map((id) => [id, 0]));
    for (const doc of docs) if (doc.heldBy) counts[doc.heldBy] = (counts[doc.heldBy] ?? 0) + 1;
    return counts;
  }

  /** Two agents of capacity 1, each with one work item in wrap-up that keeps blocking their slot. */
  async function agentsInWrapUp(): Promise<{ account: Account; keys: Record<string, string> }> {
    const account = await createAccount(stack, { preset: 'work_items', wrapUpCapacity: 'always', autoCloseAfter: '1h' });
    expect((await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'round_robin' } }, stack.platformKey)).status).toBe(200);
    const keys: Record<string, string> = {};
    for (const id of agentIds) {
      const created = await stack.http.post(`/v1/accounts/${account.id}/users`, { id, name: id, role: 'agent', maxConcurrent: capacity }, stack.platformKey);
      keys[id] = created.body.apiKey;
      await stack.http.request('PUT', `/v1/accounts/${account.id}/users/${id}/presence`, { key: keys[id], body: { status: 'online' } });
    }
    const first = [await deliver(account), await deliver(account)];
    const assignees = await eventually(async () => {
      const views = await Promise.all(first.map((id) => view(account, id)));
      return views.every((v) => v.status === 'assigned') ? views.map((v) => v.assigneeId as string) : undefined;
    });
    expect(assignees.sort()).toEqual(agentIds);
    for (const id of first) {
      const assignee = (await view(account, id)).assigneeId as string;
      const ended = await act(account, id, 'end', keys[assignee]!);
      expect(ended.body.conversation).toMatchObject({ status: 'wrap_up', heldBy: assignee });
    }
    return { account, keys };
  }

  /** New work arrives after the rebuild: nobody may be offered it while their wrap-up blocks them. */
  async function expectNewWorkWaits(account: Account): Promise<string[]> {
    const next = [await deliver(account), await deliver(account)];
    // The router has handled both requests and queued them: nobody was eligible.
    await routerQueues(stack, account.id, next);
    expect(await held(account)).toEqual({ 'wrap-a': 1, 'wrap-b': 1 });
    for (const id of next) expect(await view(account, id)).toMatchObject({ status: 'open', assigneeId: null });
    return next;
  }

  /** Ending the wrap-ups frees the slots: the waiting work is routed, still at most one each. */
  async function expectWorkRoutedOnceFreed(account: Account, keys: Record<string, string>, waiting: string[]): Promise<void> {
    const wrapUps = (await stack.db.collection('conversations').find({ accountId: account.id, status: 'wrap_up' }).toArray()).map((d) => ({
      id: String(d._id),
      assignee: d.assigneeId as string,
    }));
    for (const { id, assignee } of wrapUps) expect((await act(account, id, 'end', keys[assignee]!)).body.conversation.status).toBe('closed');
    await eventually(async () => {
      const views = await Promise.all(waiting.map((id) => view(account, id)));
      return views.every((v) => v.status === 'assigned') ? true : undefined;
    });
    expect(await held(account)).toEqual({ 'wrap-a': 1, 'wrap-b': 1 });
  }

  test('after the router workflow is restarted, agents in wrap-up get no new work beyond their capacity', async () => {
    const { account, keys } = await agentsInWrapUp();
    // A router that ended for any reason (terminated here) starts afresh on the next signal, from the views.
    await stack.client.workflow.getHandle(routerWorkflowId(account.id)).terminate('test: the router restarts');
    const waiting = await expectNewWorkWaits(account);
    await expectWorkRoutedOnceFreed(account, keys, waiting);
  });

  test('after the routing configuration changes, agents in wrap-up get no new work beyond their capacity', async () => {
    const { account, keys } = await agentsInWrapUp();
    expect((await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'least_loaded' } }, stack.platformKey)).status).toBe(200);
    const waiting = await expectNewWorkWaits(account);
    await expectWorkRoutedOnceFreed(account, keys, waiting);
  });
});
