import type { AccountDoc } from '../../store/collections';
import { conversationQuery } from '../../workflows/conversation/messages';
import type { Policy } from '../../workflows/conversation/core/policy';
import { applyPolicyPatch } from '../../workflows/conversation/core/policy';
import type { Account } from '../support/scenario';
import { conversationApi, createAccount, customerSignals, customerWrites, customerWritesToShortRuns, newCustomer, runStartedAfter } from '../support/scenario';
import { eventually, useStack } from '../support/stack';

/**
 * Issue 11, item 5: a policy change converges even when its `policyChanged` signal never arrives. The
 * change is written straight to MongoDB here, as if the API stored it and died before signalling; every
 * conversation still applies it: at its next customer message, at its next action, and when a run starts
 * from a carried state (on its history budget; a close no longer ends a run).
 */
const env = useStack();
const api = conversationApi(env);
let account: Account;
const hour = 3_600_000;

beforeAll(async () => {
  account = await createAccount(env.stack);
});

/** A one-hour window instead of 24 hours, stored without any signal to the conversations. */
async function changePolicySilently(): Promise<Policy> {
  const accounts = env.stack.db.collection<AccountDoc>('accounts');
  const stored = (await accounts.findOne({ _id: account.id }))!;
  const next = applyPolicyPatch(stored.policy, { serviceWindow: '1h' });
  await accounts.updateOne({ _id: account.id }, { $set: { policy: next } });
  return next;
}

const windowOf = (view: { lastCustomerMessageAt: string; windowExpiresAt: string }) => Date.parse(view.windowExpiresAt) - Date.parse(view.lastCustomerMessageAt);

test('a conversation that missed the signal applies the stored policy at its next customer message, action, or run', async () => {
  const byMessage = await customerWrites(env.stack, account, { customer: newCustomer() });
  const byAction = await customerWrites(env.stack, account, { customer: newCustomer() });
  // Its runs each continue as new after deciding one input (see customerWritesToShortRuns).
  const byRun = await customerWritesToShortRuns(env.stack, account, { customer: newCustomer() });
  expect(windowOf(await api.view(account, byMessage.conversationId))).toBe(24 * hour);

  const policy = await changePolicySilently();
  // Until something happens to it, a conversation knows only what it was told.
  expect(windowOf(await api.view(account, byMessage.conversationId))).toBe(24 * hour);
  // The API reads the stored version at most once a second per account: wait until it stamps the new one.
  await eventually(async () => ((await env.stack.apiDeps.policyVersions.versionOf(account.id)) === policy.version ? true : undefined));

  // 1. The customer writes again.
  const customer = (await api.view(account, byMessage.conversationId)).customer;
  await customerWrites(env.stack, account, { customer });
  expect(windowOf(await api.view(account, byMessage.conversationId))).toBe(hour);

  // 2. An agent acts.
  expect((await api.act(account, byAction.conversationId, 'assign', account.keys.agent, { assigneeId: account.users.agent })).status).toBe(200);
  expect(windowOf(await api.view(account, byAction.conversationId))).toBe(hour);

  // 3. A run starts from a carried state: it reads the stored policy. The customer's message comes
  // straight from a backend service, with no policy version on it, so only the new run can tell.
  const carriedVersion = (await api.view(account, byRun.conversationId)).version;
  await customerSignals(env.stack, byRun.conversationId);
  await runStartedAfter(env.stack, byRun.conversationId, (carried) => carried.version > carriedVersion);
  const view = await eventually(async () => {
    const v = await env.stack.client.workflow.getHandle(byRun.conversationId).query(conversationQuery);
    return windowOf(v as never) === hour ? v : undefined;
  });
  expect(view.status).toBe('open');
  expect(policy.serviceWindowMs).toBe(hour);
});
