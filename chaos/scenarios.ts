import type { BenchAccount } from '../bench/accounts';
import { createBenchAccount, conversationPath, conversationId, customerId } from '../bench/accounts';
import { mapLimit, sleep, waitUntil } from '../bench/load';
import type { ApiProcess, BenchStack } from '../bench/stack';
import { Ledger, checkTimelines, checkViews, missedAutoCloses, waitForInbound } from '../bench/verify';
import { collections } from '../store/collections';
import { channel, deliver, shuffle } from './deliver';
import type { Delivery, DeliveryReport } from './deliver';

/**
 * The fault-injection scenarios. Each one runs a load against the real stack, breaks something in the
 * middle, repairs it, and then checks the promises: every accepted message in its timeline exactly once,
 * every due auto-close done, every MongoDB view equal to its workflow's state.
 */
export interface ChaosContext {
  stack: BenchStack;
  api: () => ApiProcess;
  quick: boolean;
  /** Conversations per load scenario, and messages to each. */
  conversations: number;
  messagesEach: number;
  outageMs: number;
  log(line: string): void;
}

export interface Outcome {
  name: string;
  passed: boolean;
  counts: Record<string, number>;
  notes: string[];
}

export interface Scenario {
  name: string;
  run(ctx: ChaosContext): Promise<Outcome>;
}

let group = 10;

function plan(conversations: number, messagesEach: number, tag: string): { plan: Delivery[]; customers: string[] } {
  const g = group++;
  const customers = Array.from({ length: conversations }, (_, i) => customerId(g, i));
  const out: Delivery[] = [];
  // Round robin over the conversations, so the fault lands while many of them are mid-stream.
  for (let k = 0; k < messagesEach; k++) for (const c of customers) out.push({ customer: c, messageId: `${tag}-${c}-${k}` });
  return { plan: out, customers };
}

/** The checks every scenario ends with, and the verdict: every count must be zero. */
async function settleAndCheck(
  ctx: ChaosContext,
  name: string,
  account: BenchAccount,
  ledger: Ledger,
  report: DeliveryReport,
  extra: { counts?: Record<string, number>; mustBeZero?: string[]; notes?: string[] } = {},
): Promise<Outcome> {
  const { stack } = ctx;
  const caught = await waitForInbound(stack.db, account.id, ledger.acceptedCount, 120_000);
  if (!caught.ok) ctx.log(`  timelines hold ${caught.count} of ${ledger.acceptedCount} accepted messages after 120 s`);
  const timeline = await checkTimelines(stack.db, account.id, ledger);
  const ids = ledger.conversations();
  const views = await checkViews(stack.client, stack.db, ids, 30_000);
  const autoClose = await missedAutoCloses(stack.db, ids);
  const counts: Record<string, number> = {
    conversations: ids.length,
    accepted: timeline.accepted,
    lost: timeline.lost,
    duplicated: timeline.duplicated,
    unexpected: timeline.unexpected,
    repliesMismatched: timeline.repliesMismatched,
    mismatchedViews: views.mismatched,
    unreachableWorkflows: views.unreachable,
    missedAutoCloses: autoClose.missed,
    gaveUp: report.gaveUp,
    retriedDeliveries: report.retries,
    ...extra.counts,
  };
  const mustBeZero = ['lost', 'duplicated', 'unexpected', 'repliesMismatched', 'mismatchedViews', 'unreachableWorkflows', 'missedAutoCloses', 'gaveUp', ...(extra.mustBeZero ?? [])];
  const notes = [...(extra.notes ?? []), ...timeline.examples, ...views.examples, ...autoClose.examples];
  if (Object.keys(report.failures).length) notes.push(`failed tries (retried): ${JSON.stringify(report.failures)}`);
  return { name, passed: mustBeZero.every((k) => counts[k] === 0), counts, notes };
}

/**
 * The shape every fault scenario shares: a fresh account, the standard load of customer messages,
 * and `fault` run once a third of the messages were accepted.
 */
async function loadWithFault(ctx: ChaosContext, tag: string, fault: (account: Awaited<ReturnType<typeof createBenchAccount>>) => Promise<void>) {
  const account = await createBenchAccount(ctx.api().http, ctx.stack.platformKey, `chaos-${tag}`);
  const ledger = new Ledger();
  const { plan: p } = plan(ctx.conversations, ctx.messagesEach, tag);
  const report = await deliver({
    http: () => ctx.api().http,
    account,
    ledger,
    plan: p,
    concurrency: 32,
    deadlineMs: 180_000,
    log: ctx.log,
    midway: { afterAccepted: Math.floor(p.length / 3), action: () => fault(account) },
  });
  return { account, ledger, report };
}

