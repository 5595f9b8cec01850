import { conversationApi, customerWrites, customerWritesToShortRuns, newCustomer, runStartedAfter, useStackWithAccount } from '../support/scenario';
import { capturedLogs, eventually } from '../support/stack';

/**
 * What an operator sees (issue 11, items 7 and 9): refused signals and refused actions leave a log line
 * naming the conversation and the reason; every run of a conversation describes itself in the Web UI,
 * its input is named as carried from the previous run, and its timers say what they wait for.
 */
const logs = capturedLogs();
const env = useStackWithAccount(undefined, () => ({ log: logs.logger }));
const api = conversationApi(env);

const logged = (msg: string, conversationId: string) =>
  eventually(async () => logs.records().find((l) => l.msg === msg && l.conversationId === conversationId));

test('a signal the rules reject is logged by the worker with the conversation, the input and the reason', async () => {
  const customer = newCustomer();
  const { conversationId } = await customerWrites(env.stack, env.account, { customer });
  // No survey is waiting for an answer: the rules refuse the score.
  const res = await env.stack.http.post(`/v1/accounts/${env.account.id}/customer-events`, { channel: 'wa-main', customer, type: 'csat', score: 4 }, env.account.keys.service);
  expect(res.status).toBe(202);
  expect(await logged('signal rejected by the lifecycle rules', conversationId)).toMatchObject({ input: 'csatAnswer', code: 'conflict', actor: 'customer' });
});

test('an action the rules refuse is logged by the API with the conversation, the action, who and the code', async () => {
  const { conversationId } = await customerWrites(env.stack, env.account, { customer: newCustomer() });
  expect((await api.act(env.account, conversationId, 'assign', env.account.keys.agent, { assigneeId: env.account.users.agent })).status).toBe(200);
  const refused = await api.act(env.account, conversationId, 'replies', env.account.keys.agent2, { text: 'mine?' });
  expect(refused.status).toBe(403);
  expect(await logged('action rejected', conversationId)).toMatchObject({ action: 'reply', userId: env.account.users.agent2, code: 'not_assignee' });
});

test('a continued run is described from its first task, names its input as carried, and its timers say what they wait for', async () => {
  const customer = newCustomer();
  // Every run of this conversation continues as new after deciding one input.
  const { conversationId } = await customerWritesToShortRuns(env.stack, env.account, { customer });
  expect((await api.act(env.account, conversationId, 'assign', env.account.keys.agent, { assigneeId: env.account.users.agent })).status).toBe(200);
  const continued = await runStartedAfter(env.stack, conversationId, (carried) => carried.status === 'assigned');
  const run = env.stack.client.workflow.getHandle(conversationId, continued);
  const metadata = await eventually(async () => {
    const m = (await run.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    return m.currentDetails ? m : undefined;
  });
  expect(metadata.currentDetails).toContain('**assigned**');

  // Continue-as-new cannot carry a static summary; the run's memo says what it is.
  expect((await run.describe()).memo).toMatchObject({ summary: expect.stringContaining(`Conversation with ${customer}`) });
  const started = (await run.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!;
  const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString());
  expect(Object.keys(input)).toContain('carriedFromPreviousRun');
  expect(Object.keys(input)).not.toContain('carried');

  // The run's first task arms a wake-up at the window's end: a timer whose summary says what it waits for.
  const timers = await eventually(async () => {
    const events = (await run.fetchHistory()).events ?? [];
    const started = events.filter((e) => e.timerStartedEventAttributes);
    return started.length > 0 ? started : undefined;
  });
  const summary = timers[0]!.userMetadata?.summary?.data;
  expect(summary && Buffer.from(summary).toString()).toMatch(/wake-up at \d{4}-\d{2}-\d{2}T[\d:.]+Z, armed for: window closes/);
});
