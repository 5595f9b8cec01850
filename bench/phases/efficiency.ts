import { createBenchAccount, customerId, conversationId } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, sleep, waitUntil } from '../load';
import { rssMiB } from '../proc-stats';
import { collections } from '../../store/collections';
import { Ledger, checkTimelines } from '../verify';
import type { TimelineCheck } from '../verify';
import { channel, messageBody, round } from './ingest';

/**
 * 6. Efficiency: history events per inbound message (sequential messages to one conversation, from its
 * real history), history length of a conversation that received many messages (continue-as-new must
 * bound it), and the worker's resident memory with many open conversations.
 */
export interface EfficiencyResult {
  sequential: { messages: number; eventsPerMessage: number; eventTypesPerMessage: Record<string, number> };
  underLoad: { conversations: number; messages: number; eventsPerMessage: number };
  longConversation: {
    messages: number;
    seconds: number;
    runs: number;
    currentRunHistoryLength: number;
    longestRunHistoryLength: number;
    timeline: TimelineCheck;
  };
}

/** The name of an event's type, from whichever `...EventAttributes` field it carries. */
function eventTypeName(event: Record<string, unknown>): string {
  const key = Object.keys(event).find((k) => k.endsWith('EventAttributes') && event[k] != null);
  return key ? key.replace(/EventAttributes$/, '') : 'unknown';
}

export async function runEfficiency(ctx: BenchContext, loadedConversationIds: string[]): Promise<EfficiencyResult> {
  const { stack, api, sizes } = ctx;
  const account = await createBenchAccount(api.http, stack.platformKey, 'eff');
  const ledger = new Ledger();
  const c = collections(stack.db);
  const send = async (customer: string, messageId: string) => {
    ledger.attempt(messageId);
    const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customer, messageId), account.serviceKey);
    if (res.status !== 202) return `HTTP ${res.status}`;
    ledger.accept(conversationId(account.id, channel, customer), messageId);
    return true as const;
  };
  const inboundOf = (id: string) => c.messages.countDocuments({ conversationId: id, direction: 'inbound' });

  // Sequential: each message waits until the previous one is persisted, so none share a workflow task.
  const seqCustomer = customerId(7, 0);
  const seqId = conversationId(account.id, channel, seqCustomer);
  const k = sizes.sequentialMessages;
  ctx.log(`efficiency: ${k} sequential messages to one conversation, then its history`);
  // By `_id` (the one filter FerretDB answers from an index): a count would scan every message.
  const persisted = async (messageId: string) => (await c.messages.findOne({ _id: `${seqId}/${messageId}` }, { projection: { _id: 1 } })) !== null;
  await send(seqCustomer, 'seq-0');
  await waitUntil(() => persisted('seq-0'), { timeoutMs: 20_000, intervalMs: 5 });
  const handle = stack.client.workflow.getHandle(seqId);
  // The first message's view is written inside its workflow task, which completes a moment later with
  // the run's first timer and search attributes: count from when the history stops growing, or those
  // five events land in the window (they made a 50-message window read 5.1 per message).
  const settledLength = async () => {
    let last = -1;
    for (;;) {
      const length = (await handle.describe()).historyLength;
      if (length === last) return length;
      last = length;
      await sleep(200);
    }
  };
  const before = await settledLength();
  for (let i = 1; i <= k; i++) {
    await send(seqCustomer, `seq-${i}`);
    await waitUntil(() => persisted(`seq-${i}`), { timeoutMs: 20_000, intervalMs: 5 });
  }
  // The workflow task that wrote the last view completes a moment after the view is written.
  await settledLength();
  const history = await handle.fetchHistory();
  const events = (history.events ?? []) as unknown as Record<string, unknown>[];
  const added = events.slice(before);
  const types: Record<string, number> = {};
  for (const e of added) types[eventTypeName(e)] = (types[eventTypeName(e)] ?? 0) + 1;
  const perType = Object.fromEntries(Object.entries(types).map(([t, n]) => [t, round(n / k, 2)]));
  const eventsPerMessage = round(added.length / k, 2);
  ctx.log(`  ${eventsPerMessage} events per message: ${JSON.stringify(perType)}`);

  // Under load: the ingest conversations' whole histories (including their starts) over their messages.
  const sample = loadedConversationIds.slice(0, 20);
  let loadEvents = 0;
  let loadMessages = 0;
  for (const id of sample) {
    const d = await stack.client.workflow.getHandle(id).describe();
    loadEvents += d.historyLength;
    loadMessages += await c.messages.countDocuments({ conversationId: id });
  }
  if (sample.length > 0) {
    ctx.log(`  under load: ${round(loadEvents / loadMessages, 2)} events per timeline message over ${sample.length} ingest conversations (includes their starts and replies)`);
  } else ctx.log('  under load: not measured (it reads the ingest phase\'s conversations; run with --only=ingest,efficiency)');

  // One long conversation: continue-as-new must keep every run's history bounded.
  const m = sizes.longConversationMessages;
  const longCustomer = customerId(7, 1);
  const longId = conversationId(account.id, channel, longCustomer);
  ctx.log(`  ${m} messages to one conversation, 8 in flight`);
  const started = Date.now();
  await closedLoop({ concurrency: 8, count: m, durationMs: 600_000, task: (i) => send(longCustomer, `long-${i}`) });
  // Polls gently: a countDocuments every 100 ms over a growing collection is load on FerretDB itself.
  const caughtUp = await waitUntil(async () => (await inboundOf(longId)) >= m, { timeoutMs: 300_000, intervalMs: 1_000 });
  const seconds = round((Date.now() - started) / 1000);
  const current = (await stack.client.workflow.getHandle(longId).describe()).historyLength;
  let runs = 0;
  let longest = current;
  for await (const run of stack.client.workflow.list({ query: `WorkflowId = '${longId}'` })) {
    runs++;
    longest = Math.max(longest, run.historyLength ?? 0);
  }
  const timeline = await checkTimelines(stack.db, account.id, ledger);
  ctx.log(
    `  after ${m} messages (${seconds} s): ${runs} runs, current run ${current} events, longest run ${longest}; ` +
      // Not yet persisted when the wait gave up is late, not lost: say which one it is.
      (caughtUp.ok ? '' : `views NOT caught up within 300 s (${await inboundOf(longId)}/${m} persisted, counted below as lost); `) +
      `timeline lost ${timeline.lost}, duplicated ${timeline.duplicated}`,
  );
  return {
    sequential: { messages: k, eventsPerMessage, eventTypesPerMessage: perType },
    underLoad: { conversations: sample.length, messages: loadMessages, eventsPerMessage: round(loadEvents / loadMessages, 2) },
    longConversation: { messages: m, seconds, runs, currentRunHistoryLength: current, longestRunHistoryLength: longest, timeline },
  };
}

