import { randomUUID } from 'node:crypto';
import { inboundTextBody, metaWebhookBody } from '../../test/support/fake-graph';
import type { FakeGraph } from '../../test/support/fake-graph';
import { conversationPath, createBenchAccount, customerId } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, mapLimit, openLoop, summarize, waitUntil } from '../load';
import type { LatencySummary } from '../load';
import { noopSignal, noopUpdate, noopWorkflow } from '../noop-workflows';
import { cpuWindow, formatCpu } from '../proc-stats';
import type { CpuShare } from '../proc-stats';
import { configureWhatsAppChannel, openConversations, signedHeaders } from '../whatsapp';
import { collections } from '../../store/collections';
import { round } from './ingest';

/**
 * 8. Outbound delivery (SPEC section 7) against a fake WhatsApp Cloud API in the bench process:
 * (a) sends/s reaching Graph with a 200 under a closed loop of agent replies;
 * (b) the delay from a reply's 200 to its request arriving at Graph, at a light open-loop load, beside a
 *     bare Workflow Update on a no-op workflow at the same rate (the baseline has no activity, so the
 *     bare update is the reference: the Temporal round trip a reply itself costs);
 * (c) the WhatsApp webhook's answer time for 1-message and 100-message bodies (Meta: median ≤ 250 ms).
 */
export interface OutboundResult {
  conversations: number;
  throughput: {
    concurrency: number;
    durationMs: number;
    /** Replies answered 200 per second (the closed loop's rate). */
    repliesRate: number;
    /** Sends answered 200 by Graph per second while the loop ran. */
    sentRateDuringLoad: number;
    /** Every reply accepted in the loop, over the time from the loop's start until the last reached Graph. */
    drainRate: number;
    accepted: number;
    reachedGraph: number;
    /** Extra sends of the same reply (there should be none without a fault). */
    duplicates: number;
    replyFailures: Record<string, number>;
    /** Reply 200 → Graph request, under this saturating load (queueing included). */
    delayUnderLoadMs: LatencySummary;
    cpu: CpuShare;
  };
  delay: {
    offeredRate: number;
    /** Reply 200 → request at Graph. */
    delayMs: LatencySummary;
    /** The reply's own answer time at that rate. */
    replyMs: LatencySummary;
    /** Bare Workflow Update on a no-op workflow at the same rate (no activity round trip in the baseline). */
    baselineUpdateMs: LatencySummary;
    ratioP50: number;
    ratioP99: number;
    notReached: number;
  };
  webhook: {
    messagesPerBody: number;
    posts: number;
    non200: number;
    answerMs: LatencySummary;
    metaTargetMedianMs: number;
    /** The fan-out after the answers (issue 28): from the last 200 until every body answered was `done`; null if not within 5 minutes. */
    drainedMs?: number | null;
  }[];
}

const metaTargetMedianMs = 250;

