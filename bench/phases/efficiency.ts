import os from 'node:os';
import { createBenchAccount, customerId, conversationId, conversationPath } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, sleep, summarize, waitUntil } from '../load';
import type { LatencySummary } from '../load';
import { cpuSeconds, rssMiB } from '../proc-stats';
import { collections } from '../../store/collections';
import { Ledger, checkTimelines } from '../verify';
import type { TimelineCheck } from '../verify';
import { channel, messageBody, round } from './ingest';

/**
 * 6. Efficiency: history events per inbound message (sequential messages to one conversation, from its
 * real history), history length of a conversation that received many messages (continue-as-new must
 * bound it), the worker's resident memory with many open conversations, and what a conversation that is
 * not in the worker's cache costs at its next input.
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
 * BENCH_OPEN_CONVERSATIONS=10000 (comma-separated for several) replaces the run's targets, with a budget
 * of 20 minutes and a 10-minute wait for the views even in a quick run (the worker can be minutes behind
 * the 202s: read at 3,212 of 10,000 views otherwise): the full run's second target (100,000) takes its
 * whole budget, and one point is often all a change needs.
 */
function openConversationTargets(fromSizes: number[]): number[] {
  const raw = process.env.BENCH_OPEN_CONVERSATIONS;
  if (raw === undefined || raw.trim() === '') return fromSizes;
  const targets = raw.split(',').map((t) => Number(t.trim()));
  if (targets.some((t) => !Number.isInteger(t) || t <= 0)) throw new Error(`BENCH_OPEN_CONVERSATIONS: expected positive integers, got ${raw}`);
  return targets;
}

