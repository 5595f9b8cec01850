import { mapLimit } from '../../infra/map-limit';
import { dedupeWindow } from '../../workflows/conversation/core/lifecycle';
import { conversationApi, conversationPath, customerWrites, newCustomer, useStackWithAccount } from '../support/scenario';
import { eventually } from '../support/stack';
import { loadTest } from '../support/tiers';

/**
 * Issue 24, item 10 (SPEC section 12): a customer message whose provider id was ever recorded changes
 * nothing, however late it is replayed. The window of the newest 500 ids in state is only the fast path;
 * past it the workflow asks the `messages` collection (core/dedupe.ts). Before, the first id replayed
 * after 520 later messages reopened the closed conversation (episode 3, unread 1).
 */
const env = useStackWithAccount();
const api = conversationApi(env);

/** Waits until the run has decided everything it was sent: its last workflow task after the last signal completed. */
async function settledAfterLastSignal(conversationId: string): Promise<void> {
  await eventually(async () => {
    const events = (await env.stack.client.workflow.getHandle(conversationId).fetchHistory()).events ?? [];
    const lastSignal = events.map((e) => Boolean(e.workflowExecutionSignaledEventAttributes)).lastIndexOf(true);
    const tasks = events.filter((e, i) => i > lastSignal && (e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes));
    return lastSignal >= 0 && tasks.length > 0 && tasks.at(-1)!.workflowTaskCompletedEventAttributes ? true : undefined;
  });
}

// Hundreds of messages through the API: the load tier (test/support/tiers.ts); test/unit/dedupe.test.ts is the quick proof.
loadTest(`a provider id replayed after ${dedupeWindow + 20} later messages does not reopen a closed conversation`, async () => {
  const { account } = env;
  const customer = newCustomer();
  const first = await customerWrites(env.stack, account, { customer, messageId: `wamid.first-${customer}` });
  const { conversationId } = first;
  const later = Array.from({ length: dedupeWindow + 20 }, (_, i) => `wamid.later-${customer}-${i}`);
  await mapLimit(later, 8, async (messageId) => {
    const res = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'wa-main', customer, messageId, text: 'more' }, account.keys.service);
    expect(res.status).toBe(202);
  });
  await eventually(async () => ((await api.view(account, conversationId)).inboundCount === later.length + 1 ? true : undefined), { timeoutMs: 120_000, intervalMs: 250 });
  expect((await api.act(account, conversationId, 'resolve', account.keys.admin)).status).toBe(200);
  const closed = await api.view(account, conversationId);
  expect(closed).toMatchObject({ status: 'closed', episode: 1 });

  const replayed = await env.stack.http.post(`/v1/accounts/${account.id}/messages`, { channel: 'wa-main', customer, messageId: first.messageId, text: 'hello' }, account.keys.service);
  expect(replayed.status).toBe(202);
  await settledAfterLastSignal(conversationId);

  const after = await api.view(account, conversationId);
  expect(after).toMatchObject({ status: 'closed', episode: 1, unreadCount: closed.unreadCount, inboundCount: later.length + 1, version: closed.version });
  // Nothing was recorded after the last of the later messages.
  const timeline = await env.stack.http.get(conversationPath(account, conversationId, `/messages?after=${later.length}`), account.keys.owner);
  expect(timeline.body.messages.map((m: { seq: number }) => m.seq)).toEqual([later.length + 1]);
}, 180_000);
