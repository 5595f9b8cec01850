import { randomUUID } from 'node:crypto';
import type { Role } from '../../workflows/conversation/core/lifecycle';
import type { CustomerMessagePayload } from '../../workflows/conversation/messages';
import { conversationWorkflowId, conversationWorkflowType, customerMessageSignal } from '../../workflows/conversation/messages';
import { accountIdKey } from '../../workflows/conversation/search-attributes';
import type { conversationWorkflow } from '../../workflows/conversation/workflow';
import { routerStateQuery, routerWorkflowId } from '../../workflows/routing/messages';
import type { RouterState } from '../../workflows/routing/routing';
import type { Stack, StackOptions } from './stack';
import { useStack } from './stack';
import { eventually } from './stack';

/**
 * An account with one user of each role and a service key, made through the public API, so every
 * end-to-end test starts from what a real customer of convoflow would have.
 */
export interface Account {
  id: string;
  keys: { owner: string; admin: string; manager: string; agent: string; agent2: string; service: string };
  users: { owner: string; admin: string; manager: string; agent: string; agent2: string };
}

export async function createAccount(stack: Stack, policy?: Record<string, string>): Promise<Account> {
  const id = `acct-${randomUUID().slice(0, 8)}`;
  const created = await stack.http.post('/v1/accounts', { id, name: `Account ${id}`, ...(policy ? { policy } : {}) }, stack.platformKey);
  if (created.status !== 201) throw new Error(`account not created: ${JSON.stringify(created.body)}`);
  const roles: [keyof Account['users'], Role][] = [
    ['owner', 'owner'],
    ['admin', 'admin'],
    ['manager', 'manager'],
    ['agent', 'agent'],
    ['agent2', 'agent'],
  ];
  const keys = {} as Account['keys'];
  const users = {} as Account['users'];
  for (const [name, role] of roles) {
    const res = await stack.http.post(`/v1/accounts/${id}/users`, { id: `${name}-1`, name, role }, stack.platformKey);
    if (res.status !== 201) throw new Error(`user not created: ${JSON.stringify(res.body)}`);
    keys[name] = res.body.apiKey;
    users[name] = `${name}-1`;
  }
  const service = await stack.http.post(`/v1/accounts/${id}/service-keys`, { name: 'backend' }, stack.platformKey);
  keys.service = service.body.apiKey;
  return { id, keys, users };
}

let customerCounter = 0;
export function newCustomer(): string {
  customerCounter += 1;
  return `${Date.now() % 1_000_000_000}${String(customerCounter).padStart(4, '0')}`;
}

