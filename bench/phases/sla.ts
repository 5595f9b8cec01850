import os from 'node:os';
import { createBenchAccount, conversationId, conversationPath, customerId } from '../accounts';
import type { BenchAccount } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, mapLimit, openLoop, sleep, summarize, waitUntil } from '../load';
import { retrying } from '../http-client';
import type { LatencySummary } from '../load';
import { cpuSeconds, cpuWindow, formatCpu, rssMiB } from '../proc-stats';
import type { CpuShare } from '../proc-stats';
import { defaultWorkerMaxCachedWorkflows } from '../../infra/config';
import { collections } from '../../store/collections';
import { parseDuration } from '../../workflows/conversation/core/durations';
import { checkViews, waitForInbound } from '../verify';
import type { ViewCheck } from '../verify';
import { channel, messageBody, round } from './ingest';
import { runBareTimers } from './timers';
import type { BareTimersResult } from './timers';

/**
 * SLA clocks (SPEC section 9, issue 25) on the real stack:
 * - `sla-breaches`: N conversations whose first-response breaches fall due in the same millisecond, against
 *   N bare timers in the same run (the auto-close burst's baseline, `runBareTimers`);
 * - `sla-cost`: ingest and replies with SLA and business hours on against off, same sizes, same run;
 * - `sla-memory`: the worker's RSS as open conversations with SLA clocks running accumulate.
 */

/** The machine's load during a phase: the figures are the machine's as much as ours. */
export interface LoadAverageWindow {
  /** `/proc/loadavg`'s 1, 5 and 15 minute figures when the phase started and when it ended. */
  atStart: number[];
  atEnd: number[];
  /** The largest 1-minute figure sampled every 10 s during the phase. */
  max1m: number;
}

/** Samples the load average every 10 s until the returned function is called. */
function loadAverageWindow(): () => LoadAverageWindow {
  const now = () => os.loadavg().map((x) => round(x, 2));
  const atStart = now();
  let max1m = atStart[0]!;
  const timer = setInterval(() => (max1m = Math.max(max1m, round(os.loadavg()[0]!, 2))), 10_000);
  timer.unref();
  return () => {
    clearInterval(timer);
    const atEnd = now();
    return { atStart, atEnd, max1m: Math.max(max1m, atEnd[0]!) };
  };
}

