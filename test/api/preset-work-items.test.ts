import { randomUUID } from 'node:crypto';
import type { Stack } from '../support/stack';
import { eventually, untilPast, useStack } from '../support/stack';
import type { Account, Transition } from '../support/scenario';
import { conversationApi, createAccount, customerWrites, newCustomer, routerQueues, routerUntil } from '../support/scenario';

/**
 * Seed 004 (work items with wrap-up, waiting and capacity), one transition row per test, through HTTP on
 * the real dev server and FerretDB. Timeouts are seconds here; their default values are proven on the
 * time-skipping server (test/workflows).
 */
describe('work items preset (seed 004) end to end', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  const workItems = (overrides: Record<string, string> = {}) =>
    createAccount(stack, { preset: 'work_items', waitingTimeout: '3s', agentReconnectTimeout: '2s', ...overrides });

  async function withRouting(account: Account, routing: Record<string, unknown>): Promise<void> {
    const res = await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing }, stack.platformKey);
    expect(res.status).toBe(200);
  }

  /** Adds an agent who is online at once, so routing may push work to them; answers their API key. */
  async function onlineAgent(account: Account, id: string, profile: Record<string, unknown> = {}): Promise<string> {
    const created = await stack.http.post(`/v1/accounts/${account.id}/users`, { id, name: id, role: 'agent', ...profile }, stack.platformKey);
    expect(created.status).toBe(201);
    const key: string = created.body.apiKey;
    expect((await presence(account, id, 'online', key)).status).toBe(200);
    return key;
  }

  const presence = (account: Account, userId: string, status: string, key: string) =>
    stack.http.request('PUT', `/v1/accounts/${account.id}/users/${userId}/presence`, { key, body: { status } });

  const { view, act, events, transitions } = conversationApi(env);

  const statusBecomes = (account: Account, id: string, status: string, timeoutMs = 15_000) =>
    eventually(async () => {
      const v = await view(account, id);
      return v.status === status ? v : undefined;
    }, { timeoutMs });

  const customerLeaves = (account: Account, customer: string) =>
    stack.http.post(`/v1/accounts/${account.id}/customer-events`, { channel: 'wa-main', customer, type: 'left' }, account.keys.service);

  /** A customer writes and the account's first agent claims the work item. */
  async function assignedToAgent(account: Account) {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    const claimed = await act(account, conversationId, 'assign', account.keys.agent, { assigneeId: account.users.agent });
    expect(claimed.status).toBe(200);
    expect(claimed.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.agent });
    return { customer, conversationId };
  }

  const opened: Transition = { from: null, to: 'open', reason: 'first_customer_message' };
  const claimed: Transition = { from: 'open', to: 'assigned', reason: 'claimed' };

  async function deliver(account: Account): Promise<string> {
    const res = await stack.http.post(
      `/v1/accounts/${account.id}/messages`,
      { channel: 'wa-main', customer: newCustomer(), messageId: `wamid.${randomUUID()}`, text: 'hi' },
      account.keys.service,
    );
    expect(res.status).toBe(202);
    return res.body.conversationId as string;
  }

  describe('open', () => {
    test('an agent picks an open work item: it becomes assigned to them, with the event reason claimed', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      expect(await view(account, conversationId)).toMatchObject({ status: 'assigned', assigneeId: account.users.agent, heldBy: account.users.agent });
      const last = (await events(account, conversationId)).at(-1);
      expect(last).toMatchObject({ ...claimed, actor: { kind: 'user', id: account.users.agent }, assigneeAfter: account.users.agent });
    });

    test('routing pushes a new work item to an online agent: open -> assigned with reason routing', async () => {
      const account = await workItems();
      await withRouting(account, { mode: 'round_robin' });
      await onlineAgent(account, 'pushed-1');
      const conversationId = await deliver(account);
      const assigned = await statusBecomes(account, conversationId, 'assigned');
      expect(assigned.assigneeId).toBe('pushed-1');
      expect(await transitions(account, conversationId)).toEqual([opened, { from: 'open', to: 'assigned', reason: 'routing' }]);
      expect((await events(account, conversationId)).at(-1).actor).toMatchObject({ kind: 'system' });
    });

    test('a customer who leaves before assignment closes the open work item with reason customer_left', async () => {
      const account = await workItems();
      const customer = newCustomer();
      const { conversationId } = await customerWrites(stack, account, { customer });
      expect((await customerLeaves(account, customer)).status).toBe(202);
      const closed = await statusBecomes(account, conversationId, 'closed');
      expect(closed).toMatchObject({ closedReason: 'customer_left', assigneeId: null });
      expect(await transitions(account, conversationId)).toEqual([opened, { from: 'open', to: 'closed', reason: 'customer_left' }]);
    });
  });

  describe('assigned', () => {
    test('the agent ending the work item moves it to wrap_up, still theirs and still consuming their capacity', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      const ended = await act(account, conversationId, 'end', account.keys.agent);
      expect(ended.status).toBe(200);
      expect(ended.body.conversation).toMatchObject({ status: 'wrap_up', assigneeId: account.users.agent, heldBy: account.users.agent });
      expect(await transitions(account, conversationId)).toEqual([opened, claimed, { from: 'assigned', to: 'wrap_up', reason: 'ended' }]);
    });

    test('a customer who leaves an assigned work item moves it to wrap_up with reason customer_left', async () => {
      const account = await workItems();
      const { customer, conversationId } = await assignedToAgent(account);
      expect((await customerLeaves(account, customer)).status).toBe(202);
      const wrapUp = await statusBecomes(account, conversationId, 'wrap_up');
      expect(wrapUp.assigneeId).toBe(account.users.agent);
      const last = (await events(account, conversationId)).at(-1);
      expect(last).toMatchObject({ from: 'assigned', to: 'wrap_up', reason: 'customer_left', actor: { kind: 'customer' } });
    });

    test('releasing to the queue returns the work item to open, unassigned, with reason released', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      const released = await act(account, conversationId, 'release', account.keys.agent);
      expect(released.status).toBe(200);
      expect(released.body.conversation).toMatchObject({ status: 'open', assigneeId: null, heldBy: null });
      expect(await transitions(account, conversationId)).toEqual([opened, claimed, { from: 'assigned', to: 'open', reason: 'released' }]);
    });

    test('a transfer to another team returns the work item to open, and routing gives it to an agent of that team', async () => {
      const account = await workItems();
      await withRouting(account, { mode: 'round_robin', fallbackTeam: 'sales' });
      const sellerKey = await onlineAgent(account, 'seller-1', { teams: ['sales'] });
      await onlineAgent(account, 'biller-1', { teams: ['billing'] });
      const conversationId = await deliver(account);
      expect((await statusBecomes(account, conversationId, 'assigned')).assigneeId).toBe('seller-1');

      const transferred = await act(account, conversationId, 'transfer', sellerKey, { team: 'billing' });
      expect(transferred.status).toBe(200);
      const routed = await eventually(async () => {
        const v = await view(account, conversationId);
        return v.assigneeId === 'biller-1' ? v : undefined;
      });
      expect(routed.status).toBe('assigned');
      expect(await transitions(account, conversationId)).toEqual([
        opened,
        { from: 'open', to: 'assigned', reason: 'routing' },
        { from: 'assigned', to: 'open', reason: 'transferred' },
        { from: 'open', to: 'assigned', reason: 'routing' },
      ]);
      expect((await events(account, conversationId)).at(-1)).toMatchObject({ rule: 'team', assigneeBefore: null, assigneeAfter: 'biller-1' });
    });

    test('an agent who disconnects and does not reconnect within agentReconnectTimeout loses the work item back to open', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      const offAt = Date.now();
      const off = await presence(account, account.users.agent, 'offline', account.keys.agent);
      expect(off.status).toBe(200);
      expect(off.body.released).toBe(0);
      const open = await statusBecomes(account, conversationId, 'open');
      expect(open).toMatchObject({ assigneeId: null, heldBy: null });
      const last = (await events(account, conversationId)).at(-1);
      expect(last).toMatchObject({ from: 'assigned', to: 'open', reason: 'agent_disconnected', actor: { kind: 'system' }, assigneeBefore: account.users.agent });
      // Not before the timeout: the workflow saw the disconnect no earlier than the request was sent.
      expect(Date.parse(last.at) - offAt).toBeGreaterThanOrEqual(2_000);
    });

    test('an agent who reconnects within agentReconnectTimeout keeps the work item', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      const offAt = Date.now();
      expect((await presence(account, account.users.agent, 'offline', account.keys.agent)).status).toBe(200);
      expect((await presence(account, account.users.agent, 'online', account.keys.agent)).status).toBe(200);
      // Past the instant the 2s disconnect timer would have fired, a probe: the customer writes. Its
      // effect shows only after the workflow has handled everything before it, that timer included.
      await untilPast(offAt + 2_000);
      await customerWrites(stack, account, { customer: (await view(account, conversationId)).customer, text: 'probe' }); // waits for its effect
      expect(await view(account, conversationId)).toMatchObject({ status: 'assigned', assigneeId: account.users.agent });
      expect(await transitions(account, conversationId)).toEqual([opened, claimed]);
    });

    test('leaving without ending moves the work item to waiting: the agent keeps it but it consumes no capacity', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      const left = await act(account, conversationId, 'leave', account.keys.agent);
      expect(left.status).toBe(200);
      expect(left.body.conversation).toMatchObject({ status: 'waiting', assigneeId: account.users.agent, heldBy: null });
      expect(await transitions(account, conversationId)).toEqual([opened, claimed, { from: 'assigned', to: 'waiting', reason: 'left_by_agent' }]);
    });

    test('the agent resolving the work item closes it with reason resolved', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      const resolved = await act(account, conversationId, 'resolve', account.keys.agent);
      expect(resolved.status).toBe(200);
      expect(resolved.body.conversation).toMatchObject({ status: 'closed', closedReason: 'resolved', assigneeId: null, heldBy: null });
      expect(await transitions(account, conversationId)).toEqual([opened, claimed, { from: 'assigned', to: 'closed', reason: 'resolved' }]);
    });
  });

  describe('wrap_up', () => {
    test('the agent ending the wrap-up closes the work item with reason ended', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      expect((await act(account, conversationId, 'end', account.keys.agent)).status).toBe(200);
      const closed = await act(account, conversationId, 'end', account.keys.agent);
      expect(closed.status).toBe(200);
      expect(closed.body.conversation).toMatchObject({ status: 'closed', closedReason: 'ended', assigneeId: null, heldBy: null });
      expect(await transitions(account, conversationId)).toEqual([
        opened,
        claimed,
        { from: 'assigned', to: 'wrap_up', reason: 'ended' },
        { from: 'wrap_up', to: 'closed', reason: 'ended' },
      ]);
    });
  });

  describe('waiting', () => {
    test('a waiting work item with no activity for waitingTimeout closes by itself with reason inactivity', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      expect((await act(account, conversationId, 'leave', account.keys.agent)).status).toBe(200);
      const closed = await statusBecomes(account, conversationId, 'closed');
      expect(closed.closedReason).toBe('inactivity');
      const all = await events(account, conversationId);
      expect(all.at(-1)).toMatchObject({ from: 'waiting', to: 'closed', reason: 'inactivity', actor: { kind: 'system' } });
      expect(Date.parse(all.at(-1).at) - Date.parse(all.at(-2).at)).toBeGreaterThanOrEqual(3_000);
    });

    test('the agent revives a waiting work item back to assigned', async () => {
      const account = await workItems();
      const { conversationId } = await assignedToAgent(account);
      expect((await act(account, conversationId, 'leave', account.keys.agent)).status).toBe(200);
      const revived = await act(account, conversationId, 'revive', account.keys.agent);
      expect(revived.status).toBe(200);
      expect(revived.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.agent, heldBy: account.users.agent });
      expect((await transitions(account, conversationId)).slice(-2)).toEqual([
        { from: 'assigned', to: 'waiting', reason: 'left_by_agent' },
        { from: 'waiting', to: 'assigned', reason: 'revived' },
      ]);
    });

    test('a customer who writes to a waiting work item sends it back to open, unassigned', async () => {
      const account = await workItems();
      const { customer, conversationId } = await assignedToAgent(account);
      expect((await act(account, conversationId, 'leave', account.keys.agent)).status).toBe(200);
      await customerWrites(stack, account, { customer, text: 'I am back' });
      const open = await statusBecomes(account, conversationId, 'open');
      expect(open).toMatchObject({ assigneeId: null, episode: 1 });
      const last = (await events(account, conversationId)).at(-1);
      expect(last).toMatchObject({ from: 'waiting', to: 'open', reason: 'customer_returned', actor: { kind: 'customer' }, assigneeBefore: account.users.agent });
    });
  });

  describe('closed', () => {
    test('closed is final for agents (revive, end, release, leave: 409 conversation_closed); a customer message starts episode 2 in open', async () => {
      const account = await workItems();
      const { customer, conversationId } = await assignedToAgent(account);
      expect((await act(account, conversationId, 'resolve', account.keys.agent)).status).toBe(200);
      for (const action of ['revive', 'end', 'release', 'leave']) {
        const res = await act(account, conversationId, action, account.keys.owner);
        expect([action, res.status, res.body.error.code]).toEqual([action, 409, 'conversation_closed']);
      }
      expect(await view(account, conversationId)).toMatchObject({ status: 'closed', episode: 1 });

      await customerWrites(stack, account, { customer, text: 'one more thing' });
      expect(await view(account, conversationId)).toMatchObject({ status: 'open', episode: 2, assigneeId: null, closedReason: null });
      const last = (await events(account, conversationId)).at(-1);
      expect(last).toMatchObject({ from: 'closed', to: 'open', reason: 'customer_message', episode: 2 });
    });
  });

  describe('capacity under routing (maxConcurrent 1)', () => {
    async function soloAgent(overrides: Record<string, string> = {}) {
      const account = await workItems(overrides);
      await withRouting(account, { mode: 'round_robin' });
      const key = await onlineAgent(account, 'solo-1', { maxConcurrent: 1 });
      const first = await deliver(account);
      expect((await statusBecomes(account, first, 'assigned')).assigneeId).toBe('solo-1');
      const second = await deliver(account);
      // The agent is full: the router has the second work item in its queue, and it waits in open.
      await routerQueues(stack, account.id, [second]);
      expect(await view(account, second)).toMatchObject({ status: 'open', assigneeId: null });
      return { account, key, first, second };
    }

    test('wrap-up with wrapUpCapacity always keeps the agent full: the next work item is routed only once the wrap-up ends', async () => {
      const { account, key, first, second } = await soloAgent();
      const ended = await act(account, first, 'end', key);
      expect(ended.body.conversation).toMatchObject({ status: 'wrap_up', heldBy: 'solo-1' });
      // The router still counts the wrap-up against solo-1 and keeps the second in its queue.
      await routerUntil(stack, account.id, (s) => !!s.agents['solo-1']?.load.includes(first) && s.queue.some((w) => w.conversationId === second));
      expect(await view(account, second)).toMatchObject({ status: 'open', assigneeId: null });

      expect((await act(account, first, 'end', key)).body.conversation.status).toBe('closed');
      const routed = await statusBecomes(account, second, 'assigned');
      expect(routed.assigneeId).toBe('solo-1');
    });

    test('waiting consumes no capacity: leaving the first work item routes the next one to the agent at once', async () => {
      const { account, key, first, second } = await soloAgent();
      const left = await act(account, first, 'leave', key);
      expect(left.body.conversation).toMatchObject({ status: 'waiting', heldBy: null });
      const routed = await statusBecomes(account, second, 'assigned');
      expect(routed.assigneeId).toBe('solo-1');
      expect((await transitions(account, second)).at(-1)).toEqual({ from: 'open', to: 'assigned', reason: 'routing' });
    });

    test('with wrapUpCapacity never, ending frees the agent at once and the next work item is routed to them', async () => {
      const { account, key, first, second } = await soloAgent({ wrapUpCapacity: 'never' });
      const ended = await act(account, first, 'end', key);
      expect(ended.body.conversation).toMatchObject({ status: 'wrap_up', assigneeId: 'solo-1', heldBy: null });
      expect((await statusBecomes(account, second, 'assigned')).assigneeId).toBe('solo-1');
    });
  });
});
