import type { Stack } from '../support/stack';
import { eventually } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';

/** The inbox views: pagination, channels feeding one inbox, and campaigns staying out of it. */
describe('inbox listing and campaigns', () => {
  let stack: Stack;
  let account: Account;
  const env = useStackWithAccount();
  beforeAll(() => ({ stack, account } = env));

  test('pages of a listing cover every conversation exactly once, newest activity first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) ids.push((await customerWrites(stack, account, { customer: newCustomer(), channel: i % 2 ? 'wa-sales' : 'wa-support' })).conversationId);
    const seen: { id: string; lastActivityAt: string }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await stack.http.get(`/v1/accounts/${account.id}/conversations${query}`, account.keys.agent);
      expect(res.status).toBe(200);
      seen.push(...res.body.conversations);
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen.map((c) => c.id).sort()).toEqual([...ids].sort());
    const times = seen.map((c) => c.lastActivityAt);
    expect(times).toEqual([...times].sort().reverse());
  });

  test('messages from every channel of the account land in the same inbox, filterable by channel', async () => {
    const sales = (await stack.http.get(`/v1/accounts/${account.id}/conversations?channel=wa-sales&limit=100`, account.keys.agent)).body.conversations;
    const all = (await stack.http.get(`/v1/accounts/${account.id}/conversations?limit=100`, account.keys.agent)).body.conversations;
    expect(sales.length).toBeGreaterThan(0);
    expect(sales.every((c: { channel: string }) => c.channel === 'wa-sales')).toBe(true);
    expect(new Set(all.map((c: { channel: string }) => c.channel))).toEqual(new Set(['wa-sales', 'wa-support']));
  });

  test('a campaign send creates no conversation; the customer reply opens one that keeps the campaign', async () => {
    const customer = newCustomer();
    const sent = await stack.http.post(
      `/v1/accounts/${account.id}/campaign-messages`,
      { channel: 'wa-sales', customer, campaignId: 'black-friday', template: { name: 'bf_offer', language: 'en' } },
      account.keys.service,
    );
    expect(sent.status).toBe(202);
    const conversationId = `conv:${account.id}:wa-sales:${customer}`;
    expect((await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).status).toBe(404);
    // Sent by its own workflow a moment after the 202; the channel has no configuration, so it is recorded.
    await eventually(async () => ((await stack.db.collection('outbound').countDocuments({ campaignId: 'black-friday', customer })) === 1 ? true : undefined));

    await customerWrites(stack, account, { customer, channel: 'wa-sales', text: 'tell me more', replyTo: { campaignId: 'black-friday' } });
    const view = (await stack.http.get(conversationPath(account, conversationId), account.keys.agent)).body;
    expect(view).toMatchObject({ status: 'open', campaignId: 'black-friday', episode: 1 });
    const messages = (await stack.http.get(conversationPath(account, conversationId, '/messages'), account.keys.agent)).body.messages;
    expect(messages).toHaveLength(1);
    expect(messages[0].replyTo).toEqual({ campaignId: 'black-friday' });
  });

  test('a supervisor may send a campaign; an agent may not', async () => {
    const body = { channel: 'wa-sales', customer: newCustomer(), campaignId: 'c2', template: { name: 'promo' } };
    expect((await stack.http.post(`/v1/accounts/${account.id}/campaign-messages`, body, account.keys.manager)).status).toBe(202);
    expect((await stack.http.post(`/v1/accounts/${account.id}/campaign-messages`, body, account.keys.agent)).status).toBe(403);
  });

  test('replies and templates go through the channel provider, once each', async () => {
    const { conversationId } = await customerWrites(stack, account, { customer: newCustomer() });
    await stack.http.post(conversationPath(account, conversationId, '/replies'), { text: 'on it' }, account.keys.agent);
    await stack.http.post(conversationPath(account, conversationId, '/templates'), { name: 'survey', params: ['x'] }, account.keys.agent);
    const sends = await eventually(async () => {
      const docs = await stack.db.collection('outbound').find({ conversationId }).toArray();
      return docs.length === 2 ? docs : undefined;
    });
    expect(sends.map((d) => d.kind).sort()).toEqual(['template', 'text']);
  });
});