export interface MemoryPoint {
  /** The open conversations asked for; openConversations is what the time budget let the run reach. */
  target: number;
  openConversations: number;
  workerRssMiB: number[];
  apiRssMiB: number[];
  createdPerSecond: number;
}

/**
 * BENCH_OPEN_CONVERSATIONS=10000 (comma-separated for several) replaces the run's targets: the full run's
 * second target (100,000) takes the whole 20-minute budget, and one point is often all a change needs.
 */
function openConversationTargets(fromSizes: number[]): number[] {
  const raw = process.env.BENCH_OPEN_CONVERSATIONS;
  if (raw === undefined || raw.trim() === '') return fromSizes;
  const targets = raw.split(',').map((t) => Number(t.trim()));
  if (targets.some((t) => !Number.isInteger(t) || t <= 0)) throw new Error(`BENCH_OPEN_CONVERSATIONS: expected positive integers, got ${raw}`);
  return targets;
}

/**
 * Opens new conversations (one message each) until the stack holds each target, then reads VmRSS. The
 * opening stops at `sizes.memoryBudgetMs` for the whole phase: the point then says how many it reached.
 */
export async function runOpenConversationMemory(ctx: BenchContext, excludeAccounts: string[]): Promise<MemoryPoint[]> {
  const { stack, api, sizes } = ctx;
  const account = await createBenchAccount(api.http, stack.platformKey, 'rss');
  const c = collections(stack.db);
  const openNow = () => c.conversations.countDocuments({ status: { $in: ['open', 'assigned'] }, accountId: { $nin: excludeAccounts } });
  const points: MemoryPoint[] = [];
  let next = 0;
  const budgetEnds = Date.now() + sizes.memoryBudgetMs;
  ctx.log(`memory: before opening, worker RSS ${stack.workers.map((w) => rssMiB(w.pid)).join(', ')} MiB`);
  for (const target of openConversationTargets(sizes.openConversationTargets)) {
    if (Date.now() >= budgetEnds) break;
    const have = await openNow();
    const need = Math.max(0, target - have);
    ctx.log(`memory: opening ${need} more conversations to reach ${target} open`);
    const started = Date.now();
    const first = next;
    const load = await closedLoop({
      concurrency: sizes.concurrency,
      count: need,
      durationMs: Math.max(0, budgetEnds - Date.now()),
      onProgress: (done, ms) => ctx.log(`  ${done} of ${need} in ${(ms / 1000).toFixed(0)} s`),
      task: async (i) => {
        const customer = customerId(8, first + i);
        const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customer, `rss-${first + i}`), account.serviceKey);
        return res.status === 202 ? true : `HTTP ${res.status}`;
      },
    });
    next += need;
    const reached = await waitUntil(async () => (await openNow()) >= have + load.ok, { timeoutMs: ctx.quick ? 60_000 : 600_000, intervalMs: 500 });
    if (!reached.ok) ctx.log(`  the views of the new conversations did not all appear in time: ${await openNow()} open`);
    const createdPerSecond = round(need / ((Date.now() - started) / 1000));
    await new Promise((r) => setTimeout(r, 2_000));
    const point: MemoryPoint = {
      target,
      openConversations: await openNow(),
      workerRssMiB: stack.workers.map((w) => rssMiB(w.pid)),
      apiRssMiB: stack.apis.map((a) => rssMiB(a.proc.pid)),
      createdPerSecond,
    };
    points.push(point);
    ctx.log(`  ${point.openConversations} open: worker RSS ${point.workerRssMiB.join(', ')} MiB, API RSS ${point.apiRssMiB.join(', ')} MiB (${createdPerSecond} new conversations/s)`);
  }
  return points;
}