/** An env override of a size: a positive integer, or the default. */
function envCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got ${raw}`);
  return n;
}

function envDuration(name: string, fallback: string): string {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (parseDuration(raw.trim()) === null) throw new Error(`${name}: expected a duration such as 90s or 2m, got ${raw}`);
  return raw.trim();
}

/** The env names a run of these phases reads (recorded in the result's header when set). */
export const slaEnvironmentKeys = ['BENCH_SLA_CONVERSATIONS', 'BENCH_SLA_FIRST_RESPONSE', 'BENCH_SLA_LEAD', 'BENCH_SLA_COST_CONVERSATIONS', 'BENCH_SLA_COST_MS', 'BENCH_SLA_COST_REPEATS', 'BENCH_SLA_OPEN_CONVERSATIONS', 'BENCH_SLA_MEMORY_MINUTES'];

// ---------------------------------------------------------------------------------------------------
// 1. Breaches due in the same millisecond

export interface SlaBreachesResult {
  conversations: number;
  firstResponse: string;
  /** The business hours' opening moment (ISO): every first-response clock starts counting there. */
  opensAt: string;
  /** The shared due moment (ISO): opensAt + firstResponse. */
  dueAt: string;
  /** Views whose firstResponseDueAt was exactly the shared due moment before it fell. */
  aligned: number;
  /** Conversations with an `sla_breached` event (firstResponse) in the store. */
  breached: number;
  /** The event's `at` (the workflow's clock in the task the SLA timer woke) − its `dueAt`. */
  latenessMs: LatencySummary;
  /** Events whose dueAt differed from the shared due moment (should be 0). */
  dueAtMismatched: number;
  /** From the due moment until the last event's `at`. */
  lastBreachAfterMs: number;
  /** From the due moment until the bench saw every event in the store. */
  allRecordedAfterMs: number;
  /** Views that still differ from their workflow once every event was recorded / workflows not answering. */
  views: ViewCheck;
  cpu: CpuShare;
  baseline: BareTimersResult;
  /** Our p99 over the bare timers' p99; the goal is at most 1.5. */
  ratioP99?: number;
  loadAverage: LoadAverageWindow;
}

export function slaBreachesGoalMet(r: SlaBreachesResult): boolean {
  return r.breached === r.conversations && r.ratioP99 !== undefined && r.ratioP99 <= 1.5;
}

const minute = 60_000;
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/**
 * N new conversations, each opened by one customer message while the account's business hours are
 * closed; they open (UTC, every day) at the first whole minute after the set-up lead. The first-response
 * clock counts business time only (`slaBusinessHoursOnly`, the default with business hours), so every
 * due moment is that opening + `firstResponse`: the same millisecond, however long the set-up took.
 *
 * Why business hours: the clock starts at the message's receipt in the workflow (the timeline message's
 * `at`, not the provider's `sentAt`), so N conversations opened over some seconds without business hours
 * fall due over the same seconds, not at one instant. No warning, nobody replies, nothing else is due.
 * Lateness is the `sla_breached` event's `at` − `dueAt`, read from the store's events (what /events
 * serves). The baseline runs first, on servers with nothing else to do, as ours will have.
 */
export async function runSlaBreaches(ctx: BenchContext): Promise<SlaBreachesResult> {
  const { stack, api } = ctx;
  const endLoad = loadAverageWindow();
  const n = envCount('BENCH_SLA_CONVERSATIONS', ctx.quick ? 100 : 1_000);
  const firstResponse = envDuration('BENCH_SLA_FIRST_RESPONSE', '10s');
  const firstResponseMs = parseDuration(firstResponse)!;
  // Time to open the conversations and see their views before the hours open (1,000 new conversations
  // took about 40 s here on a quiet machine; the lead only has to be long enough).
  const leadMs = parseDuration(envDuration('BENCH_SLA_LEAD', ctx.quick ? '45s' : '150s'))!;
  const baseline = await runBareTimers(ctx, n);

  const opensAtMs = Math.ceil((Date.now() + leadMs) / minute) * minute;
  const deadline = opensAtMs + firstResponseMs;
  const midnight = Math.ceil(opensAtMs / (24 * 60 * minute)) * 24 * 60 * minute;
  if (opensAtMs % (24 * 60 * minute) === 0 || deadline >= midnight) {
    throw new Error('sla breaches: the opening and the due moment must fall on the same UTC day; run it again after midnight UTC');
  }
  const businessHours = { timezone: 'UTC', weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [[hhmm(opensAtMs), '24:00']]])) };
  const account = await createBenchAccount(api.http, stack.platformKey, 'slab', { businessHours, sla: { normal: { firstResponse } }, autoCloseAfter: null });
  const customers = Array.from({ length: n }, (_, i) => customerId(6, i));
  const ids = customers.map((c) => conversationId(account.id, channel, c));
  const deadlineIso = new Date(deadline).toISOString();
  ctx.log(`sla breaches: ${n} conversations, firstResponse ${firstResponse} of business time; hours open at ${new Date(opensAtMs).toISOString()}: all due at ${deadlineIso}`);
  const started = Date.now();
  await mapLimit(customers, ctx.sizes.concurrency, (customer, i) =>
    retrying('sla breaches: message not accepted', () => api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customer, `sb-${i}`), account.serviceKey), 202),
  );
  ctx.log(`  ${n} accepted in ${Date.now() - started} ms; waiting for their views`);
  const c = collections(stack.db);
  let aligned = 0;
  await waitUntil(async () => (aligned = await c.conversations.countDocuments({ accountId: account.id, 'sla.firstResponseDueAt': deadlineIso })) >= n, {
    timeoutMs: Math.max(0, opensAtMs - Date.now() - 1_000),
    intervalMs: 250,
  });
  ctx.log(`  ${aligned} of ${n} views due at ${deadlineIso} (${deadline - Date.now()} ms from now)`);
  if (Date.now() > opensAtMs) throw new Error(`sla breaches: opening ${n} conversations took longer than the lead (${leadMs / 1000} s); raise BENCH_SLA_LEAD`);
  if (aligned < n) {
    const odd = await c.conversations.find({ accountId: account.id, 'sla.firstResponseDueAt': { $ne: deadlineIso } }, { projection: { status: 1, sla: 1, version: 1 } }).limit(3).toArray();
    ctx.log(`  not lined up: ${JSON.stringify(odd)}`);
  }

  // Nothing to poll before the due moment; from it on, which process works through the breaches.
  await sleep(Math.max(0, deadline - Date.now()));
  const cpuEnd = cpuWindow(stack.pids());
  const breachFilter = { accountId: account.id, type: 'sla_breached' as const, metric: 'firstResponse' as const };
  const all = await waitUntil(async () => (await c.events.countDocuments(breachFilter)) >= n, { timeoutMs: 180_000, intervalMs: 50 });
  const cpu = cpuEnd();
  const events = await c.events.find(breachFilter, { projection: { conversationId: 1, at: 1, dueAt: 1 } }).toArray();
  const viewCheck = await checkViews(stack.client, stack.db, ids);
  if (viewCheck.mismatched + viewCheck.unreachable > 0) ctx.log(`  views that differ from their workflow: ${viewCheck.examples.join('; ')}`);
  const lateness = events.map((e) => e.at - e.dueAt!);
  const latenessMs = summarize(lateness);
  const breached = new Set(events.map((e) => e.conversationId)).size;
  const result: SlaBreachesResult = {
    conversations: n,
    firstResponse,
    opensAt: new Date(opensAtMs).toISOString(),
    dueAt: deadlineIso,
    aligned,
    breached,
    latenessMs,
    dueAtMismatched: events.filter((e) => e.dueAt !== deadline).length,
    lastBreachAfterMs: events.length ? Math.max(...events.map((e) => e.at - deadline)) : NaN,
    allRecordedAfterMs: all.at - deadline,
    views: viewCheck,
    cpu,
    baseline,
    ratioP99: baseline.latenessMs.p99 > 0 ? round(latenessMs.p99 / baseline.latenessMs.p99, 2) : undefined,
    loadAverage: endLoad(),
  };
  ctx.log(
    `  ${breached} breached (${events.length} events, ${result.dueAtMismatched} with another dueAt); lateness p50 ${latenessMs.p50} p99 ${latenessMs.p99} max ${latenessMs.max} ms; ` +
      `all recorded ${result.allRecordedAfterMs} ms after the due moment${all.ok ? '' : ' (NOT all within 180 s)'}; CPU: ${formatCpu(cpu)}`,
  );
  ctx.log(`  p99 against the bare timers' ${baseline.latenessMs.p99} ms: ${result.ratioP99 ?? '—'}× (goal ≤ 1.5×); load average ${result.loadAverage.atStart.join(' ')} → ${result.loadAverage.atEnd.join(' ')}`);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// 2. The cost of the clocks: ingest and replies with SLA and business hours on against off

