import { createBenchAccount, conversationPath, customerId, conversationId } from '../accounts';
import type { BenchContext } from '../context';
import { mapLimit, sleep, summarize, waitUntil } from '../load';
import { retrying } from '../http-client';
import { cpuWindow, formatCpu } from '../proc-stats';
import type { CpuShare } from '../proc-stats';
import type { LatencySummary } from '../load';
import { collections } from '../../store/collections';
import { parseDuration } from '../../workflows/conversation/core/durations';
import { Ledger, checkViews, waitForInbound } from '../verify';
import type { ViewCheck } from '../verify';
import { channel, messageBody } from './ingest';
import { noopTimerWorkflow } from '../noop-workflows';

/**
 * 5. Timers: N assigned conversations whose auto-close deadlines fall in the same millisecond. The deadline
 * is the later of the last customer message and the assignment, plus autoCloseAfter; so after assigning
 * them all, each gets one more customer message stamped with the same `sentAt` (a moment after the last
 * assignment), which lines every deadline up exactly. Lateness is closedAt - deadline, from the views.
 *
 * The baseline, measured first on the same servers: N bare workflows on the no-op worker whose timers
 * fire at the same instant and that then run one local activity and complete. Their lateness is the
 * workflow's clock in the task the timer woke, minus the deadline: the same measure as a conversation's
 * closedAt (the workflow's clock in the task that decided the close).
 */
export interface BareTimersResult {
  workflows: number;
  /** Workflows whose timer task ran (their result came back). */
  fired: number;
  latenessMs: LatencySummary;
  /** From the deadline until the last local activity had run. */
  allDoneAfterMs: number;
  /** CPU per process from the deadline until every workflow completed. */
  cpu: CpuShare;
}

export interface TimersResult {
  conversations: number;
  autoCloseAfter: string;
  /** Views whose autoCloseAt was exactly the shared deadline before it fell due. */
  aligned: number;
  closed: number;
  closedByInactivity: number;
  latenessMs: LatencySummary;
  /** From the deadline until the last conversation's closedAt. */
  allClosedAfterMs: number;
  /** From the deadline until the bench saw every view closed through MongoDB. */
  allViewsClosedAfterMs: number;
  views: ViewCheck;
  /** CPU per process from the deadline until every view was closed. */
  cpu: CpuShare;
  /** The same burst of bare timers (same N), measured in the same run just before. */
  baseline?: BareTimersResult;
  /** Our lateness p99 over the bare timers' p99; the goal is at most 1.5. */
  ratioP99?: number;
}

/** The goal of issue 13, item 2: every conversation closed, and close lateness p99 ≤ 1.5 × the bare timers'. */
export function timersGoalMet(t: TimersResult): boolean {
  return t.closed === t.conversations && t.ratioP99 !== undefined && t.ratioP99 <= 1.5;
}

/** The baseline: N bare timers with one shared deadline on the no-op worker, each followed by a local activity. */
export async function runBareTimers(ctx: BenchContext, n: number): Promise<BareTimersResult> {
  const { stack } = ctx;
  const tag = Math.random().toString(36).slice(2, 8);
  const ids = Array.from({ length: n }, (_, i) => `noop-timer-${tag}-${i}`);
  // Enough lead to start them all (each start also runs the workflow's first task) before it falls, on a
  // busy machine too (5 s was not enough for 100 at load average 8); the lead changes nothing after it.
  const deadline = Date.now() + Math.max(10_000, n * 50);
  ctx.log(`timers baseline: ${n} bare timers on the no-op worker, all due at ${new Date(deadline).toISOString()}`);
  await mapLimit(ids, ctx.sizes.concurrency, (workflowId) =>
    stack.client.workflow.start(noopTimerWorkflow, { workflowId, taskQueue: ctx.noopQueue, args: [deadline] }),
  );
  if (Date.now() > deadline - 1_000) throw new Error(`timers baseline: starting ${n} workflows took longer than the lead given to them`);
  await sleep(Math.max(0, deadline - Date.now()));
  const cpuEnd = cpuWindow(stack.pids());
  const results = await mapLimit(ids, ctx.sizes.concurrency, (workflowId) =>
    stack.client.workflow
      .getHandle<typeof noopTimerWorkflow>(workflowId)
      .result()
      .catch(() => undefined),
  );
  const cpu = cpuEnd();
  const done = results.filter((r) => r !== undefined);
  const latenessMs = summarize(done.map((r) => r.firedAt - deadline));
  const result: BareTimersResult = {
    workflows: n,
    fired: done.length,
    latenessMs,
    allDoneAfterMs: Math.max(...done.map((r) => r.doneAt - deadline)),
    cpu,
  };
  ctx.log(
    `  ${done.length} fired; lateness p50 ${latenessMs.p50} p99 ${latenessMs.p99} max ${latenessMs.max} ms; ` +
      `last local activity done ${result.allDoneAfterMs} ms after the deadline; CPU: ${formatCpu(cpu)}`,
  );
  return result;
}