export const killWorker: Scenario = {
  name: 'kill -9 the worker mid-load, then restart it',
  async run(ctx) {
    const { stack } = ctx;
    let downMs = 0;
    const { account, ledger, report } = await loadWithFault(ctx, 'kill', async () => {
      const worker = stack.workers[0]!;
      ctx.log(`  kill -9 worker pid ${worker.pid}`);
      const t = Date.now();
      await worker.kill9();
      await sleep(2_000);
      const next = await stack.replaceWorker(worker);
      downMs = Date.now() - t;
      ctx.log(`  worker restarted as pid ${next.pid} after ${downMs} ms`);
    });
    return settleAndCheck(ctx, this.name, account, ledger, report, { notes: [`worker down ${downMs} ms (including the new worker's start)`] });
  },
};

export const restartTemporal: Scenario = {
  name: 'restart the Temporal dev server (same SQLite file) during the load',
  async run(ctx) {
    const { stack } = ctx;
    let downMs = 0;
    let workerCrashed = 0;
    const { account, ledger, report } = await loadWithFault(ctx, 'tmprl', async () => {
      ctx.log(`  stopping the Temporal dev server (pid ${stack.temporal.pid})`);
      const t = Date.now();
      await stack.stopTemporal();
      await sleep(2_000);
      await stack.startTemporal();
      downMs = Date.now() - t;
      ctx.log(`  Temporal dev server back as pid ${stack.temporal.pid} after ${downMs} ms`);
    });
    // A worker that gave up on the server is a crash the operator would have to notice.
    for (const [i, w] of stack.workers.entries()) {
      if (w.hasExited()) {
        workerCrashed++;
        ctx.log(`  worker ${w.name} exited during the restart; starting another. Its log:\n${w.tail(10)}`);
        stack.workers[i] = await stack.replaceWorker(w);
      }
    }
    const apiCrashed = ctx.api().proc.hasExited() ? 1 : 0;
    return settleAndCheck(ctx, this.name, account, ledger, report, {
      counts: { workerCrashed, apiCrashed },
      mustBeZero: ['workerCrashed', 'apiCrashed'],
      notes: [`Temporal down ${downMs} ms (including its start)`],
    });
  },
};

export const stopFerret: Scenario = {
  name: 'stop FerretDB during the load, then start it again',
  async run(ctx) {
    const { stack } = ctx;
    const reads = { ok: 0, unavailable503: 0, other: 0 };
    const otherAnswers: Record<string, number> = {};
    const { account, ledger, report } = await loadWithFault(ctx, 'ferret', async (account) => {
      ctx.log(`  stopping FerretDB for ${ctx.outageMs / 1000} s; reading the inbox through the API meanwhile`);
      await stack.stopFerret();
      const until = Date.now() + ctx.outageMs;
      // Readers: each read must answer 503 `unavailable`, not hang, fail otherwise or crash the API.
      await mapLimit([0, 1], 2, async () => {
        while (Date.now() < until) {
          try {
            const res = await ctx.api().http.request('GET', `/v1/accounts/${account.id}/conversations?status=open`, account.agentKey, undefined, 10_000);
            if (res.status === 200) reads.ok++;
            else if (res.status === 503 && res.body?.error?.code === 'unavailable') reads.unavailable503++;
            else {
              reads.other++;
              const k = `HTTP ${res.status} ${res.body?.error?.code ?? ''}`;
              otherAnswers[k] = (otherAnswers[k] ?? 0) + 1;
            }
          } catch (error) {
            reads.other++;
            const k = error instanceof Error ? error.message.slice(0, 60) : 'error';
            otherAnswers[k] = (otherAnswers[k] ?? 0) + 1;
          }
          await sleep(250);
        }
      });
      await stack.startFerret();
      ctx.log(`  FerretDB back; reads meanwhile: ${reads.unavailable503} answered 503 unavailable, ${reads.ok} 200, ${reads.other} other`);
    });
    const apiCrashed = ctx.api().proc.hasExited() ? 1 : 0;
    const workerCrashed = stack.workers.filter((w) => w.hasExited()).length;
    const notes = Object.keys(otherAnswers).length ? [`other answers while down: ${JSON.stringify(otherAnswers)}`] : [];
    const outcome = await settleAndCheck(ctx, this.name, account, ledger, report, {
      counts: { readsUnavailable503: reads.unavailable503, readsOk: reads.ok, readsOther: reads.other, apiCrashed, workerCrashed },
      mustBeZero: ['readsOther', 'readsOk', 'apiCrashed', 'workerCrashed'],
      notes,
    });
    if (reads.unavailable503 === 0) {
      outcome.passed = false;
      outcome.notes.push('no read was answered 503 while FerretDB was down');
    }
    return outcome;
  },
};