/** Business hours that are always open (so replies are possible at any time), counted in Berlin time. */
const alwaysOpenHours = {
  timezone: 'Europe/Berlin',
  weekly: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]])),
};

/** The policy of the "on" side: business hours, every target, a warning; none falls due during the bench. */
export const slaOnPolicy = {
  businessHours: alwaysOpenHours,
  sla: {
    urgent: { firstResponse: '30m', nextResponse: '30m', resolution: '8h' },
    normal: { firstResponse: '2h', nextResponse: '2h', resolution: '24h' },
  },
  slaWarnBefore: '10m',
};

export interface SlaCostSide {
  /** Accepted messages per second from the first send until every view had caught up (its rounds pooled). */
  ingestPersistedRate: number;
  ingest202Ms: LatencySummary;
  /** CPU time of the stack's processes (Temporal, FerretDB, worker, API) per accepted message. */
  ingestCpuMsPerMessage: number;
  /** Replies answered 200 per second at saturation (closed loop). */
  replyRate: number;
  replySaturationMs: LatencySummary;
  /** The stack's CPU time per reply at saturation (until the sends they caused were recorded too, roughly: the window ends with the loop). */
  replyCpuMsPerReply: number;
  /** Replies at a fixed offered rate (open loop), the same for both sides. */
  replyOpenLoopMs: LatencySummary;
  failed: number;
  cpuIngest: CpuShare[];
  cpuReplies: CpuShare[];
}

