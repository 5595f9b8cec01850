import { createBenchAccount, conversationPath, customerId, conversationId } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, summarize } from '../load';
import type { LatencySummary } from '../load';
import { cpuWindow, formatCpu } from '../proc-stats';
import type { CpuShare } from '../proc-stats';
import { Ledger, checkTimelines, checkViews, waitForInbound } from '../verify';
import type { TimelineCheck, ViewCheck } from '../verify';
import { channel, messageBody, round } from './ingest';

/**
 * 7. Scale-out: the same ingest and reply loads with one and two worker processes and one and two API
 * processes on the same servers (requests spread round robin over the APIs), then proof that nothing was
 * lost or recorded twice while processes came and went.
 */
export interface ScalePoint {
  workers: number;
  apis: number;
  ingest: { accepted: number; failed: number; acceptRate: number; persistedRate: number };
  replies: { ok: number; failed: number; rate: number; latencyMs: LatencySummary };
  cpu: CpuShare;
}

export interface ScaleResult {
  points: ScalePoint[];
  timeline: TimelineCheck;
  views: ViewCheck;
}

export async function runScaleOut(ctx: BenchContext): Promise<ScaleResult> {
  const { stack, sizes } = ctx;
  const account = await createBenchAccount(ctx.api.http, stack.platformKey, 'scale');
  const ledger = new Ledger();
  const perConfig = Math.max(100, Math.floor(sizes.ingestConversations / 2));
  const points: ScalePoint[] = [];
  for (const [k, config] of sizes.scaleConfigs.entries()) {
    while (stack.workers.length < config.workers) await stack.startWorker();
    while (stack.workers.length > config.workers) await stack.stopProcess(stack.workers.at(-1)!);
    while (stack.apis.length < config.apis) await stack.startApi();
    while (stack.apis.length > config.apis) await stack.stopProcess(stack.apis.at(-1)!.proc);
    const apis = [...stack.apis];
    const customers = Array.from({ length: perConfig }, (_, i) => customerId(60 + k, i));
    const ids = customers.map((cu) => conversationId(account.id, channel, cu));
    ctx.log(`scale-out: ${config.workers} worker(s), ${config.apis} API(s): ingest ${sizes.scaleMs / 1000} s, then replies ${sizes.scaleMs / 1000} s`);
    const cpuEnd = cpuWindow(stack.pids());
    const started = Date.now();
    const ingest = await closedLoop({
      concurrency: sizes.concurrency,
      count: 1_000_000,
      durationMs: sizes.scaleMs,
      task: async (i) => {
        const messageId = `scale-${k}-${i}`;
        ledger.attempt(messageId);
        const res = await apis[i % apis.length]!.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customers[i % perConfig]!, messageId), account.serviceKey);
        if (res.status !== 202) return `HTTP ${res.status}`;
        ledger.accept(ids[i % perConfig]!, messageId);
        return true;
      },
    });
    const caught = await waitForInbound(stack.db, account.id, ledger.acceptedCount, 120_000);
    const persistedRate = ingest.ok / ((caught.at - started) / 1000);
    const replies = await closedLoop({
      concurrency: sizes.concurrency,
      count: 1_000_000,
      durationMs: sizes.scaleMs,
      task: async (i) => {
        const id = ids[i % perConfig]!;
        const res = await apis[i % apis.length]!.http.post(conversationPath(account.id, id, '/replies'), { text: `r${i}` }, account.agentKey);
        if (res.status !== 200) return `HTTP ${res.status} ${res.body?.error?.code ?? ''}`.trim();
        ledger.reply(id);
        return true;
      },
    });
    const cpu = cpuEnd();
    const point: ScalePoint = {
      ...config,
      ingest: { accepted: ingest.ok, failed: ingest.failed, acceptRate: round(ingest.rate), persistedRate: round(persistedRate) },
      replies: { ok: replies.ok, failed: replies.failed, rate: round(replies.rate), latencyMs: summarize(replies.latencies) },
      cpu,
    };
    points.push(point);
    ctx.log(
      `  ingest ${point.ingest.persistedRate}/s persisted (${ingest.failed} failed), replies ${point.replies.rate}/s p99 ${point.replies.latencyMs.p99} ms (${replies.failed} failed); CPU: ${formatCpu(cpu)}`,
    );
  }
  // Back to one of each for whatever runs next.
  while (stack.workers.length > 1) await stack.stopProcess(stack.workers.at(-1)!);
  while (stack.apis.length > 1) await stack.stopProcess(stack.apis.at(-1)!.proc);
  const timeline = await checkTimelines(stack.db, account.id, ledger);
  const views = await checkViews(stack.client, stack.db, ledger.conversations());
  ctx.log(
    `  correctness: ${timeline.accepted} accepted messages, lost ${timeline.lost}, duplicated ${timeline.duplicated}, replies mismatched ${timeline.repliesMismatched}; ` +
      `${views.checked} views, ${views.mismatched} differ from their workflow`,
  );
  return { points, timeline, views };
}