export async function runOutbound(ctx: BenchContext, graph: FakeGraph): Promise<OutboundResult> {
  const { stack, api, sizes, quick } = ctx;
  const account = await createBenchAccount(api.http, stack.platformKey, 'bench-out');
  const wa = await configureWhatsAppChannel(api.http, stack.platformKey, account);
  const n = quick ? 200 : 1_000;
  const group = 70;
  const customers = Array.from({ length: n }, (_, i) => customerId(group, i));
  ctx.log(`outbound: opening ${n} conversations on WhatsApp channel ${wa.channel} (fake Graph API at ${graph.url})`);
  const ids = await openConversations({ http: () => api.http, account, channel: wa.channel, customers, concurrency: sizes.concurrency });
  if (ids.length === 0) throw new Error('outbound: no conversation opened');

  // Graph arrivals by reply text, as they come in.
  const arrivals = new Map<string, number[]>();
  const answeredAt = new Map<string, number>();
  let watching = true;
  const seen = { index: 0 };
  const collect = () => {
    for (; seen.index < graph.requests.length; seen.index++) {
      const r = graph.requests[seen.index]!;
      if (r.answeredWith !== 200 || r.phoneNumberId !== wa.phoneNumberId) continue;
      const text = r.body?.text?.body;
      if (typeof text !== 'string') continue;
      const list = arrivals.get(text);
      if (list) list.push(r.at);
      else arrivals.set(text, [r.at]);
    }
  };
  const pump = (async () => {
    while (watching) {
      collect();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  let seq = 0;
  const reply = async (): Promise<true | string> => {
    const i = seq++;
    const id = ids[i % ids.length]!;
    const text = `bench outbound ${i}`;
    const res = await api.http.post(conversationPath(account.id, id, '/replies'), { text }, account.agentKey);
    if (res.status !== 200) return `HTTP ${res.status} ${res.body?.error?.code ?? ''}`.trim();
    answeredAt.set(text, Date.now());
    return true;
  };
  const reached = (texts: string[]) => texts.every((t) => arrivals.has(t));
  const delays = (texts: string[]) => texts.filter((t) => arrivals.has(t)).map((t) => arrivals.get(t)![0]! - answeredAt.get(t)!);

  try {
    // (a) throughput: closed loop of replies, round robin over the conversations.
    const durationMs = quick ? 6_000 : 20_000;
    ctx.log(`  throughput: replies with ${sizes.concurrency} in flight for ${durationMs / 1000} s`);
    const cpuEnd = cpuWindow(stack.pids());
    const started = Date.now();
    const loop = await closedLoop({ concurrency: sizes.concurrency, count: 1_000_000, durationMs, task: reply });
    const loopEnded = Date.now();
    const satTexts = [...answeredAt.keys()];
    const drained = await waitUntil(async () => (collect(), reached(satTexts)), { timeoutMs: 180_000, intervalMs: 200 });
    const cpu = cpuEnd();
    collect();
    const satArrivals = satTexts.filter((t) => arrivals.has(t));
    const lastArrival = Math.max(...satArrivals.map((t) => arrivals.get(t)![0]!));
    let inWindow = 0;
    let duplicates = 0;
    for (const t of satArrivals) {
      const at = arrivals.get(t)!;
      duplicates += at.length - 1;
      if (at[0]! <= loopEnded) inWindow++;
    }
    const throughput: OutboundResult['throughput'] = {
      concurrency: sizes.concurrency,
      durationMs,
      repliesRate: round(loop.rate),
      sentRateDuringLoad: round(inWindow / ((loopEnded - started) / 1000)),
      drainRate: round(satArrivals.length / ((lastArrival - started) / 1000)),
      accepted: satTexts.length,
      reachedGraph: satArrivals.length,
      duplicates,
      replyFailures: loop.failures,
      delayUnderLoadMs: summarize(delays(satTexts)),
      cpu,
    };
    ctx.log(
      `  throughput: ${throughput.repliesRate} replies/s accepted, ${throughput.sentRateDuringLoad} sends/s reached Graph during the load, ` +
        `${throughput.drainRate}/s until the last of ${satTexts.length} arrived (${drained.ok ? 'all' : `${satArrivals.length}`} reached Graph, ${duplicates} duplicates); ` +
        `delay under load p50 ${throughput.delayUnderLoadMs.p50} p99 ${throughput.delayUnderLoadMs.p99} ms; CPU: ${formatCpu(cpu)}`,
    );
    if (loop.failed) ctx.log(`  reply failures: ${JSON.stringify(loop.failures)}`);
    const slowest = satArrivals.reduce((a, t) => (arrivals.get(t)![0]! - answeredAt.get(t)! > arrivals.get(a)![0]! - answeredAt.get(a)! ? t : a), satArrivals[0]!);
    if (slowest) {
      const i = Number(slowest.split(' ').at(-1));
      ctx.log(`  slowest send: "${slowest}" to ${ids[i % ids.length]}, ${arrivals.get(slowest)![0]! - answeredAt.get(slowest)!} ms after its 200`);
    }

    // (b) delay at a light load, beside the bare update at the same rate.
    const noopIds = Array.from({ length: 20 }, (_, i) => `noop-out-${randomUUID().slice(0, 6)}-${i}`);
    await mapLimit(noopIds, 8, (workflowId) =>
      stack.client.workflow.signalWithStart(noopWorkflow, { workflowId, taskQueue: ctx.noopQueue, signal: noopSignal, signalArgs: [{ text: 'open' }] }),
    );
    const rate = Math.max(2, Math.min(20, Math.round(throughput.drainRate * 0.25)));
    const levelMs = quick ? 5_000 : 15_000;
    ctx.log(`  delay: replies at ${rate}/s for ${levelMs / 1000} s (open loop), then a bare update at the same rate`);
    const before = new Set(answeredAt.keys());
    const light = await openLoop({ rate, durationMs: levelMs, task: reply });
    const lightTexts = [...answeredAt.keys()].filter((t) => !before.has(t));
    await waitUntil(async () => (collect(), reached(lightTexts)), { timeoutMs: 120_000, intervalMs: 100 });
    collect();
    let k = 0;
    const base = await openLoop({
      rate,
      durationMs: levelMs,
      task: async () => {
        await stack.client.workflow.getHandle(noopIds[k++ % noopIds.length]!).executeUpdate(noopUpdate, { args: [{ text: 'reply' }] });
        return true;
      },
    });
    const d = summarize(delays(lightTexts));
    const b = summarize(base.latencies);
    const delay: OutboundResult['delay'] = {
      offeredRate: rate,
      delayMs: d,
      replyMs: summarize(light.latencies),
      baselineUpdateMs: b,
      ratioP50: round(d.p50 / b.p50, 2),
      ratioP99: round(d.p99 / b.p99, 2),
      notReached: lightTexts.filter((t) => !arrivals.has(t)).length,
    };
    ctx.log(
      `  delay at ${rate}/s: reply 200 → Graph p50 ${d.p50} p99 ${d.p99} ms (${d.count} sends); reply itself p50 ${delay.replyMs.p50} p99 ${delay.replyMs.p99} ms; ` +
        `bare update p50 ${b.p50} p99 ${b.p99} ms; ratio p50 ${delay.ratioP50} p99 ${delay.ratioP99}`,
    );

    // (c) the webhook's answer time, posts one after the other, each message from a new customer.
    const webhook: OutboundResult['webhook'] = [];
    let customerSeq = 0;
    for (const [perBody, posts] of [
      [1, quick ? 30 : 50],
      [100, quick ? 10 : 20],
    ] as const) {
      const times: number[] = [];
      let non200 = 0;
      for (let p = 0; p < posts; p++) {
        const messages = Array.from({ length: perBody }, () => {
          const from = customerId(71, customerSeq++);
          return inboundTextBody({ phoneNumberId: wa.phoneNumberId, from, wamid: `wamid.bench.${randomUUID()}`, text: 'Hi there' }).entry[0].changes[0].value.messages[0];
        });
        const body = metaWebhookBody({ phoneNumberId: wa.phoneNumberId, messages });
        const headers = signedHeaders(body, wa.appSecret);
        const t = performance.now();
        const res = await api.http.request('POST', `/webhooks/whatsapp/${account.id}`, undefined, body, 60_000, headers);
        const ms = performance.now() - t;
        if (res.status === 200) times.push(ms);
        else non200++;
      }
      const s = summarize(times);
      // The answer comes before the fan-out (api/DESIGN.md, "WhatsApp webhook"): how long until the bodies answered were all fanned out.
      const lastAnswer = performance.now();
      const bodies = collections(stack.db).inboundBodies;
      const drained = await waitUntil(async () => (await bodies.countDocuments({ accountId: account.id, state: 'pending' })) === 0, { timeoutMs: 300_000, intervalMs: 100 });
      const drainedMs = drained.ok ? round(performance.now() - lastAnswer) : null;
      webhook.push({ messagesPerBody: perBody, posts, non200, answerMs: s, metaTargetMedianMs, drainedMs });
      ctx.log(
        `  webhook, ${perBody} message(s) per body, ${posts} posts: p50 ${s.p50} p99 ${s.p99} ms (Meta's target: median ≤ ${metaTargetMedianMs} ms)${non200 ? `; ${non200} not 200` : ''}; ` +
          `every body fanned out ${drainedMs === null ? 'not within 300 s' : `${drainedMs} ms`} after the last answer`,
      );
    }
    return { conversations: ids.length, throughput, delay, webhook };
  } finally {
    watching = false;
    await pump;
  }
}
