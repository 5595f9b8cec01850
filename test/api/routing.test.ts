import { randomUUID } from 'node:crypto';
import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount, newCustomer, routerQueues, routerUntil } from '../support/scenario';
import { loadTest } from '../support/tiers';

/** SPEC section 4 on the real stack: the router workflow, conversations, and the API together. */
describe('automatic assignment', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  async function addAgents(account: Account, count: number, profile: Record<string, unknown> = {}, prefix = 'ag'): Promise<Record<string, string>> {
    const keys: Record<string, string> = {};
    for (let i = 1; i <= count; i++) {
      const id = `${prefix}-${i}`;
      const res = await stack.http.post(`/v1/accounts/${account.id}/users`, { id, name: id, role: 'agent', ...profile }, stack.platformKey);
      keys[id] = res.body.apiKey;
      await stack.http.request('PUT', `/v1/accounts/${account.id}/users/${id}/presence`, { key: res.body.apiKey, body: { status: 'online' } });
    }
    return keys;
  }

  async function deliver(account: Account, body: Record<string, unknown> = {}) {
    const customer = newCustomer();
    const res = await stack.http.post(
      `/v1/accounts/${account.id}/messages`,
      { channel: 'wa-main', customer, messageId: `wamid.${randomUUID()}`, text: 'hi', ...body },
      account.keys.service,
    );
    expect(res.status).toBe(202);
    return res.body.conversationId as string;
  }

  async function assignees(account: Account, ids: string[]): Promise<(string | null)[]> {
    return Promise.all(ids.map(async (id) => (await stack.http.get(conversationPath(account, id), account.keys.owner)).body.assigneeId ?? null));
  }

  const settled = (account: Account, ids: string[], count: number) =>
    eventually(async () => {
      const a = await assignees(account, ids);
      return a.filter((x) => x !== null).length === count ? a : undefined;
    }, { timeoutMs: 30_000 });

  test('round robin spreads conversations evenly over the online agents, each assignment an event with reason routing', async () => {
    const account = await createAccount(stack, {});
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'round_robin' } }, stack.platformKey);
    await addAgents(account, 3);
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) ids.push(await deliver(account));
    const result = await settled(account, ids, 9);
    const counts = new Map<string, number>();
    for (const a of result) counts.set(a!, (counts.get(a!) ?? 0) + 1);
    expect([...counts.values()]).toEqual([3, 3, 3]);
    const events = (await stack.http.get(conversationPath(account, ids[0]!, '/events'), account.keys.owner)).body.events;
    expect(events.at(-1)).toMatchObject({ from: 'open', to: 'assigned', reason: 'routing', rule: 'fallback', actor: { kind: 'system' } });
  });

  test('rules route by attribute to a team and skill; offline, away and inactive agents are skipped; nobody eligible waits in open', async () => {
    const account = await createAccount(stack);
    await stack.http.patch(
      `/v1/accounts/${account.id}/policy`,
      { routing: { mode: 'least_loaded', rules: [{ match: { department: 'sales' }, team: 'sales', skills: ['pt'] }], fallbackTeam: 'support' } },
      stack.platformKey,
    );
    await addAgents(account, 1, { teams: ['sales'], languages: ['pt'] }, 'pt-seller');
    await addAgents(account, 1, { teams: ['sales'], languages: ['en'] }, 'en-seller');
    const away = await addAgents(account, 1, { teams: ['sales'], languages: ['pt'] }, 'away-seller');
    await stack.http.request('PUT', `/v1/accounts/${account.id}/users/away-seller-1/presence`, { key: away['away-seller-1'], body: { status: 'away' } });
    await addAgents(account, 1, { teams: ['support'] }, 'supporter');

    const sale = await deliver(account, { attributes: { department: 'sales', language: 'pt' } });
    const support = await deliver(account, { attributes: { department: 'billing' } });
    const [a, b] = await settled(account, [sale, support], 2);
    expect(a).toBe('pt-seller-1');
    expect(b).toBe('supporter-1');

    // The only eligible seller goes inactive: the next sale waits in open, then is taken when someone qualifies.
    const deactivated = await stack.http.patch(`/v1/accounts/${account.id}/users/pt-seller-1`, { active: false }, stack.platformKey);
    expect(deactivated.body.released).toBe(1);
    const waiting = await deliver(account, { attributes: { department: 'sales' } });
    await routerQueues(stack, account.id, [waiting]); // handled, and nobody qualifies
    const view = (await stack.http.get(conversationPath(account, waiting), account.keys.owner)).body;
    expect(view.status).toBe('open');
    await stack.http.patch(`/v1/accounts/${account.id}/users/en-seller-1`, { languages: ['en', 'pt'] }, stack.platformKey);
    const [taken, returned] = await settled(account, [waiting, sale], 2);
    expect(taken).toBe('en-seller-1');
    // The deactivated seller's conversation went back to routing and found the new qualified seller too.
    expect(returned).toBe('en-seller-1');
  });

  test('sticky routing gives a reopened conversation back to its previous agent', async () => {
    const account = await createAccount(stack, { autoCloseAfter: '1h' });
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'round_robin', sticky: true } }, stack.platformKey);
    const keys = await addAgents(account, 3);
    const customer = newCustomer();
    const first = await deliver(account, { customer });
    const [owner] = await settled(account, [first], 1);
    await stack.http.post(conversationPath(account, first, '/resolve'), {}, keys[owner!]);
    for (let i = 0; i < 2; i++) await deliver(account); // move the rotation on
    await deliver(account, { customer });
    const again = await eventually(async () => {
      const v = (await stack.http.get(conversationPath(account, first), account.keys.owner)).body;
      return v.episode === 2 && v.assigneeId ? v : undefined;
    });
    expect(again.assigneeId).toBe(owner);
  });

  test('a supervisor may assign beyond capacity on purpose; the agent then gets no automatic assignment until below capacity', async () => {
    const account = await createAccount(stack, { autoCloseAfter: '1h' });
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'round_robin' } }, stack.platformKey);
    const keys = await addAgents(account, 1, { maxConcurrent: 1 }, 'solo');
    const first = await deliver(account);
    await settled(account, [first], 1);
    const second = await deliver(account);
    await routerQueues(stack, account.id, [second]); // solo-1 is full
    expect((await stack.http.get(conversationPath(account, second), account.keys.owner)).body.status).toBe('open');
    // The supervisor overloads solo-1 on purpose: allowed, counted.
    const manual = await stack.http.post(conversationPath(account, second, '/assign'), { assigneeId: 'solo-1' }, account.keys.admin);
    expect(manual.body.conversation).toMatchObject({ status: 'assigned', assigneeId: 'solo-1' });
    const third = await deliver(account);
    await stack.http.post(conversationPath(account, first, '/resolve'), {}, keys['solo-1']);
    // The router has counted the release of the first, and the third still waits.
    await routerUntil(stack, account.id, (s) => !s.agents['solo-1']?.load.includes(first) && s.queue.some((w) => w.conversationId === third));
    // Still at capacity (1 held of 1): the third keeps waiting until the second is resolved too.
    expect((await stack.http.get(conversationPath(account, third), account.keys.owner)).body.status).toBe('open');
    await stack.http.post(conversationPath(account, second, '/resolve'), {}, keys['solo-1']);
    expect(await settled(account, [third], 1)).toEqual(['solo-1']);
  });

  test('with releaseOnOffline an agent going offline hands their conversations back to routing', async () => {
    const account = await createAccount(stack, { autoCloseAfter: '1h' });
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'round_robin', releaseOnOffline: true } }, stack.platformKey);
    const keys = await addAgents(account, 1, {}, 'leaving');
    const conv = await deliver(account);
    await settled(account, [conv], 1);
    await addAgents(account, 1, {}, 'staying');
    const off = await stack.http.request('PUT', `/v1/accounts/${account.id}/users/leaving-1/presence`, { key: keys['leaving-1'], body: { status: 'offline' } });
    expect(off.body.released).toBe(1);
    const moved = await eventually(async () => {
      const v = (await stack.http.get(conversationPath(account, conv), account.keys.owner)).body;
      return v.assigneeId === 'staying-1' ? v : undefined;
    });
    expect(moved.status).toBe('assigned');
    const reasons = (await stack.http.get(conversationPath(account, conv, '/events'), account.keys.owner)).body.events.map((e: { reason: string }) => e.reason);
    expect(reasons).toEqual(['first_customer_message', 'routing', 'agent_offline', 'routing']);
  });

  test('under manual routing, deactivating an agent returns their conversations to open', async () => {
    const account = await createAccount(stack);
    const { conversationId } = await (async () => ({ conversationId: await deliver(account) }))();
    await eventually(async () => ((await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).status === 200 ? true : undefined));
    await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'mine' }, account.keys.agent);
    const res = await stack.http.patch(`/v1/accounts/${account.id}/users/${account.users.agent}`, { active: false }, account.keys.owner);
    expect(res.body.released).toBe(1);
    const view = await eventually(async () => {
      const v = (await stack.http.get(conversationPath(account, conversationId), account.keys.owner)).body;
      return v.status === 'open' ? v : undefined;
    });
    expect(view.assigneeId).toBeNull();
    // The deactivated user's key no longer works.
    expect((await stack.http.get(`/v1/accounts/${account.id}/conversations`, account.keys.agent)).status).toBe(401);
  });

  loadTest('200 conversations arriving at once for 5 agents of capacity 3: never more than 3 each, the rest wait and drain in arrival order', async () => {
    const account = await createAccount(stack, { autoCloseAfter: '1h' });
    await stack.http.patch(`/v1/accounts/${account.id}/policy`, { routing: { mode: 'round_robin' } }, stack.platformKey);
    const keys = await addAgents(account, 5, { maxConcurrent: 3 });
    const ids: string[] = [];
    const batch = 25;
    for (let i = 0; i < 200; i += batch) ids.push(...(await Promise.all(Array.from({ length: batch }, () => deliver(account)))));

    const load = async () => {
      const assigned = await stack.db.collection('conversations').find({ accountId: account.id, status: 'assigned' }).toArray();
      const byAgent = new Map<string, number>();
      for (const c of assigned) byAgent.set(c.assigneeId, (byAgent.get(c.assigneeId) ?? 0) + 1);
      return byAgent;
    };
    await eventually(async () => ([...(await load()).values()].reduce((a, b) => a + b, 0) === 15 ? true : undefined), { timeoutMs: 60_000 });
    expect([...(await load()).values()]).toEqual([3, 3, 3, 3, 3]);

    // Agents resolve what they hold; each freed slot goes to the oldest waiting conversation.
    let resolved = 0;
    while (resolved < 60) {
      const held = await stack.db.collection('conversations').find({ accountId: account.id, status: 'assigned' }).toArray();
      for (const conv of held) {
        const res = await stack.http.post(conversationPath(account, conv._id as unknown as string, '/resolve'), {}, keys[conv.assigneeId]);
        if (res.status === 200) resolved++;
      }
      const counts = [...(await load()).values()];
      expect(counts.every((n) => n <= 3)).toBe(true);
    }
    await eventually(async () => ([...(await load()).values()].reduce((a, b) => a + b, 0) === 15 ? true : undefined), { timeoutMs: 30_000 });
    // Drain order: every conversation that got an agent opened no later than any that still waits.
    const routed = await stack.db.collection('events').find({ accountId: account.id, reason: 'routing' }).toArray();
    const opened = await stack.db.collection('events').find({ accountId: account.id, reason: 'first_customer_message' }).toArray();
    const openedAt = new Map(opened.map((e) => [e.conversationId, e.at as number]));
    const routedIds = new Set(routed.map((e) => e.conversationId));
    const waitingTimes = ids.filter((id) => !routedIds.has(id)).map((id) => openedAt.get(id)!);
    const routedTimes = [...routedIds].map((id) => openedAt.get(id)!);
    expect(Math.max(...routedTimes)).toBeLessThanOrEqual(Math.min(...waitingTimes));
    expect(routed.length).toBe(15 + resolved);
  }, 240_000);
});