export interface SlaCostResult {
  conversationsPerRound: number;
  concurrency: number;
  loadMs: number;
  /** The order of the rounds (off, on, on, off repeated: a drift of the machine's load weighs on both sides alike). */
  rounds: ('off' | 'on')[];
  openLoopRate: number;
  off: SlaCostSide;
  on: SlaCostSide;
  /** on / off: throughputs (goal ≥ 0.9), latencies and CPU per operation (goal ≤ 1.1). */
  ratios: {
    ingestRate: number;
    ingest202P50: number;
    ingest202P99: number;
    ingestCpuPerMessage: number;
    replyRate: number;
    replyCpuPerReply: number;
    replyOpenLoopP50: number;
    replyOpenLoopP99: number;
  };
  loadAverage: LoadAverageWindow;
}

/** Issue 25's target: on within 10% of off, for ingest and replies (throughput and latency at p50). */
export function slaCostGoalMet(r: SlaCostResult): boolean {
  const q = r.ratios;
  return q.ingestRate >= 0.9 && q.replyRate >= 0.9 && q.ingest202P50 <= 1.1 && q.replyOpenLoopP50 <= 1.1;
}

interface RoundSample {
  accepted: number;
  persistMs: number;
  latencies202: number[];
  ingestCpuSeconds: number;
  replies: number;
  replyMs: number;
  replyLatencies: number[];
  replyCpuSeconds: number;
  openLatencies: number[];
  failed: number;
  cpuIngest: CpuShare;
  cpuReplies: CpuShare;
}