export const tripleDelivery: Scenario = {
  name: 'deliver every customer message three times, concurrently, out of order',
  async run(ctx) {
    const { stack } = ctx;
    const account = await createBenchAccount(ctx.api().http, stack.platformKey, 'chaos-dup');
    const ledger = new Ledger();
    const { plan: p } = plan(ctx.conversations, ctx.messagesEach, 'dup');
    const shuffled = shuffle(p, 6).map((d) => ({ ...d, copies: 3 }));
    const report = await deliver({ http: () => ctx.api().http, account, ledger, plan: shuffled, concurrency: 16, deadlineMs: 180_000, log: ctx.log });
    return settleAndCheck(ctx, this.name, account, ledger, report, { notes: [`${shuffled.length * 3} deliveries of ${shuffled.length} messages`] });
  },
};

export const autoCloseWhileWorkerDown: Scenario = {
  name: 'auto-close deadlines fall due while the worker is down',
  async run(ctx) {
    const { stack } = ctx;
    // Long enough that assigning every conversation (slow on a loaded machine) ends before the first
    // deadline, so the deadlines really fall due while no worker runs.
    const autoCloseAfter = ctx.quick ? '30s' : '60s';
    const account = await createBenchAccount(ctx.api().http, stack.platformKey, 'chaos-timer', { autoCloseAfter });
    const ledger = new Ledger();
    const n = Math.min(ctx.conversations, ctx.quick ? 100 : 1_000);
    const { plan: p, customers } = plan(n, 1, 'timer');
    const report = await deliver({ http: () => ctx.api().http, account, ledger, plan: p, concurrency: 32, deadlineMs: 60_000 });
    await waitForInbound(stack.db, account.id, ledger.acceptedCount, 60_000);
    const ids = customers.map((c) => conversationId(account.id, channel, c));
    let replyFailures = 0;
    await mapLimit(ids, 32, async (id) => {
      // A 503 (Temporal's deadline under load) may still have landed: retry with the same Idempotency-Key,
      // so the reply is recorded once either way, as a careful client would.
      for (let attempt = 1; attempt <= 5; attempt++) {
        const res = await ctx.api().http.request('POST', conversationPath(account.id, id, '/replies'), account.agentKey, { text: 'on it' }, 30_000, {
          'idempotency-key': `assign-${id}`,
        });
        if (res.status === 200) {
          ledger.reply(id);
          return;
        }
      }
      replyFailures++;
    });
    const worker = stack.workers[0]!;
    ctx.log(`  ${ids.length} conversations assigned (autoCloseAfter ${autoCloseAfter}); kill -9 worker pid ${worker.pid}`);
    await worker.kill9();
    const c = collections(stack.db).conversations;
    const assignedAtKill = await c.countDocuments({ _id: { $in: ids }, status: 'assigned' });
    const views = await c.find({ _id: { $in: ids } }, { projection: { autoCloseAt: 1 } }).toArray();
    const latest = Math.max(...views.map((v) => (v.autoCloseAt ? Date.parse(v.autoCloseAt) : 0)));
    const stillAssignedWhileDown = async () => c.countDocuments({ _id: { $in: ids }, status: 'assigned' });
    await sleep(Math.max(0, latest - Date.now()) + 2_000);
    const assignedPastDeadline = await stillAssignedWhileDown();
    ctx.log(`  every deadline has passed; ${assignedPastDeadline} of ${assignedAtKill} assigned at the kill are still assigned with no worker; restarting it`);
    const restartedAt = Date.now();
    await stack.replaceWorker(worker);
    const closed = await waitUntil(async () => (await c.countDocuments({ _id: { $in: ids }, status: 'closed', closedReason: 'inactivity' })) >= ids.length, {
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    const closedCount = await c.countDocuments({ _id: { $in: ids }, status: 'closed', closedReason: 'inactivity' });
    ctx.log(`  ${closedCount} of ${ids.length} closed by inactivity ${closed.at - restartedAt} ms after the restart`);
    return settleAndCheck(ctx, this.name, account, ledger, report, {
      counts: { dueWhileDown: assignedPastDeadline, closedBeforeTheKill: ids.length - assignedAtKill, notClosedByInactivity: ids.length - closedCount, replyFailures },
      mustBeZero: ['notClosedByInactivity', 'replyFailures', 'closedBeforeTheKill'],
      notes: [`all closed ${closed.at - restartedAt} ms after the worker restarted`],
    });
  },
};

export const scenarios: Scenario[] = [killWorker, restartTemporal, stopFerret, tripleDelivery, autoCloseWhileWorkerDown];