/** Delivers a customer message and waits until the conversation view shows it. */
export async function customerWrites(
  stack: Stack,
  account: Account,
  opts: { customer: string; channel?: string; messageId?: string; text?: string; replyTo?: object; sentAt?: string },
) {
  const channel = opts.channel ?? 'wa-main';
  const messageId = opts.messageId ?? `wamid.${randomUUID()}`;
  const res = await stack.http.post(
    `/v1/accounts/${account.id}/messages`,
    { channel, customer: opts.customer, messageId, text: opts.text ?? 'hello', replyTo: opts.replyTo, sentAt: opts.sentAt },
    account.keys.service,
  );
  if (res.status !== 202) throw new Error(`message not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  const conversationId: string = res.body.conversationId;
  const recorded = await eventually(async () => {
    const msgs = await stack.http.get(`/v1/accounts/${account.id}/conversations/${conversationId}/messages?limit=500`, account.keys.agent);
    return msgs.status === 200 ? (msgs.body.messages as { messageId: string; at: string }[]).find((m) => m.messageId === messageId) : undefined;
  });
  // persist writes the timeline before the view: wait for the view too, so callers may read either.
  await eventually(async () => {
    const view = await stack.http.get(`/v1/accounts/${account.id}/conversations/${conversationId}`, account.keys.agent);
    return view.status === 200 && view.body.lastActivityAt && Date.parse(view.body.lastActivityAt) >= Date.parse(recorded.at) ? true : undefined;
  });
  return { conversationId, messageId };
}

/**
 * A history budget of 3 events: a run's first workflow task (3 events) stays within it, and the first input
 * the run decides after that takes it past. So each run continues as new right after deciding one input.
 */
const oneInputPerRun = { historyEventBudget: 3 };

/**
 * Starts a conversation whose every run continues as new after one input (see `oneInputPerRun`), the way a
 * backend service signalling Temporal directly starts one (SPEC section 5), with no policy version on the
 * message. For tests of what must hold across a run boundary (idempotency, the policy a new run loads,
 * what a continued run shows operators): since a close stays in its run, nothing else through the API
 * makes a boundary at a known moment. Then the API serves it like any other conversation.
 */
export async function customerWritesToShortRuns(stack: Stack, account: Account, opts: { customer: string; channel?: string; messageId?: string }) {
  const ref = { accountId: account.id, channel: opts.channel ?? 'wa-main', customer: opts.customer };
  const conversationId = conversationWorkflowId(ref);
  const messageId = opts.messageId ?? `wamid.${randomUUID()}`;
  await stack.client.workflow.signalWithStart<typeof conversationWorkflow, [CustomerMessagePayload]>(conversationWorkflowType, {
    workflowId: conversationId,
    taskQueue: stack.taskQueue,
    args: [{ ...ref, limits: oneInputPerRun }],
    signal: customerMessageSignal,
    signalArgs: [{ messageId, text: 'hello' }],
    typedSearchAttributes: [{ key: accountIdKey, value: account.id }],
  });
  // The first run decides the message and continues as new; the caller's next input goes to the next one.
  await runStartedAfter(stack, conversationId, (carried) => carried.version >= 1);
  return { conversationId, messageId };
}

/** Sends a customer message straight to the conversation's workflow, unstamped (no policy version), as a backend service may. */
export async function customerSignals(stack: Stack, conversationId: string, text = 'hello'): Promise<string> {
  const messageId = `wamid.${randomUUID()}`;
  await stack.client.workflow.getHandle(conversationId).signal(customerMessageSignal, { messageId, text });
  return messageId;
}

/**
 * Waits until the conversation's latest run is a continued run whose carried state passes `check`, and that
 * run has finished its first workflow task: an input sent after this lands in a later task of the run (one
 * that arrives during the first task is decided there, while the run still counts its first task's
 * history length, and would not end the run). Answers that run's id.
 */
export async function runStartedAfter(stack: Stack, conversationId: string, check: (carried: { status: string; version: number }) => boolean): Promise<string> {
  return eventually(async () => {
    const { runId } = await stack.client.workflow.getHandle(conversationId).describe();
    const events = (await stack.client.workflow.getHandle(conversationId, runId).fetchHistory()).events ?? [];
    const started = events[0]!.workflowExecutionStartedEventAttributes!;
    const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString());
    const carried = input.carriedFromPreviousRun?.state;
    const taskEvents = events.filter((e) => e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes);
    const resting = taskEvents.length > 0 && taskEvents.at(-1)!.workflowTaskCompletedEventAttributes !== undefined && taskEvents.at(-1)!.workflowTaskCompletedEventAttributes !== null;
    return carried && check(carried) && resting ? runId : undefined;
  });
}

export function conversationPath(account: Account, conversationId: string, suffix = ''): string {
  return `/v1/accounts/${account.id}/conversations/${encodeURIComponent(conversationId)}${suffix}`;
}

/** A transition as the preset tests compare them: the event log without times and actors. */
export type Transition = { from: string | null; to: string; reason: string };

/**
 * A conversation's view and events read through the API with the owner's key, and actions posted with
 * any key. Takes the `useStack()` env, whose stack is set once the file's hooks have run.
 */
export function conversationApi(env: { stack: Stack }) {
  const view = async (account: Account, id: string) => (await env.stack.http.get(conversationPath(account, id), account.keys.owner)).body;
  const act = (account: Account, id: string, action: string, key: string, body: unknown = {}) =>
    env.stack.http.post(conversationPath(account, id, `/${action}`), body, key);
  const events = async (account: Account, id: string) => (await env.stack.http.get(conversationPath(account, id, '/events'), account.keys.owner)).body.events;
  const transitions = async (account: Account, id: string): Promise<Transition[]> =>
    (await events(account, id)).map((e: Transition) => ({ from: e.from, to: e.to, reason: e.reason }));
  return { view, act, events, transitions };
}

/**
 * The usual setup of an end-to-end test file: a stack (its own task queue and database) and an
 * account made through the API, started before the file's tests and stopped after them, even when
 * they fail. Read `env.stack` and `env.account` inside tests or hooks.
 */
export function useStackWithAccount(policy?: Record<string, string>, stackOptions?: () => StackOptions): { stack: Stack; account: Account } {
  const env = useStack(stackOptions) as { stack: Stack; account: Account };
  beforeAll(async () => {
    env.account = await createAccount(env.stack, policy);
  });
  return env;
}

/**
 * Polls the account's router (routerStateQuery) until `check` holds, and returns that state. The router
 * answers from the state its last workflow task left, so a state that shows an input's effect proves the
 * router handled that input.
 */
export async function routerUntil(stack: Stack, accountId: string, check: (state: RouterState) => boolean): Promise<RouterState> {
  const handle = stack.client.workflow.getHandle(routerWorkflowId(accountId));
  return eventually(async () => {
    const state = await handle.query(routerStateQuery);
    return state && check(state) ? state : undefined;
  });
}

/**
 * Waits until the router lists every one of `conversationIds` in its queue: it has handled their route
 * requests and found nobody eligible. The fact a test of "nobody was offered it" waits for; a view still
 * `open` after a sleep proves only that routing was slow.
 */
export async function routerQueues(stack: Stack, accountId: string, conversationIds: string[]): Promise<RouterState> {
  return routerUntil(stack, accountId, (state) => conversationIds.every((id) => state.queue.some((w) => w.conversationId === id)));
}