/** CPU seconds the stack's own processes (not the bench, not the baseline's worker) have used so far. */
function stackCpuSeconds(ctx: BenchContext): number {
  const { stack } = ctx;
  const pids = [stack.temporal.pid, ...(stack.ferret ? [stack.ferret.pid] : []), ...stack.workers.map((w) => w.pid), ...stack.apis.map((a) => a.proc.pid)];
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/**
 * Two accounts, one with the default policy (no SLA, no business hours) and one with `slaOnPolicy`;
 * rounds in the order off, on, on, off (repeated BENCH_SLA_COST_REPEATS times, full 2). A round opens its
 * own N new conversations (closed loop, 32 in flight, for `loadMs`, then until every view is persisted:
 * new conversations, where the clocks start), then replies to them at saturation (closed loop, `loadMs`:
 * a first reply assigns and meets the first response), then replies at a fixed rate (open loop: a quarter
 * of the first off round's saturation) for their latency, then waits until their sends are out. Each
 * side pools its rounds. Beside the rates, the CPU time the stack's processes spent per message and per
 * reply: on a machine shared with other work the rates move with the other work, the CPU per operation
 * much less.
 */
export async function runSlaCost(ctx: BenchContext): Promise<SlaCostResult> {
  const { stack, api, sizes } = ctx;
  const endLoad = loadAverageWindow();
  const n = envCount('BENCH_SLA_COST_CONVERSATIONS', ctx.quick ? 300 : 1_500);
  const loadMs = envCount('BENCH_SLA_COST_MS', ctx.quick ? 5_000 : 15_000);
  const repeats = envCount('BENCH_SLA_COST_REPEATS', ctx.quick ? 1 : 2);
  const accounts: Record<'off' | 'on', BenchAccount> = {
    off: await createBenchAccount(api.http, stack.platformKey, 'slaoff'),
    on: await createBenchAccount(api.http, stack.platformKey, 'slaon', slaOnPolicy),
  };
  const rounds = Array.from({ length: repeats }, () => ['off', 'on', 'on', 'off'] as const).flat();
  const acceptedSoFar = { off: 0, on: 0 };
  const samples: Record<'off' | 'on', RoundSample[]> = { off: [], on: [] };
  let openLoopRate = 0;
  ctx.log(`sla cost: rounds ${rounds.join(', ')}; each ${n} new conversations, ${sizes.concurrency} in flight, ${loadMs / 1000} s of ingest, then replies`);
  for (const [r, side] of rounds.entries()) {
    const account = accounts[side];
    const customers = Array.from({ length: n }, (_, i) => customerId(20 + r, i));
    const ids = customers.map((customer) => conversationId(account.id, channel, customer));
    const opened = new Set<number>();
    let failed = 0;

    let cpuEnd = cpuWindow(stack.pids());
    let cpu0 = stackCpuSeconds(ctx);
    const started = Date.now();
    const ingest = await closedLoop({
      concurrency: sizes.concurrency,
      count: 1_000_000,
      durationMs: loadMs,
      task: async (i) => {
        const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customers[i % n]!, `sc-${r}-${i}`), account.serviceKey);
        if (res.status !== 202) return `HTTP ${res.status}`;
        opened.add(i % n);
        return true;
      },
    });
    failed += ingest.failed;
    acceptedSoFar[side] += ingest.ok;
    const caught = await waitForInbound(stack.db, account.id, acceptedSoFar[side], 180_000);
    const cpuIngest = cpuEnd();
    const ingestCpuSeconds = stackCpuSeconds(ctx) - cpu0;
    if (!caught.ok) ctx.log(`  views did not catch up within 180 s: ${caught.count} of ${acceptedSoFar[side]}`);
    const persistMs = caught.at - started;

    // Replies only to conversations that exist: ingest may not have reached every one.
    const targets = [...opened].sort((a, b) => a - b).map((i) => ids[i]!);
    let k = 0;
    const reply = async (): Promise<true | string> => {
      const id = targets[k++ % targets.length]!;
      const res = await api.http.post(conversationPath(account.id, id, '/replies'), { text: `reply ${k}` }, account.agentKey);
      return res.status === 200 ? true : `HTTP ${res.status} ${res.body?.error?.code ?? ''}`;
    };
    cpuEnd = cpuWindow(stack.pids());
    cpu0 = stackCpuSeconds(ctx);
    const sat = await closedLoop({ concurrency: sizes.concurrency, count: 1_000_000, durationMs: loadMs, task: reply });
    const cpuReplies = cpuEnd();
    const replyCpuSeconds = stackCpuSeconds(ctx) - cpu0;
    failed += sat.failed;
    // A quarter of the first off round's saturation, at most `concurrency` in flight: on a machine whose
    // other work grows meanwhile, a higher fixed rate piled replies up and the later rounds measured that backlog.
    if (openLoopRate === 0) openLoopRate = Math.max(1, round(sat.rate / 4));
    const open = await openLoop({ rate: openLoopRate, durationMs: loadMs, maxInFlight: sizes.concurrency, task: reply });
    failed += open.failed;
    // The sends the replies caused run after their answers: let them finish before the next round.
    const settled = await waitUntil(async () => (await collections(stack.db).messages.countDocuments({ accountId: account.id, direction: 'outbound', 'delivery.status': 'queued' })) === 0, { timeoutMs: 120_000, intervalMs: 500 });
    if (!settled.ok) ctx.log('  sends of this round still queued after 120 s; going on');
    if (failed > 0) ctx.log(`  failures: ${JSON.stringify({ ...ingest.failures, ...sat.failures, ...open.failures })}`);
    samples[side].push({
      accepted: ingest.ok,
      persistMs,
      latencies202: ingest.latencies,
      ingestCpuSeconds,
      replies: sat.ok,
      replyMs: sat.elapsedMs,
      replyLatencies: sat.latencies,
      replyCpuSeconds,
      openLatencies: open.latencies,
      failed,
      cpuIngest,
      cpuReplies,
    });
    const o = summarize(open.latencies);
    ctx.log(
      `  round ${r + 1} (${side}): ingest ${round(ingest.ok / (persistMs / 1000))}/s persisted (${ingest.ok} in ${persistMs} ms, ${round((ingestCpuSeconds * 1000) / Math.max(1, ingest.ok))} CPU ms each), ` +
        `replies ${round(sat.rate)}/s at saturation (${round((replyCpuSeconds * 1000) / Math.max(1, sat.ok))} CPU ms each), open loop ${openLoopRate}/s p50 ${o.p50} p99 ${o.p99} ms; load ${os.loadavg()[0]!.toFixed(1)}; CPU under ingest: ${formatCpu(cpuIngest)}`,
    );
  }
  const sum = (s: RoundSample[], f: (x: RoundSample) => number) => s.reduce((a, x) => a + f(x), 0);
  const side = (s: RoundSample[]): SlaCostSide => ({
    ingestPersistedRate: round(sum(s, (x) => x.accepted) / (sum(s, (x) => x.persistMs) / 1000)),
    ingest202Ms: summarize(s.flatMap((x) => x.latencies202)),
    ingestCpuMsPerMessage: round((sum(s, (x) => x.ingestCpuSeconds) * 1000) / sum(s, (x) => x.accepted), 2),
    replyRate: round(sum(s, (x) => x.replies) / (sum(s, (x) => x.replyMs) / 1000)),
    replySaturationMs: summarize(s.flatMap((x) => x.replyLatencies)),
    replyCpuMsPerReply: round((sum(s, (x) => x.replyCpuSeconds) * 1000) / sum(s, (x) => x.replies), 2),
    replyOpenLoopMs: summarize(s.flatMap((x) => x.openLatencies)),
    failed: sum(s, (x) => x.failed),
    cpuIngest: s.map((x) => x.cpuIngest),
    cpuReplies: s.map((x) => x.cpuReplies),
  });
  const off = side(samples.off);
  const on = side(samples.on);
  const ratio = (a: number, b: number) => round(a / b, 3);
  const result: SlaCostResult = {
    conversationsPerRound: n,
    concurrency: sizes.concurrency,
    loadMs,
    rounds,
    openLoopRate,
    off,
    on,
    ratios: {
      ingestRate: ratio(on.ingestPersistedRate, off.ingestPersistedRate),
      ingest202P50: ratio(on.ingest202Ms.p50, off.ingest202Ms.p50),
      ingest202P99: ratio(on.ingest202Ms.p99, off.ingest202Ms.p99),
      ingestCpuPerMessage: ratio(on.ingestCpuMsPerMessage, off.ingestCpuMsPerMessage),
      replyRate: ratio(on.replyRate, off.replyRate),
      replyCpuPerReply: ratio(on.replyCpuMsPerReply, off.replyCpuMsPerReply),
      replyOpenLoopP50: ratio(on.replyOpenLoopMs.p50, off.replyOpenLoopMs.p50),
      replyOpenLoopP99: ratio(on.replyOpenLoopMs.p99, off.replyOpenLoopMs.p99),
    },
    loadAverage: endLoad(),
  };
  ctx.log(`  on/off: ${JSON.stringify(result.ratios)} (goal: rates ≥ 0.9, p50s ≤ 1.1); load average ${result.loadAverage.atStart.join(' ')} → ${result.loadAverage.atEnd.join(' ')}`);
  return result;
}