/** Conversations opened between two waits for their views. */
const memoryStep = 2_000;

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
  const targets = openConversationTargets(sizes.openConversationTargets);
  const named = targets !== sizes.openConversationTargets;
  // Targets named for this run get the full run's budget even with --quick: reaching them is the point.
  const budgetEnds = Date.now() + (!named ? sizes.memoryBudgetMs : Math.max(sizes.memoryBudgetMs, 20 * 60_000));
  ctx.log(`memory: before opening, worker RSS ${stack.workers.map((w) => rssMiB(w.pid)).join(', ')} MiB`);
  for (const target of targets) {
    if (Date.now() >= budgetEnds) break;
    const have = await openNow();
    const need = Math.max(0, target - have);
    ctx.log(`memory: opening ${need} more conversations to reach ${target} open`);
    const started = Date.now();
    let opened = 0;
    let accepted = 0;
    // In steps, each waited for: the API accepts new conversations several times faster than the worker
    // starts them, so opening them all at once left tens of thousands of first workflow tasks queued when
    // the budget ran out, and the phases after this one measured that backlog instead of their own load.
    while (opened < need && Date.now() < budgetEnds) {
      const step = Math.min(memoryStep, need - opened);
      const first = next;
      const load = await closedLoop({
        concurrency: sizes.concurrency,
        count: step,
        durationMs: Math.max(0, budgetEnds - Date.now()),
        task: async (i) => {
          const customer = customerId(8, first + i);
          const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customer, `rss-${first + i}`), account.serviceKey);
          return res.status === 202 ? true : `HTTP ${res.status}`;
        },
      });
      next += step;
      opened += step;
      accepted += load.ok;
      const reached = await waitUntil(async () => (await openNow()) >= have + accepted, { timeoutMs: ctx.quick && !named ? 60_000 : 600_000, intervalMs: 500 });
      ctx.log(`  ${opened} of ${need} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      if (!reached.ok) ctx.log(`  the views of the new conversations did not all appear in time: ${await openNow()} open`);
    }
    const createdPerSecond = round(opened / ((Date.now() - started) / 1000));
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

export interface CacheMissPoint {
  /** Customer messages the conversations received before the probe (their run's history length below). */
  messages: number;
  historyLength: { min: number; max: number };
  /** Agent reply answered 200 (the change is in MongoDB), first after the worker restarted: replayed. */
  missMs: LatencySummary;
  /** The next reply to the same conversation: cached. */
  hitMs: LatencySummary;
  /** CPU per reply, from /proc over the probes of this point (10 ms ticks, so averaged over them). */
  workerCpuMsPerMiss: number;
  workerCpuMsPerHit: number;
  temporalCpuMsPerMiss: number;
  temporalCpuMsPerHit: number;
}

export interface CacheMissResult {
  conversationsPerPoint: number;
  loadAverage: number[];
  points: CacheMissPoint[];
}

/**
 * What a conversation costs when it is not in the worker's cache (evicted, or the worker restarted):
 * the worker replays its run's history before it handles the input. Conversations with 1, 100 and 350
 * customer messages (the run continues as new at 2,000 events, about 400 messages) get one agent reply
 * each; then the worker is restarted (its cache is empty), and each gets a reply (a miss: replay) and
 * another (a hit), one request at a time. The worker started here serves the phases that follow.
 */
export async function runCacheMiss(ctx: BenchContext): Promise<CacheMissResult> {
  const { stack, api } = ctx;
  const perPoint = ctx.quick ? 4 : 10;
  const sizes = [1, 100, 350];
  const account = await createBenchAccount(api.http, stack.platformKey, 'miss');
  const c = collections(stack.db);
  const ids = sizes.map((_, s) => Array.from({ length: perPoint }, (_, i) => customerId(9, s * 1_000 + i)));
  const warmup = customerId(9, 9_999);
  const reply = async (customer: string, text: string): Promise<number> => {
    const started = performance.now();
    const res = await api.http.post(conversationPath(account.id, conversationId(account.id, channel, customer), '/replies'), { text }, account.agentKey);
    if (res.status !== 200) throw new Error(`reply to ${customer}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return performance.now() - started;
  };

  const tasks: { customer: string; messageId: string }[] = [{ customer: warmup, messageId: 'w-0' }];
  sizes.forEach((m, s) => ids[s]!.forEach((customer) => {
    for (let k = 0; k < m; k++) tasks.push({ customer, messageId: `h-${k}` });
  }));
  ctx.log(`cache miss: ${tasks.length} customer messages to ${sizes.length} × ${perPoint} conversations (${sizes.join(' / ')} each), 16 in flight`);
  const load = await closedLoop({
    concurrency: 16,
    count: tasks.length,
    durationMs: 900_000,
    task: async (i) => {
      const t = tasks[i]!;
      const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(t.customer, t.messageId), account.serviceKey);
      return res.status === 202 ? true : `HTTP ${res.status}`;
    },
  });
  if (load.failed > 0) throw new Error(`cache miss: ${load.failed} messages not accepted`);
  const all = [warmup, ...ids.flat()];
  const expected = new Map(tasks.map((t) => [t.customer, 0]));
  for (const t of tasks) expected.set(t.customer, expected.get(t.customer)! + 1);
  const caughtUp = await waitUntil(
    async () => {
      for (const customer of all) {
        if ((await c.messages.countDocuments({ conversationId: conversationId(account.id, channel, customer), direction: 'inbound' })) < expected.get(customer)!) return false;
      }
      return true;
    },
    { timeoutMs: 300_000, intervalMs: 1_000 },
  );
  if (!caughtUp.ok) throw new Error('cache miss: the messages were not all persisted within 300 s');
  // One reply each first: the probes below are then all the same kind of reply (the first one assigns).
  for (const customer of all) await reply(customer, 'first');

  const old = stack.workers[0]!;
  ctx.log(`  restarting the worker (pid ${old.pid}, RSS ${rssMiB(old.pid)} MiB) to empty its cache`);
  await stack.stopProcess(old);
  const worker = await stack.startWorker();
  // The new worker's first tasks also pay for its cold start (bundle, JIT): not part of a miss.
  for (let k = 0; k < 3; k++) await reply(warmup, `warm-${k}`);

  const historyLengths = await Promise.all(ids.map((group) => Promise.all(group.map(async (customer) => (await stack.client.workflow.getHandle(conversationId(account.id, channel, customer)).describe()).historyLength))));
  const probe = async (kind: string) => {
    const ms = sizes.map(() => [] as number[]);
    const workerCpu = sizes.map(() => 0);
    const temporalCpu = sizes.map(() => 0);
    // Interleaved, so a passing disturbance lands on every size alike.
    for (let i = 0; i < perPoint; i++) {
      for (let s = 0; s < sizes.length; s++) {
        const w0 = cpuSeconds(worker.pid);
        const t0 = cpuSeconds(stack.temporal.pid);
        ms[s]!.push(await reply(ids[s]![i]!, `${kind}-${i}`));
        workerCpu[s]! += cpuSeconds(worker.pid) - w0;
        temporalCpu[s]! += cpuSeconds(stack.temporal.pid) - t0;
      }
    }
    return { ms, workerCpu, temporalCpu };
  };
  const miss = await probe('miss');
  const hit = await probe('hit');
  const perReply = (seconds: number) => round((seconds * 1000) / perPoint, 1);
  const points = sizes.map((messages, s): CacheMissPoint => ({
    messages,
    historyLength: { min: Math.min(...historyLengths[s]!), max: Math.max(...historyLengths[s]!) },
    missMs: summarize(miss.ms[s]!),
    hitMs: summarize(hit.ms[s]!),
    workerCpuMsPerMiss: perReply(miss.workerCpu[s]!),
    workerCpuMsPerHit: perReply(hit.workerCpu[s]!),
    temporalCpuMsPerMiss: perReply(miss.temporalCpu[s]!),
    temporalCpuMsPerHit: perReply(hit.temporalCpu[s]!),
  }));
  const loadAverage = os.loadavg().map((x) => round(x, 2));
  for (const p of points) {
    ctx.log(
      `  ${p.messages} messages (history ${p.historyLength.min}–${p.historyLength.max} events): reply p50 miss ${p.missMs.p50} ms / hit ${p.hitMs.p50} ms, ` +
        `max ${p.missMs.max} / ${p.hitMs.max} ms; worker CPU ${p.workerCpuMsPerMiss} / ${p.workerCpuMsPerHit} ms, Temporal CPU ${p.temporalCpuMsPerMiss} / ${p.temporalCpuMsPerHit} ms per reply`,
    );
  }
  ctx.log(`  load average ${loadAverage.join(', ')}`);
  return { conversationsPerPoint: perPoint, loadAverage, points };
}
