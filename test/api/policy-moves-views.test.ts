import type { Account } from '../support/scenario';
import { conversationApi, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import { SseClient } from '../support/sse-client';
import { eventually } from '../support/stack';

/**
 * Issue 22, item 2: a policy change that moves a deadline of a running conversation moves its stored
 * view too (a new version), and the account's stream carries it. Before, the workflow's query had the new
 * window expiry while the view in MongoDB kept the old one at the same version until the next input.
 */
const env = useStackWithAccount({ serviceWindow: '1h', autoCloseAfter: '2h' });
const api = conversationApi(env);
const hour = 3_600_000;

const after = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

async function openStream(account: Account): Promise<SseClient> {
  const client = await SseClient.open(`${env.stack.baseUrl}/v1/accounts/${account.id}/stream`, { authorization: `Bearer ${account.keys.agent}` });
  await client.next((e) => e.type === 'ready');
  return client;
}

test('lengthening the service window and the auto-close moves the stored views to a new version, and the stream carries them', async () => {
  const { account } = env;
  const open = await customerWrites(env.stack, account, { customer: newCustomer() });
  const assigned = await customerWrites(env.stack, account, { customer: newCustomer() });
  expect((await api.act(account, assigned.conversationId, 'assign', account.keys.agent, { assigneeId: account.users.agent })).status).toBe(200);
  const before = { open: await api.view(account, open.conversationId), assigned: await api.view(account, assigned.conversationId) };
  expect(before.open.windowExpiresAt).toBe(after(before.open.lastCustomerMessageAt, hour));
  expect(before.assigned.autoCloseAt).not.toBeNull();

  const stream = await openStream(account);
  try {
    const changed = await env.stack.http.patch(`/v1/accounts/${account.id}/policy`, { serviceWindow: '24h', autoCloseAfter: '3h' }, account.keys.owner);
    expect(changed.status).toBe(200);

    // The stored views follow without any further input: a new window end, a new auto-close, a new version.
    const wantedWindow = after(before.open.lastCustomerMessageAt, 24 * hour);
    const openView = await eventually(async () => {
      const v = await api.view(account, open.conversationId);
      return v.windowExpiresAt === wantedWindow ? v : undefined;
    });
    expect(openView.version).toBeGreaterThan(before.open.version);
    expect(openView.status).toBe('open');

    const wantedAutoClose = after(before.assigned.autoCloseAt, hour);
    const assignedView = await eventually(async () => {
      const v = await api.view(account, assigned.conversationId);
      return v.autoCloseAt === wantedAutoClose ? v : undefined;
    });
    expect(assignedView.version).toBeGreaterThan(before.assigned.version);
    expect(assignedView.windowExpiresAt).toBe(after(before.assigned.lastCustomerMessageAt, 24 * hour));

    // The stream carried each change as a `conversation` event, with the same version the view has.
    const streamed = await stream.next((e) => e.type === 'conversation' && e.data.id === open.conversationId && e.data.windowExpiresAt === wantedWindow);
    expect(streamed.data.version).toBe(openView.version);
    stream.rewind();
    const streamedAssigned = await stream.next((e) => e.type === 'conversation' && e.data.id === assigned.conversationId && e.data.autoCloseAt === wantedAutoClose);
    expect(streamedAssigned.data.version).toBe(assignedView.version);
  } finally {
    stream.close();
  }
});

test('a policy change that moves nothing a view shows writes no new version', async () => {
  const { account } = env;
  const { conversationId } = await customerWrites(env.stack, account, { customer: newCustomer() });
  const before = await api.view(account, conversationId);
  // Locking tags on close changes nothing an open conversation's view shows.
  expect((await env.stack.http.patch(`/v1/accounts/${account.id}/policy`, { lockTagsOnClose: true }, account.keys.owner)).status).toBe(200);
  // A probe whose effect shows: the customer writes again, so the next version is that message's.
  const customer = before.customer as string;
  await customerWrites(env.stack, account, { customer });
  const afterProbe = await api.view(account, conversationId);
  expect(afterProbe.version).toBe(before.version + 1);
  expect(afterProbe.unreadCount).toBe(before.unreadCount + 1);
});