// ---------------------------------------------------------------------------------------------------
// 3. Worker memory with SLA clocks running

export interface SlaMemoryPoint {
  /** Open conversations of the SLA account (each with its first-response, resolution and warning clocks). */
  openWithSla: number;
  workerRssMiB: number;
  apiRssMiB: number;
  /** Seconds since the phase began opening conversations. */
  atSeconds: number;
}

export interface SlaMemoryResult {
  target: number;
  budgetMinutes: number;
  reached: number;
  /** Open conversations of other accounts (earlier phases) the worker holds besides. */
  otherOpen: number;
  workerRssBeforeMiB: number;
  points: SlaMemoryPoint[];
  /** Only when the target was not reached: a straight line through the last half of the points, at the target. */
  extrapolatedRssMiBAtTarget?: number;
  /** The worker's cache of workflows (WORKER_MAX_CACHED_WORKFLOWS): beyond it, conversations are evicted and replayed at their next input. */
  workerMaxCachedWorkflows: number;
  createdPerSecond: number;
  loadAverage: LoadAverageWindow;
}

export function slaMemoryGoalMet(r: SlaMemoryResult): boolean | undefined {
  if (r.reached >= r.target) return Math.max(...r.points.map((p) => p.workerRssMiB)) <= 1_024;
  return undefined; // not measured at the target: the extrapolation is not a measurement
}

/** Conversations opened between two reads of RSS (and waits for their views). */
const memoryStep = 1_000;

/**
 * Opens new conversations with `slaOnPolicy` (one customer message each: first-response, resolution and
 * the warning clock running, a timer set) in steps of 1,000, each waited for until its views exist, and
 * reads the worker's VmRSS after each step, until the target (BENCH_SLA_OPEN_CONVERSATIONS, full 10,000)
 * or the time budget (BENCH_SLA_MEMORY_MINUTES, full 15) is reached.
 */
