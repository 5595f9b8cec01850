import { randomUUID } from 'node:crypto';
// Only the Temporal client and the names of SPEC section 5: nothing here imports the project's
// workflows/, the way a backend service in another repository (or language) would talk to convoflow.
import { Client, Connection } from '@temporalio/client';
import type { Stack } from '../support/stack';
import { eventually, startStack } from '../support/stack';
import type { Account } from '../support/scenario';
import { conversationPath, createAccount } from '../support/scenario';
import { testServers } from '../support/test-servers';

describe('a backend service signalling through Temporal directly', () => {
  let stack: Stack;
  let account: Account;
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    stack = await startStack();
    account = await createAccount(stack);
    connection = await Connection.connect({ address: testServers().temporalAddress });
    client = new Client({ connection, namespace: 'default' });
  });
  afterAll(async () => {
    await connection?.close();
    await stack?.stop();
  });

  test('signal-with-start by the public names opens a conversation that the API shows and Temporal lists by its search attributes', async () => {
    const channel = 'wa-backend';
    const customer = `49151${Date.now() % 1_000_000}`;
    const workflowId = `conv:${account.id}:${channel}:${customer}`;
    const messageId = `wamid.${randomUUID()}`;
    const sentAt = new Date(Date.now() - 2_000).toISOString(); // the provider's time, a moment before delivery

    await client.workflow.signalWithStart('conversationWorkflow', {
      workflowId,
      taskQueue: stack.taskQueue,
      args: [{ accountId: account.id, channel, customer }],
      signal: 'customerMessage',
      signalArgs: [{ messageId, text: 'Hello from the backend', sentAt }],
    });

    // The conversation id of the HTTP API is the workflow id.
    const view = await eventually(async () => {
      const res = await stack.http.get(conversationPath(account, workflowId), account.keys.agent);
      return res.status === 200 ? res.body : undefined;
    });
    expect(view).toMatchObject({ id: workflowId, accountId: account.id, channel, customer, status: 'open', episode: 1, unreadCount: 1 });
    expect(view.lastCustomerMessageAt).toBe(sentAt);

    const messages = await stack.http.get(conversationPath(account, workflowId, '/messages'), account.keys.agent);
    expect(messages.status).toBe(200);
    expect(messages.body.messages).toEqual([expect.objectContaining({ messageId, text: 'Hello from the backend', direction: 'inbound' })]);

    // Visibility is eventually consistent: poll until the listing by search attributes shows it.
    const query = `ConversationStatus = 'open' AND AccountId = '${account.id}'`;
    const listed = await eventually(async () => {
      const ids: string[] = [];
      for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
      return ids.includes(workflowId) ? ids : undefined;
    });
    expect(listed).toEqual([workflowId]);
  });
});
