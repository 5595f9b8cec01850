import { conversationPath, conversationApi, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import { eventually } from '../support/stack';

/**
 * Issue 24, item 4 (SPEC section 12): a conversation whose workflow run was terminated (an operator's
 * `temporal workflow terminate`, or a run that failed) continues from its stored views at its next input:
 * its next run reads what the store knows, so no message or event id is reused and the view keeps moving.
 * Before, the next customer message signal-with-started a run from nothing: seqs restarted, a reply got
 * `out-2` again (never sent nor shown), and a closed conversation's view stayed closed at its old version.
 */
const env = useStackWithAccount();
const api = conversationApi(env);

async function terminate(conversationId: string): Promise<void> {
  const handle = env.stack.client.workflow.getHandle(conversationId);
  await handle.terminate('test: an operator terminated the run');
  await eventually(async () => ((await handle.describe()).status.name === 'TERMINATED' ? true : undefined));
}

const timeline = async (conversationId: string) =>
  (await env.stack.http.get(conversationPath(env.account, conversationId, '/messages?limit=500'), env.account.keys.owner)).body.messages as {
    seq: number;
    messageId: string;
    direction: string;
    delivery: { status: string } | null;
  }[];

test('after a terminated run, seqs continue, a reply gets a fresh id and is sent and shown', async () => {
  const { account } = env;
  const customer = newCustomer();
  const { conversationId } = await customerWrites(env.stack, account, { customer });
  const first = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'first answer' });
  expect(first.status).toBe(200);
  await eventually(async () => ((await timeline(conversationId)).at(-1)?.delivery?.status === 'sent' ? true : undefined));
  const before = await api.view(account, conversationId);

  await terminate(conversationId);
  const { messageId } = await customerWrites(env.stack, account, { customer, text: 'still there?' });
  const reply = await api.act(account, conversationId, 'replies', account.keys.agent, { text: 'second answer' });
  expect(reply.status).toBe(200);
  expect(reply.body.messageId).not.toBe(first.body.messageId);

  const messages = await eventually(async () => {
    const all = await timeline(conversationId);
    return all.length === 4 && all.at(-1)!.delivery?.status === 'sent' ? all : undefined;
  });
  expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  expect(messages.map((m) => m.direction)).toEqual(['inbound', 'outbound', 'inbound', 'outbound']);
  expect(messages[2]!.messageId).toBe(messageId);
  expect(messages[3]!.messageId).toBe(reply.body.messageId);
  const after = await api.view(account, conversationId);
  expect(after.version).toBeGreaterThan(before.version);
  expect(after).toMatchObject({ status: 'assigned', assigneeId: account.users.agent, episode: 1, unreadCount: 0, inboundCount: 2 });
  expect(reply.body.conversation.version).toBeGreaterThan(before.version);
});

test('a closed conversation whose run was terminated opens a new episode at the next customer message', async () => {
  const { account } = env;
  const customer = newCustomer();
  const { conversationId } = await customerWrites(env.stack, account, { customer });
  expect((await api.act(account, conversationId, 'resolve', account.keys.admin)).status).toBe(200);
  const closed = await api.view(account, conversationId);
  expect(closed).toMatchObject({ status: 'closed', episode: 1 });
  const eventsBefore = await api.events(account, conversationId);

  await terminate(conversationId);
  await customerWrites(env.stack, account, { customer, text: 'back again' });

  const view = await eventually(async () => {
    const v = await api.view(account, conversationId);
    return v.status === 'open' ? v : undefined;
  });
  expect(view.episode).toBe(2);
  expect(view.version).toBeGreaterThan(closed.version);
  expect(view.inboundCount).toBe(2);
  const events = await api.events(account, conversationId);
  expect(events.length).toBe(eventsBefore.length + 1);
  expect(events.at(-1)).toMatchObject({ from: 'closed', to: 'open', reason: 'customer_message', episode: 2 });
  expect(new Set(events.map((e: { seq: number }) => e.seq)).size).toBe(events.length);
  expect((await timeline(conversationId)).map((m) => m.seq)).toEqual([1, 2]);
});
