import { conversationPath } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, openLoop, summarize } from '../load';
import type { LatencySummary } from '../load';
import { noopUpdate } from '../noop-workflows';
import { cpuWindow, formatCpu } from '../proc-stats';
import type { CpuShare } from '../proc-stats';
import { formatStages, scrapeStages, stageTimes } from '../stage-times';
import type { StageTime } from '../stage-times';
import type { IngestState } from './ingest';
import { round } from './ingest';

/**
 * 2. Agent replies: POST .../replies latency at fractions of the reply saturation rate (open loop, so a
 * slow answer does not lower the offered load), against a bare Workflow Update round trip on a no-op
 * workflow at the same offered rates.
 */
export interface ReplyLevel {
  fraction: number;
  offeredRate: number;
  api: { ok: number; failed: number; failures: Record<string, number>; latencyMs: LatencySummary; cpu: CpuShare };
  /** Mean time per stage of the replies of this level (and of the sends they caused meanwhile). */
  stages: StageTime[];
  baseline: { ok: number; failed: number; latencyMs: LatencySummary };
  ratioP50: number;
  ratioP99: number;
}

export interface RepliesResult {
  saturation: { concurrency: number; apiRate: number; baselineRate: number; apiLatencyMs: LatencySummary; cpu: CpuShare };
  levels: ReplyLevel[];
}

export async function runReplies(ctx: BenchContext, ingest: IngestState): Promise<RepliesResult> {
  const { stack, api, sizes } = ctx;
  const { account, ledger } = ingest;
  // Only conversations that exist: on a slow machine the ingest phase may not have reached every one.
  const conversationIds = ingest.conversationIds.filter((id) => ledger.accepted.has(id));
  const noopWorkflowIds = ingest.noopWorkflowIds.slice(0, ingest.noopStarted);
  const n = conversationIds.length;
  if (n === 0 || noopWorkflowIds.length === 0) throw new Error('replies: the ingest phase opened no conversation');
  const reply = async (i: number): Promise<true | string> => {
    const id = conversationIds[i % n]!;
    const res = await api.http.post(conversationPath(account.id, id, '/replies'), { text: `reply ${i}` }, account.agentKey);
    if (res.status !== 200) return `HTTP ${res.status} ${res.body?.error?.code ?? ''}: ${String(res.body?.error?.message ?? '').slice(0, 60)}`;
    ledger.reply(id);
    return true;
  };
  // The worker's and the API's own histograms say where a reply's time goes (bench/stage-times.ts).
  const metricsUrls = { api: `${api.baseUrl}/metrics`, worker: stack.workerMetricsUrls.get(stack.workers[0]!) };
  let offset = 0;
  const bareUpdate = async (i: number): Promise<true> => {
    await stack.client.workflow.getHandle(noopWorkflowIds[i % noopWorkflowIds.length]!).executeUpdate(noopUpdate, { args: [{ text: `reply ${i}` }] });
    return true;
  };

  ctx.log(`replies: saturation with ${sizes.concurrency} in flight for ${sizes.replySaturationMs / 1000} s (API, then bare update)`);
  const cpuEnd = cpuWindow(stack.pids());
  const sat = await closedLoop({ concurrency: sizes.concurrency, count: 1_000_000, durationMs: sizes.replySaturationMs, task: (i) => reply(i + offset) });
  const satCpu = cpuEnd();
  offset += sat.ok + sat.failed;
  const baseSat = await closedLoop({ concurrency: sizes.concurrency, count: 1_000_000, durationMs: sizes.replySaturationMs, task: bareUpdate });
  ctx.log(`  saturation: API ${sat.rate.toFixed(0)} replies/s (${sat.failed} failed), bare update ${baseSat.rate.toFixed(0)}/s; CPU: ${formatCpu(satCpu)}`);
  if (sat.failed > 0) ctx.log(`  failures: ${JSON.stringify(sat.failures)}`);

  const levels: ReplyLevel[] = [];
  for (const fraction of sizes.replyLevels) {
    const rate = Math.max(1, sat.rate * fraction);
    const end = cpuWindow(stack.pids());
    const stagesBefore = await scrapeStages(metricsUrls);
    const start = offset;
    const real = await openLoop({ rate, durationMs: sizes.replyLevelMs, task: (i) => reply(i + start) });
    const cpu = end();
    const stages = stageTimes(stagesBefore, await scrapeStages(metricsUrls));
    offset += real.ok + real.failed;
    const base = await openLoop({ rate, durationMs: sizes.replyLevelMs, task: bareUpdate });
    const a = summarize(real.latencies);
    const b = summarize(base.latencies);
    levels.push({
      fraction,
      offeredRate: round(rate),
      api: { ok: real.ok, failed: real.failed, failures: real.failures, latencyMs: a, cpu },
      stages,
      baseline: { ok: base.ok, failed: base.failed, latencyMs: b },
      ratioP50: round(a.p50 / b.p50, 2),
      ratioP99: round(a.p99 / b.p99, 2),
    });
    ctx.log(
      `  ${Math.round(fraction * 100)}% (${rate.toFixed(0)}/s): reply p50 ${a.p50} p95 ${a.p95} p99 ${a.p99} ms; ` +
        `bare update p50 ${b.p50} p99 ${b.p99} ms; ratio p50 ${(a.p50 / b.p50).toFixed(2)} p99 ${(a.p99 / b.p99).toFixed(2)}` +
        (real.failed ? `; ${real.failed} failed ${JSON.stringify(real.failures)}` : ''),
    );
    ctx.log(`    mean per stage: ${formatStages(stages)}`);
  }
  return {
    saturation: { concurrency: sizes.concurrency, apiRate: round(sat.rate), baselineRate: round(baseSat.rate), apiLatencyMs: summarize(sat.latencies), cpu: satCpu },
    levels,
  };
}