export async function runSlaMemory(ctx: BenchContext): Promise<SlaMemoryResult> {
  const { stack, api, sizes } = ctx;
  const endLoad = loadAverageWindow();
  const target = envCount('BENCH_SLA_OPEN_CONVERSATIONS', ctx.quick ? 1_000 : 10_000);
  const budgetMinutes = envCount('BENCH_SLA_MEMORY_MINUTES', ctx.quick ? 2 : 15);
  const account = await createBenchAccount(api.http, stack.platformKey, 'slam', slaOnPolicy);
  const c = collections(stack.db);
  const openWithSla = () => c.conversations.countDocuments({ accountId: account.id, status: { $in: ['open', 'assigned'] } });
  const otherOpen = await c.conversations.countDocuments({ accountId: { $ne: account.id }, status: { $in: ['open', 'assigned'] } });
  const worker = stack.workers[0]!;
  const workerRssBeforeMiB = rssMiB(worker.pid);
  const started = Date.now();
  const budgetEnds = started + budgetMinutes * 60_000;
  ctx.log(`sla memory: opening up to ${target} conversations with SLA clocks (budget ${budgetMinutes} min); ${otherOpen} others open; worker RSS ${workerRssBeforeMiB} MiB`);
  const points: SlaMemoryPoint[] = [];
  let opened = 0;
  let accepted = 0;
  while (opened < target && Date.now() < budgetEnds) {
    const step = Math.min(memoryStep, target - opened);
    const first = opened;
    const load = await closedLoop({
      concurrency: sizes.concurrency,
      count: step,
      durationMs: Math.max(0, budgetEnds - Date.now()),
      task: async (i) => {
        const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customerId(4, first + i), `sm-${first + i}`), account.serviceKey);
        return res.status === 202 ? true : `HTTP ${res.status}`;
      },
    });
    opened += load.ok + load.failed;
    accepted += load.ok;
    // The views of this step before the next: the API accepts new conversations faster than the worker starts them.
    const reached = await waitUntil(async () => (await openWithSla()) >= accepted, { timeoutMs: Math.max(60_000, budgetEnds - Date.now() + 120_000), intervalMs: 500 });
    const point: SlaMemoryPoint = { openWithSla: await openWithSla(), workerRssMiB: rssMiB(worker.pid), apiRssMiB: rssMiB(api.proc.pid), atSeconds: round((Date.now() - started) / 1000) };
    points.push(point);
    ctx.log(`  ${point.openWithSla} open with SLA after ${point.atSeconds} s: worker RSS ${point.workerRssMiB} MiB, API ${point.apiRssMiB} MiB${reached.ok ? '' : ' (views not all there yet)'}`);
  }
  // Settled: a last read once the worker has had a moment with nothing to do.
  await sleep(2_000);
  const reached = await openWithSla();
  const settled = { openWithSla: reached, workerRssMiB: rssMiB(worker.pid), apiRssMiB: rssMiB(api.proc.pid), atSeconds: round((Date.now() - started) / 1000) };
  // The last step's read is replaced by this one when they count the same conversations.
  if (points.at(-1)?.openWithSla === reached) points.pop();
  points.push(settled);
  let extrapolatedRssMiBAtTarget: number | undefined;
  if (reached < target && points.length >= 4) {
    const tail = points.slice(Math.floor(points.length / 2));
    const a = tail[0]!;
    const b = tail.at(-1)!;
    const slope = b.openWithSla > a.openWithSla ? (b.workerRssMiB - a.workerRssMiB) / (b.openWithSla - a.openWithSla) : 0;
    extrapolatedRssMiBAtTarget = round(b.workerRssMiB + Math.max(0, slope) * (target - b.openWithSla), 0);
  }
  const result: SlaMemoryResult = {
    target,
    budgetMinutes,
    reached,
    otherOpen,
    workerRssBeforeMiB,
    points,
    extrapolatedRssMiBAtTarget,
    workerMaxCachedWorkflows: Number(process.env.WORKER_MAX_CACHED_WORKFLOWS ?? defaultWorkerMaxCachedWorkflows),
    createdPerSecond: round(accepted / ((Date.now() - started) / 1000)),
    loadAverage: endLoad(),
  };
  ctx.log(
    `  ${reached} of ${target} open with SLA: worker RSS ${points.at(-1)!.workerRssMiB} MiB` +
      (extrapolatedRssMiBAtTarget !== undefined ? `; extrapolated to ${target}: ${extrapolatedRssMiBAtTarget} MiB (a straight line, not a measurement)` : '') +
      `; load average ${result.loadAverage.atStart.join(' ')} → ${result.loadAverage.atEnd.join(' ')}`,
  );
  return result;
}
