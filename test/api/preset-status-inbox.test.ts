import type { Stack } from '../support/stack';
import { eventually, useStack } from '../support/stack';
import type { Account, Transition } from '../support/scenario';
import { conversationApi, conversationPath, createAccount, customerWrites, newCustomer } from '../support/scenario';

/**
 * Seed 002 (a status-based inbox), one status per test, through HTTP on the real dev server and
 * FerretDB. Timeouts are seconds here; their default values are proven on the time-skipping server.
 */
describe('status inbox preset (seed 002) end to end', () => {
  let stack: Stack;
  const env = useStack();
  beforeAll(() => ({ stack } = env));

  /** An account on the status inbox preset, with the rest of the policy patched on top of it. */
  async function statusInbox(patch: Record<string, unknown> = {}): Promise<Account> {
    const account = await createAccount(stack, { preset: 'status_inbox' });
    if (Object.keys(patch).length > 0) {
      const res = await stack.http.patch(`/v1/accounts/${account.id}/policy`, patch, stack.platformKey);
      expect(res.status).toBe(200);
    }
    return account;
  }

  const { view, act, events, transitions } = conversationApi(env);
  const messages = async (account: Account, id: string) => (await stack.http.get(conversationPath(account, id, '/messages'), account.keys.owner)).body.messages;
  const list = async (account: Account, query: string) => {
    const res = await stack.http.get(`/v1/accounts/${account.id}/conversations${query}`, account.keys.agent);
    expect(res.status).toBe(200);
    return res.body.conversations as { id: string | null; customer: string; status: string }[];
  };

  const statusBecomes = (account: Account, id: string, status: string) =>
    eventually(async () => {
      const v = await view(account, id);
      return v.status === status ? v : undefined;
    });

  const opened: Transition = { from: null, to: 'open', reason: 'first_customer_message' };

  async function assignedToAgent(account: Account) {
    const customer = newCustomer();
    const { conversationId } = await customerWrites(stack, account, { customer });
    const reply = await act(account, conversationId, 'replies', account.keys.agent, { text: 'Hi, how can I help?' });
    expect(reply.status).toBe(200);
    return { customer, conversationId };
  }

  describe('New and In progress', () => {
    test('a first customer message shows as new (open, unread), and an agent reply makes it in progress (assigned)', async () => {
      const account = await statusInbox();
      const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
      expect(await view(account, conversationId)).toMatchObject({ status: 'open', assigneeId: null, unreadCount: 1, episode: 1 });
      const reply = await act(account, conversationId, 'replies', account.keys.agent, { text: 'On it' });
      expect(reply.status).toBe(200);
      expect(reply.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.agent, unreadCount: 0 });
      expect(await transitions(account, conversationId)).toEqual([opened, { from: 'open', to: 'assigned', reason: 'reply' }]);
    });
  });

  describe('Closed and Resolved', () => {
    test('with CSAT off, resolving closes the conversation at once with reason resolved and sends no survey', async () => {
      const account = await statusInbox({ csat: { enabled: false } });
      const { conversationId } = await assignedToAgent(account);
      const resolved = await act(account, conversationId, 'resolve', account.keys.agent);
      expect(resolved.status).toBe(200);
      expect(resolved.body.conversation).toMatchObject({ status: 'closed', closedReason: 'resolved', assigneeId: null });
      expect((await transitions(account, conversationId)).at(-1)).toEqual({ from: 'assigned', to: 'closed', reason: 'resolved' });
      expect((await messages(account, conversationId)).filter((m: { kind: string }) => m.kind === 'template')).toEqual([]);
    });

    test('with CSAT on, resolving sends the survey and shows resolved; the answer closes it and keeps the score', async () => {
      const account = await statusInbox({ csat: { enabled: true, template: 'rate_us' } });
      const { customer, conversationId } = await assignedToAgent(account);
      const resolved = await act(account, conversationId, 'resolve', account.keys.agent);
      expect(resolved.status).toBe(200);
      expect(resolved.body.conversation).toMatchObject({ status: 'resolved', closedReason: null, csatScore: null });
      // The survey is a template in the timeline, handed to the channel provider once (a moment after
      // the answer: sends follow acceptance).
      const survey = (await messages(account, conversationId)).at(-1);
      expect(survey).toMatchObject({ direction: 'outbound', kind: 'template', template: { name: 'rate_us' } });
      // Handed over by the delivery activity a moment after the timeline records it (SPEC section 7).
      await eventually(async () => ((await stack.db.collection('outbound').countDocuments({ conversationId, 'template.name': 'rate_us' })) >= 1 ? true : undefined));
      expect(await stack.db.collection('outbound').countDocuments({ conversationId, 'template.name': 'rate_us' })).toBe(1);

      const answer = await stack.http.post(
        `/v1/accounts/${account.id}/customer-events`,
        { channel: 'wa-main', customer, type: 'csat', score: 9 },
        account.keys.service,
      );
      expect(answer.status).toBe(202);
      const closed = await statusBecomes(account, conversationId, 'closed');
      expect(closed).toMatchObject({ csatScore: 9, closedReason: 'resolved' });
      expect((await transitions(account, conversationId)).slice(-2)).toEqual([
        { from: 'assigned', to: 'resolved', reason: 'resolved' },
        { from: 'resolved', to: 'closed', reason: 'resolved' },
      ]);
      expect((await events(account, conversationId)).at(-1).actor).toMatchObject({ kind: 'customer' });
    });

    test('an unanswered survey closes the conversation by itself after the CSAT timeout with reason csat_timeout', async () => {
      const account = await statusInbox({ csat: { enabled: true, timeout: '2s' } });
      const { conversationId } = await assignedToAgent(account);
      expect((await act(account, conversationId, 'resolve', account.keys.agent)).body.conversation.status).toBe('resolved');
      const closed = await statusBecomes(account, conversationId, 'closed');
      expect(closed).toMatchObject({ closedReason: 'csat_timeout', csatScore: null });
      const all = await events(account, conversationId);
      expect(all.at(-1)).toMatchObject({ from: 'resolved', to: 'closed', reason: 'csat_timeout', actor: { kind: 'system' } });
      expect(Date.parse(all.at(-1).at) - Date.parse(all.at(-2).at)).toBeGreaterThanOrEqual(2_000);
    });

    test('with idleCloseAfter, an open conversation nobody touches closes by itself with reason idle', async () => {
      const account = await statusInbox({ idleCloseAfter: '2s' });
      const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
      const closed = await statusBecomes(account, conversationId, 'closed');
      expect(closed.closedReason).toBe('idle');
      const all = await events(account, conversationId);
      expect(all.at(-1)).toMatchObject({ from: 'open', to: 'closed', reason: 'idle', actor: { kind: 'system' } });
      expect(Date.parse(all.at(-1).at) - Date.parse(all.at(0).at)).toBeGreaterThanOrEqual(2_000);
    });
  });

  describe('In a flow', () => {
    const flow = (account: Account, id: string, body: unknown) => act(account, id, 'flow', account.keys.service, body);

    test('a flow started on a new conversation puts it in_flow; customer messages during it are recorded but change nothing', async () => {
      const account = await statusInbox();
      const customer = newCustomer();
      const { conversationId } = await customerWrites(stack, account, { customer });
      const started = await flow(account, conversationId, { action: 'start' });
      expect(started.status).toBe(200);
      expect(started.body.conversation).toMatchObject({ status: 'in_flow', assigneeId: null });
      const before = await view(account, conversationId);

      await customerWrites(stack, account, { customer, text: 'option 2' });
      expect(await messages(account, conversationId)).toHaveLength(2);
      expect(await view(account, conversationId)).toMatchObject({ status: 'in_flow', unreadCount: before.unreadCount, assigneeId: null });
      // The automation owns it: agents cannot reply or claim meanwhile.
      const reply = await act(account, conversationId, 'replies', account.keys.agent, { text: 'me' });
      expect([reply.status, reply.body.error.code]).toEqual([409, 'conflict']);
      expect(await transitions(account, conversationId)).toEqual([opened, { from: 'open', to: 'in_flow', reason: 'flow_started' }]);
    });

    test('a flow that ends by assigning a user makes the conversation assigned to them and unread', async () => {
      const account = await statusInbox();
      const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
      expect((await flow(account, conversationId, { action: 'start' })).status).toBe(200);
      const ended = await flow(account, conversationId, { action: 'end', assignTo: { userId: account.users.agent2 } });
      expect(ended.status).toBe(200);
      expect(ended.body.conversation).toMatchObject({ status: 'assigned', assigneeId: account.users.agent2 });
      expect(ended.body.conversation.unreadCount).toBeGreaterThanOrEqual(1);
      expect((await transitions(account, conversationId)).at(-1)).toEqual({ from: 'in_flow', to: 'assigned', reason: 'flow_assigned' });
    });

    test('a flow that ends by assigning a team reopens the conversation unread, and routing picks an agent inside that team', async () => {
      const account = await statusInbox();
      // Nobody is in the fallback team, so the first message waits in open until the flow takes it.
      const routing = await stack.http.patch(
        `/v1/accounts/${account.id}/policy`,
        { routing: { mode: 'round_robin', fallbackTeam: 'nobody' } },
        stack.platformKey,
      );
      expect(routing.status).toBe(200);
      for (const [id, team] of [['outsider-1', 'support'], ['seller-1', 'sales']] as const) {
        const created = await stack.http.post(`/v1/accounts/${account.id}/users`, { id, name: id, role: 'agent', teams: [team] }, stack.platformKey);
        const online = await stack.http.request('PUT', `/v1/accounts/${account.id}/users/${id}/presence`, { key: created.body.apiKey, body: { status: 'online' } });
        expect(online.status).toBe(200);
      }
      const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
      expect((await flow(account, conversationId, { action: 'start' })).status).toBe(200);
      const ended = await flow(account, conversationId, { action: 'end', assignTo: { team: 'sales' } });
      expect(ended.status).toBe(200);
      expect(ended.body.conversation.unreadCount).toBeGreaterThanOrEqual(1);

      const routed = await statusBecomes(account, conversationId, 'assigned');
      expect(routed.assigneeId).toBe('seller-1');
      expect(routed.unreadCount).toBeGreaterThanOrEqual(1);
      expect((await transitions(account, conversationId)).slice(1)).toEqual([
        { from: 'open', to: 'in_flow', reason: 'flow_started' },
        { from: 'in_flow', to: 'open', reason: 'flow_assigned_team' },
        { from: 'open', to: 'assigned', reason: 'routing' },
      ]);
    });

    test('a flow that ends with no target closes the conversation with reason flow_ended', async () => {
      const account = await statusInbox();
      const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
      expect((await flow(account, conversationId, { action: 'start' })).status).toBe(200);
      const ended = await flow(account, conversationId, { action: 'end' });
      expect(ended.status).toBe(200);
      expect(ended.body.conversation).toMatchObject({ status: 'closed', closedReason: 'flow_ended' });
      expect((await transitions(account, conversationId)).at(-1)).toEqual({ from: 'in_flow', to: 'closed', reason: 'flow_ended' });
    });
  });

  describe('Not contacted', () => {
    test('a contact reached only by a campaign is listed as not_contacted until they write', async () => {
      const account = await statusInbox();
      const customer = newCustomer();
      const sent = await stack.http.post(
        `/v1/accounts/${account.id}/campaign-messages`,
        { channel: 'wa-main', customer, campaignId: 'spring', template: { name: 'spring_offer' } },
        account.keys.service,
      );
      expect(sent.status).toBe(202);
      const notContacted = await list(account, '?status=not_contacted');
      expect(notContacted).toEqual([expect.objectContaining({ id: null, customer, channel: 'wa-main', status: 'not_contacted' })]);
      // Not an inbox conversation yet.
      expect(await list(account, '')).toEqual([]);

      const { conversationId } = await customerWrites(stack, account, { customer, replyTo: { campaignId: 'spring' } });
      await eventually(async () => ((await list(account, '?status=not_contacted')).length === 0 ? true : undefined));
      expect((await list(account, '')).map((c) => c.id)).toEqual([conversationId]);
    });
  });

  describe('tags', () => {
    test('tags are added while open and assigned; after closing, removing one is 409 conversation_closed and adding still works', async () => {
      const account = await statusInbox({ csat: { enabled: false } });
      const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
      const onOpen = await act(account, conversationId, 'tags', account.keys.agent, { add: ['vip'] });
      expect(onOpen.status).toBe(200);
      expect(onOpen.body.conversation.tags).toEqual(['vip']);
      expect((await act(account, conversationId, 'replies', account.keys.agent, { text: 'hi' })).status).toBe(200);
      const onAssigned = await act(account, conversationId, 'tags', account.keys.agent, { add: ['billing'] });
      expect(onAssigned.body.conversation).toMatchObject({ status: 'assigned', tags: ['vip', 'billing'] });
      expect((await list(account, '?tag=billing')).map((c) => c.id)).toEqual([conversationId]);

      expect((await act(account, conversationId, 'resolve', account.keys.agent)).body.conversation.status).toBe('closed');
      const removing = await act(account, conversationId, 'tags', account.keys.owner, { remove: ['vip'] });
      expect(removing.status).toBe(409);
      expect(removing.body.error.code).toBe('conversation_closed');
      const adding = await act(account, conversationId, 'tags', account.keys.agent, { add: ['follow-up'] });
      expect(adding.status).toBe(200);
      expect((await view(account, conversationId)).tags).toEqual(['vip', 'billing', 'follow-up']);
    });
  });

  describe('archive', () => {
    test('with autoArchive, a closed conversation leaves the default list, is listed with archived=true and stays readable by id', async () => {
      const account = await statusInbox({ csat: { enabled: false }, autoArchive: true });
      const { conversationId: kept } = await customerWrites(stack, account, { customer: newCustomer() });
      const { conversationId } = await assignedToAgent(account);
      expect((await act(account, conversationId, 'resolve', account.keys.agent)).body.conversation).toMatchObject({ status: 'closed', archived: true });

      expect((await list(account, '')).map((c) => c.id)).toEqual([kept]);
      expect((await list(account, '?archived=true')).map((c) => c.id)).toEqual([conversationId]);
      expect((await list(account, '?archived=any')).map((c) => c.id).sort()).toEqual([kept, conversationId].sort());
      const read = await stack.http.get(conversationPath(account, conversationId), account.keys.agent);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ status: 'closed', archived: true });
    });
  });

  describe('broadcasts', () => {
    test('a broadcast reaches closed conversations; an open one is skipped as conflict unless sent with priority; one of another account or an unknown one is skipped as not_found', async () => {
      const account = await statusInbox({ csat: { enabled: false } });
      const other = await statusInbox();
      const { conversationId: closed } = await assignedToAgent(account);
      expect((await act(account, closed, 'resolve', account.keys.agent)).status).toBe(200);
      const { conversationId: open } = await customerWrites(stack, account, { customer: newCustomer() });
      const { conversationId: foreign } = await customerWrites(stack, other, { customer: newCustomer() });
      const unknown = `conv:${account.id}:wa-main:${newCustomer()}`;
      const broadcast = (priority?: boolean) =>
        stack.http.post(
          `/v1/accounts/${account.id}/broadcasts`,
          { template: { name: 'news' }, conversationIds: [closed, open, foreign, unknown], ...(priority === undefined ? {} : { priority }) },
          account.keys.service,
        );

      const plain = await broadcast();
      expect(plain.status).toBe(200);
      expect(plain.body.sent.map((s: { conversationId: string }) => s.conversationId)).toEqual([closed]);
      const skipped = Object.fromEntries(plain.body.skipped.map((s: { conversationId: string; reason: string }) => [s.conversationId, s.reason]));
      expect(skipped).toEqual({ [open]: 'conflict', [foreign]: 'not_found', [unknown]: 'not_found' });
      expect(plain.body.skipped.every((s: { message: string }) => s.message.length > 0)).toBe(true);
      expect(await view(account, closed)).toMatchObject({ status: 'closed', episode: 1 });

      const priority = await broadcast(true);
      expect(priority.body.sent.map((s: { conversationId: string }) => s.conversationId).sort()).toEqual([closed, open].sort());
      expect(priority.body.skipped.map((s: { conversationId: string; reason: string }) => [s.conversationId, s.reason]).sort()).toEqual(
        [[foreign, 'not_found'], [unknown, 'not_found']].sort(),
      );
      // The broadcast is a template in the open conversation's timeline and leaves its status alone.
      expect(await view(account, open)).toMatchObject({ status: 'open' });
      expect((await messages(account, open)).at(-1)).toMatchObject({ direction: 'outbound', kind: 'template', template: { name: 'news' } });
      expect((await messages(other, foreign)).filter((m: { direction: string }) => m.direction === 'outbound')).toEqual([]);
    });
  });

  test('the inbox lists conversations by status, in_flow included', async () => {
    const account = await statusInbox();
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    expect((await act(account, conversationId, 'flow', account.keys.service, { action: 'start' })).status).toBe(200);
    expect((await list(account, '?status=in_flow')).map((c) => c.id)).toEqual([conversationId]);
    expect(await list(account, '?status=open')).toEqual([]);
  });
});
