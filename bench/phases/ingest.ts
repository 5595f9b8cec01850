import { randomUUID } from 'node:crypto';
import { createBenchAccount, customerId, conversationId } from '../accounts';
import type { BenchAccount } from '../accounts';
import type { BenchContext } from '../context';
import { closedLoop, mapLimit, summarize, waitUntil } from '../load';
import type { LatencySummary } from '../load';
import { noopCountQuery, noopSignal, noopWorkflow } from '../noop-workflows';
import { cpuWindow, formatCpu } from '../proc-stats';
import type { CpuShare } from '../proc-stats';
import { Ledger, waitForInbound } from '../verify';

/**
 * 1. Ingest at saturation: customer messages through POST /v1/accounts/{id}/messages, spread over many
 * conversations, counted until their views are persisted; against bare signal-with-start of a no-op
 * workflow with the same client concurrency.
 */
export interface IngestResult {
  concurrency: number;
  conversations: number;
  api: {
    accepted: number;
    failed: number;
    /** 202s per second while sending. */
    acceptRate: number;
    /** Accepted messages per second from the first send until every view had caught up. */
    persistedRate: number;
    viewsCaughtUpAfterLoadMs: number;
    latency202Ms: LatencySummary;
    cpu: CpuShare;
  };
  /** rate: signal-with-starts accepted per second; handledRate: until the no-op workflows had handled them all. */
  baseline: { calls: number; failed: number; rate: number; handledRate: number; latencyMs: LatencySummary; cpu: CpuShare };
  /** persistedRate / baseline rate (goal: at least 0.8). */
  ratio: number;
}

export interface IngestState {
  account: BenchAccount;
  ledger: Ledger;
  conversationIds: string[];
  noopWorkflowIds: string[];
  /** How many of noopWorkflowIds the baseline started (the first ones, in order). */
  noopStarted: number;
}

export const channel = 'wa-main';

export function messageBody(customer: string, messageId: string) {
  return { channel, customer, messageId, text: `bench message ${messageId}` };
}

export async function runIngest(ctx: BenchContext): Promise<{ result: IngestResult; state: IngestState }> {
  const { stack, api, sizes } = ctx;
  const account = await createBenchAccount(api.http, stack.platformKey, 'ingest');
  const ledger = new Ledger();
  const n = sizes.ingestConversations;
  const customers = Array.from({ length: n }, (_, i) => customerId(1, i));
  const conversationIds = customers.map((c) => conversationId(account.id, channel, c));
  const tag = randomUUID().slice(0, 6);
  const noopWorkflowIds = customers.map((c) => `noop-${tag}-${c}`);
  const maxCount = 1_000_000;

  ctx.log(`baseline: signal-with-start of a no-op workflow, ${sizes.concurrency} in flight, ${n} workflows, ${sizes.baselineMs / 1000} s`);
  let cpuEnd = cpuWindow(stack.pids());
  const base = await closedLoop({
    concurrency: sizes.concurrency,
    count: maxCount,
    durationMs: sizes.baselineMs,
    onProgress: (done, ms) => ctx.log(`  ${done} signals in ${(ms / 1000).toFixed(0)} s`),
    task: async (i) => {
      const customer = customers[i % n]!;
      await stack.client.workflow.signalWithStart(noopWorkflow, {
        workflowId: noopWorkflowIds[i % n]!,
        taskQueue: ctx.noopQueue,
        signal: noopSignal,
        signalArgs: [messageBody(customer, `noop-${i}`)],
      });
      return true;
    },
  });
  // Until the no-op worker has handled every signal: its backlog would otherwise take CPU from the
  // ingest measured next, and this gives the baseline's end-to-end rate to set beside ours.
  const baseLoadEnded = Date.now();
  const started = noopWorkflowIds.slice(0, Math.min(n, base.ok));
  const handled = async () => (await mapLimit(started, 8, (id) => stack.client.workflow.getHandle(id).query(noopCountQuery))).reduce((a, b) => a + b, 0);
  const drained = await waitUntil(async () => (await handled()) >= base.ok, { timeoutMs: 120_000, intervalMs: 250 });
  const baseCpu = cpuEnd();
  const baseProcessedRate = base.ok / ((drained.at - baseLoadEnded + sizes.baselineMs) / 1000);
  ctx.log(
    `  baseline: ${base.rate.toFixed(0)} signal-with-starts/s accepted, ${baseProcessedRate.toFixed(0)}/s handled by the no-op workflows ` +
      `(${drained.ok ? `drained ${drained.at - baseLoadEnded} ms after the load` : 'NOT drained within 120 s'}); ${base.failed} failed; CPU: ${formatCpu(baseCpu)}`,
  );

  ctx.log(`ingest: POST /messages, ${sizes.concurrency} in flight over ${n} conversations, ${sizes.ingestMs / 1000} s, then until views caught up`);
  cpuEnd = cpuWindow(stack.pids());
  const loadStarted = Date.now();
  const load = await closedLoop({
    concurrency: sizes.concurrency,
    count: maxCount,
    durationMs: sizes.ingestMs,
    onProgress: (done, ms) => ctx.log(`  ${done} messages in ${(ms / 1000).toFixed(0)} s`),
    task: async (i) => {
      const customer = customers[i % n]!;
      const messageId = `in-${i}`;
      ledger.attempt(messageId);
      const res = await api.http.post(`/v1/accounts/${account.id}/messages`, messageBody(customer, messageId), account.serviceKey);
      if (res.status !== 202) return `HTTP ${res.status}`;
      ledger.accept(conversationIds[i % n]!, messageId);
      return true;
    },
  });
  const loadEnded = Date.now();
  const caught = await waitForInbound(stack.db, account.id, ledger.acceptedCount, 120_000);
  const apiCpu = cpuEnd();
  if (!caught.ok) ctx.log(`  views did not catch up within 120 s: ${caught.count} of ${ledger.acceptedCount}`);
  const persistedRate = ledger.acceptedCount / ((caught.at - loadStarted) / 1000);
  const s = summarize(load.latencies);
  ctx.log(
    `  ingest: ${load.rate.toFixed(0)} accepted/s, ${persistedRate.toFixed(0)}/s persisted (views caught up ${caught.at - loadEnded} ms after the load); ` +
      `${load.failed} failed; CPU: ${formatCpu(apiCpu)}`,
  );
  const bs = summarize(base.latencies);
  return {
    result: {
      concurrency: sizes.concurrency,
      conversations: n,
      api: {
        accepted: ledger.acceptedCount,
        failed: load.failed,
        acceptRate: round(load.rate),
        persistedRate: round(persistedRate),
        viewsCaughtUpAfterLoadMs: caught.at - loadEnded,
        latency202Ms: s,
        cpu: apiCpu,
      },
      baseline: { calls: base.ok, failed: base.failed, rate: round(base.rate), handledRate: round(baseProcessedRate), latencyMs: bs, cpu: baseCpu },
      ratio: round(persistedRate / base.rate, 3),
    },
    state: { account, ledger, conversationIds, noopWorkflowIds, noopStarted: Math.min(n, base.ok) },
  };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
