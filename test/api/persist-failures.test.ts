import { conversationApi, newCustomer, useStackWithAccount } from '../support/scenario';
import { capturedLogs, eventually } from '../support/stack';

/**
 * Issue 11, item 2: a write the database will never take must not stall the conversation. The embedded
 * store (FerretDB) refuses keys with a dot, so a customer message whose attributes carry one
 * (`utm.source`, which the API accepts and MongoDB would store) cannot be recorded there. The
 * conversation records the failure where an operator sees it and goes on answering.
 */
const logs = capturedLogs();
const env = useStackWithAccount(undefined, () => ({ log: logs.logger }));
const api = conversationApi(env);

test('a batch the store refuses for good is recorded in persist_failures and the log, and the conversation goes on', async () => {
  const customer = newCustomer();
  const sent = await env.stack.http.post(
    `/v1/accounts/${env.account.id}/messages`,
    { channel: 'wa-main', customer, messageId: 'wamid.dotted', text: 'from an ad', attributes: { 'utm.source': 'summer-ad' } },
    env.account.keys.service,
  );
  expect(sent.status).toBe(202);
  const conversationId: string = sent.body.conversationId;

  const failure = await eventually(async () => (await env.stack.db.collection('persist_failures').findOne({ conversationId })) ?? undefined);
  expect(failure).toMatchObject({ accountId: env.account.id, version: 1, messageIds: ['wamid.dotted'], eventSeqs: [1] });
  expect(failure.error).toMatch(/messages: .*utm\.source/);
  const line = logs.records().find((l) => l.conversationId === conversationId && l.level === 50);
  expect(line).toMatchObject({ msg: expect.stringContaining('refused by the database'), version: 1 });

  // What could be written was: the view and the transition. The conversation answers actions at once.
  expect(await api.view(env.account, conversationId)).toMatchObject({ status: 'open', unreadCount: 1 });
  const reply = await api.act(env.account, conversationId, 'replies', env.account.keys.agent, { text: 'Hello!' });
  expect(reply.status).toBe(200);
  expect(reply.body.conversation).toMatchObject({ status: 'assigned', assigneeId: env.account.users.agent });
  const timeline = (await env.stack.http.get(`/v1/accounts/${env.account.id}/conversations/${conversationId}/messages`, env.account.keys.agent)).body.messages;
  expect(timeline.map((m: { messageId: string }) => m.messageId)).toEqual([reply.body.messageId]);
});