/** While the scene is built: long enough that no conversation closes before its deadline is lined up. */
const setupAutoClose = '6h';

/**
 * Builds the scene and checks that it holds before anything is measured: `n` conversations open,
 * assigned, and with one shared auto-close deadline. The account's autoCloseAfter is long while the
 * conversations are opened and assigned (on a busy machine that takes longer than a short
 * autoCloseAfter, and a conversation that closed then was reopened by the aligning message as a new,
 * unassigned episode), then set to the measured one (each input carries the account's policy version,
 * so the aligning message decides with it). The measured autoCloseAfter is the configured one, or four
 * times what opening the conversations took when that is longer, so the aligning messages land before
 * the deadline. A scene that does not hold fails the phase saying what was wrong.
 */
export async function runTimers(ctx: BenchContext): Promise<{ result: TimersResult; ledger: Ledger; accountId: string }> {
  const { stack, api, sizes } = ctx;
  const n = sizes.timerConversations;
  // First, on servers that have nothing else to do, as ours will have.
  const baseline = await runBareTimers(ctx, n);
  const account = await createBenchAccount(api.http, stack.platformKey, 'timers', { autoCloseAfter: setupAutoClose });
  const ledger = new Ledger();
  const customers = Array.from({ length: n }, (_, i) => customerId(5, i));
  const ids = customers.map((c) => conversationId(account.id, channel, c));
  ctx.log(`timers: ${n} conversations; open and assign them (autoCloseAfter ${setupAutoClose} meanwhile), then line the deadlines up`);

  const send = async (i: number, messageId: string, sentAt?: string) => {
    ledger.attempt(messageId);
    const body = { ...messageBody(customers[i]!, messageId), ...(sentAt ? { sentAt } : {}) };
    await retrying('timers: message not accepted', () => api.http.post(`/v1/accounts/${account.id}/messages`, body, account.serviceKey), 202);
    ledger.accept(ids[i]!, messageId);
  };
  const openedFrom = Date.now();
  await mapLimit(customers, sizes.concurrency, (_, i) => send(i, `t-open-${i}`));
  await waitForInbound(stack.db, account.id, n, 60_000);
  const openMs = Date.now() - openedFrom;
  await mapLimit(ids, sizes.concurrency, async (id) => {
    // Replies carry an Idempotency-Key, so a retried one that had landed is not recorded twice.
    await retrying('timers: reply failed', () => api.http.request('POST', conversationPath(account.id, id, '/replies'), account.agentKey, { text: 'on it' }, 30_000, { 'idempotency-key': `assign-${id}` }), 200);
    ledger.reply(id);
  });
  const c = collections(stack.db).conversations;
  const assigned = await c.countDocuments({ accountId: account.id, status: 'assigned', assigneeId: account.agentId });
  if (assigned < n) throw new Error(`timers: the scene did not hold: ${assigned} of ${n} conversations assigned after the replies`);

  const autoCloseAfter = `${Math.max(parseDuration(sizes.timerAutoClose)!, Math.ceil((4 * openMs) / 1000) * 1000) / 1000}s`;
  const autoCloseMs = parseDuration(autoCloseAfter)!;
  const patched = await api.http.request('PATCH', `/v1/accounts/${account.id}/policy`, stack.platformKey, { autoCloseAfter });
  if (patched.status !== 200) throw new Error(`timers: autoCloseAfter not set: ${patched.status} ${JSON.stringify(patched.body)}`);
  // The change is told to the open conversations in the background: let that finish before the
  // deadlines are set, so its signals are not part of the burst measured.
  await stack.client.workflow.getHandle(patched.body.propagation.workflowId as string).result();
  ctx.log(`  ${n} open and assigned (opening took ${openMs} ms); autoCloseAfter now ${autoCloseAfter}`);
  const lastCustomerMessageAt = Date.now();
  const deadline = lastCustomerMessageAt + autoCloseMs;
  const sentAt = new Date(lastCustomerMessageAt).toISOString();
  await mapLimit(customers, sizes.concurrency, (_, i) => send(i, `t-align-${i}`, sentAt));
  if (Date.now() > deadline) {
    throw new Error(`timers: delivering the aligning messages took longer than autoCloseAfter (${autoCloseAfter}); the deadlines fell while they were sent`);
  }
  await waitForInbound(stack.db, account.id, 2 * n, 60_000);
  const deadlineIso = new Date(deadline).toISOString();
  // The messages are written a moment before their views: wait for the views to line up too.
  let aligned = 0;
  await waitUntil(async () => (aligned = await c.countDocuments({ accountId: account.id, status: 'assigned', autoCloseAt: deadlineIso })) >= n, {
    timeoutMs: Math.max(0, deadline - Date.now() - 500),
  });
  ctx.log(`  ${aligned} of ${n} deadlines at ${deadlineIso} (${deadline - Date.now()} ms from now)`);
  if (aligned < n) {
    const odd = await c.find({ accountId: account.id, autoCloseAt: { $ne: deadlineIso } }, { projection: { status: 1, assigneeId: 1, autoCloseAt: 1, version: 1, lastActivityAt: 1 } }).limit(3).toArray();
    throw new Error(`timers: the scene did not hold: ${aligned} of ${n} deadlines lined up before they fell (not lined up, e.g.: ${JSON.stringify(odd)})`);
  }

  // Nothing to poll before the deadline; from it on, which process works through the closes.
  await sleep(Math.max(0, deadline - Date.now()));
  const cpuEnd = cpuWindow(stack.pids());
  const allClosed = await waitUntil(async () => (await c.countDocuments({ accountId: account.id, status: 'closed' })) >= n, {
    timeoutMs: deadline - Date.now() + 120_000,
    intervalMs: 50,
  });
  const cpu = cpuEnd();
  const views = await c.find({ accountId: account.id }, { projection: { status: 1, closedAt: 1, closedReason: 1 } }).toArray();
  // Every view against its workflow's state: a conversation that did not close is either a deadline the
  // workflow missed or a view that missed the close; this says which.
  const viewCheck = await checkViews(stack.client, stack.db, ids);
  if (viewCheck.mismatched + viewCheck.unreachable > 0) ctx.log(`  views that differ from their workflow: ${viewCheck.examples.join('; ')}`);
  const closed = views.filter((v) => v.status === 'closed' && v.closedAt);
  const lateness = closed.map((v) => Date.parse(v.closedAt!) - deadline);
  const latenessMs = summarize(lateness);
  const result: TimersResult = {
    conversations: n,
    autoCloseAfter,
    aligned,
    closed: closed.length,
    closedByInactivity: closed.filter((v) => v.closedReason === 'inactivity').length,
    latenessMs,
    allClosedAfterMs: Math.max(...lateness),
    allViewsClosedAfterMs: allClosed.at - deadline,
    views: viewCheck,
    cpu,
    baseline,
    ratioP99: baseline.latenessMs.p99 > 0 ? Math.round((latenessMs.p99 / baseline.latenessMs.p99) * 100) / 100 : undefined,
  };
  ctx.log(
    `  ${closed.length} closed (${result.closedByInactivity} by inactivity); lateness p50 ${latenessMs.p50} p99 ${latenessMs.p99} max ${latenessMs.max} ms; ` +
      `all views closed ${result.allViewsClosedAfterMs} ms after the deadline; CPU: ${formatCpu(cpu)}`,
  );
  ctx.log(`  p99 against the bare timers' ${baseline.latenessMs.p99} ms: ${result.ratioP99 ?? '—'}× (goal ≤ 1.5×)`);
  return { result, ledger, accountId: account.id };
}
