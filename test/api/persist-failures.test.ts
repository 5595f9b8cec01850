import { conversationWorkflowId, conversationWorkflowType, customerMessageSignal } from '../../workflows/conversation/messages';
import { conversationApi, newCustomer, useStackWithAccount } from '../support/scenario';
import { capturedLogs, eventually } from '../support/stack';

/**
 * Issue 11, item 2: a write the database will never take must not stall the conversation. The embedded
 * store (FerretDB) refuses keys with a dot. Since the field limits (issue 24, core/limits.ts) no key
 * from the API, the webhook or a signal's free-form parts reaches the store, so the refusal is provoked
 * by a backend service signalling outside the contract's types (a `replyTo` key SPEC section 5 does not
 * have): the backstop for whatever else the store may refuse. The conversation records the failure
 * where an operator sees it and goes on answering.
 */
const logs = capturedLogs();
const env = useStackWithAccount(undefined, () => ({ log: logs.logger }));
const api = conversationApi(env);

test('a batch the store refuses for good is recorded in persist_failures and the log, and the conversation goes on', async () => {
  const customer = newCustomer();
  const conversationId = conversationWorkflowId({ accountId: env.account.id, channel: 'wa-main', customer });
  await env.stack.client.workflow.signalWithStart(conversationWorkflowType, {
    workflowId: conversationId,
    taskQueue: env.stack.taskQueue,
    args: [{ accountId: env.account.id, channel: 'wa-main', customer }],
    signal: customerMessageSignal,
    signalArgs: [{ messageId: 'wamid.dotted', text: 'from an ad', replyTo: { messageId: 'wamid.ad', 'utm.source': 'summer-ad' } as { messageId: string } }],
  });

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
