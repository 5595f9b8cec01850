import type { BenchAccount } from '../bench/accounts';
import { createBenchAccount, conversationPath, conversationId, customerId } from '../bench/accounts';
import { mapLimit, sleep, waitUntil } from '../bench/load';
import type { ApiProcess, BenchStack } from '../bench/stack';
import { Ledger, checkKeptCounts, checkTimelines, checkViews, missedAutoCloses, waitForInbound } from '../bench/verify';
import type { FakeGraph } from '../test/support/fake-graph';
import { collections } from '../store/collections';
import type { TimelineMessage, WhatsAppChannel } from '../bench/whatsapp';
import { configureWhatsAppChannel, openConversations, outboundTimeline, sendsByText, signedHeaders } from '../bench/whatsapp';
import { inboundTextBody, metaWebhookBody } from '../test/support/fake-graph';
import { channel, deliver, shuffle, tryCounting } from './deliver';
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
  /** The fake WhatsApp Cloud API every worker sends to (WHATSAPP_GRAPH_URL). */
  graph: FakeGraph;
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
  const tabCounts = await checkKeptCounts(stack.db, account.id);
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
    countsMismatched: tabCounts.mismatched,
    gaveUp: report.gaveUp,
    retriedDeliveries: report.retries,
    ...extra.counts,
  };
  const mustBeZero = ['lost', 'duplicated', 'unexpected', 'repliesMismatched', 'mismatchedViews', 'unreachableWorkflows', 'missedAutoCloses', 'countsMismatched', 'gaveUp', ...(extra.mustBeZero ?? [])];
  const notes = [...(extra.notes ?? []), ...timeline.examples, ...views.examples, ...autoClose.examples, ...tabCounts.examples];
  if (Object.keys(report.failures).length) notes.push(`failed tries (retried): ${JSON.stringify(report.failures)}`);
  return { name, passed: mustBeZero.every((k) => counts[k] === 0), counts, notes };
}

/**
 * The shape every fault scenario shares: a fresh account, the standard load of customer messages,
 * and `fault` run once a third of the messages were accepted.
 */
/** Replaces every worker that exited while Temporal restarted (it gave up on the server); how many did. */
async function replaceExitedWorkers(ctx: ChaosContext): Promise<number> {
  const { stack } = ctx;
  let exited = 0;
  for (const [i, w] of stack.workers.entries()) {
    if (!w.hasExited()) continue;
    exited++;
    ctx.log(`  worker ${w.name} exited during the restart; starting another. Its log:\n${w.tail(10)}`);
    stack.workers[i] = await stack.replaceWorker(w);
  }
  return exited;
}

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
    const workerCrashed = await replaceExitedWorkers(ctx);
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


// --- Outbound delivery (SPEC section 7) -----------------------------------------------------------

interface OutboundProgress {
  total: number;
  /** Replies answered 200 so far. */
  accepted(): number;
  /** Every reply answered (or given up on) and every accepted one received by the fake Graph API. */
  done(): boolean;
}

interface FaultReport {
  counts?: Record<string, number>;
  mustBeZero?: string[];
  notes: string[];
}

interface AcceptedReply {
  conversationId: string;
  messageId: string;
}

const sentStatuses = new Set(['sent', 'delivered', 'read']);

/**
 * A WhatsApp Cloud channel, one conversation per customer, then one reply to each (paced over
 * `sendWindowMs`, so the fault lands while replies are still being accepted and sent) with `fault`
 * started once `startAfter` replies were accepted. Then every reply must reach the fake Graph API
 * (lost), be settled on its timeline (stuck: still `queued`), and show the status and wamid the fake
 * answered (mismatched). Duplicate sends are counted and reported: Graph has no idempotency key, so a
 * worker killed between Graph's answer and the `sends` record sends again (activities/delivery-activities.ts).
 */
async function outboundUnderFault(
  ctx: ChaosContext,
  name: string,
  tag: string,
  startAfter: number,
  fault: (progress: OutboundProgress, wa: WhatsAppChannel) => Promise<FaultReport>,
): Promise<Outcome> {
  const { stack, graph } = ctx;
  const http = () => ctx.api().http;
  const account = await createBenchAccount(http(), stack.platformKey, `chaos-${tag}`);
  const wa = await configureWhatsAppChannel(http(), stack.platformKey, account);
  const g = group++;
  const customers = Array.from({ length: ctx.conversations }, (_, i) => customerId(g, i));
  const ledger = new Ledger();
  const opened = await openConversations({ http, account, channel: wa.channel, customers, ledger, concurrency: 16 });
  const inbound = await waitForInbound(stack.db, account.id, ledger.acceptedCount, 120_000);
  ctx.log(`  ${opened.length} conversations opened on channel ${wa.channel} (${inbound.count} customer messages in timelines); one reply to each`);

  const fromUs = (r: { phoneNumberId: string }) => r.phoneNumberId === wa.phoneNumberId;
  const accepted = new Map<string, AcceptedReply>();
  const failures: Record<string, number> = {};
  let answered = 0;
  let gaveUp = 0;
  let retries = 0;
  const receivedAll = () => {
    const sends = sendsByText(graph, fromUs);
    for (const text of accepted.keys()) if (!sends.has(text)) return false;
    return true;
  };
  const progress: OutboundProgress = { total: opened.length, accepted: () => accepted.size, done: () => answered === opened.length && receivedAll() };

  const sendWindowMs = ctx.quick ? 20_000 : 40_000;
  const deadline = Date.now() + 240_000;
  const t0 = Date.now();
  let faultRun: Promise<FaultReport> | undefined;
  let lastLog = Date.now();
  await mapLimit(opened, 16, async (id, i) => {
    const due = t0 + (i * sendWindowMs) / opened.length;
    if (due > Date.now()) await sleep(due - Date.now());
    const text = `chaos ${tag} reply ${i} to ${id}`;
    for (;;) {
      // The same Idempotency-Key on every try: a 503 that did land is answered 200 by the retry, recorded once.
      const res = await tryCounting(failures, 200, () => http().request('POST', conversationPath(account.id, id, '/replies'), account.agentKey, { text }, 30_000, { 'idempotency-key': `${tag}-reply-${i}` }));
      if (res) {
        accepted.set(text, { conversationId: id, messageId: res.body.messageId });
        ledger.reply(id);
        break;
      }
      retries++;
      if (Date.now() > deadline) {
        gaveUp++;
        break;
      }
      await sleep(500);
    }
    answered++;
    if (!faultRun && accepted.size >= startAfter) faultRun = fault(progress, wa);
    if (Date.now() - lastLog > 3_000) {
      lastLog = Date.now();
      ctx.log(`  ${accepted.size} of ${opened.length} replies accepted, ${sendsByText(graph, fromUs).size} received by the fake Graph API, ${retries} retried`);
    }
  });
  const faultReport: FaultReport = faultRun ? await faultRun : { notes: ['the fault never ran: too few replies were accepted'] };
  ctx.log(`  ${accepted.size} replies accepted (${gaveUp} given up, ${retries} retried); waiting for every one to be sent and settled`);

  // Settle: every accepted reply at the fake, and no business message of the account still queued.
  const settleMs = 180_000;
  const queued = () => collections(stack.db).messages.countDocuments({ accountId: account.id, direction: 'outbound', 'delivery.status': 'queued' });
  const settleStart = Date.now();
  const settled = await waitUntil(async () => receivedAll() && (await queued()) === 0, { timeoutMs: settleMs, intervalMs: 1_000 });
  ctx.log(`  ${settled.ok ? 'settled' : `not settled after ${settleMs / 1000} s`} ${settled.at - settleStart} ms after the last reply was answered`);

  // The verdict reads the timelines through the API, as an agent would.
  const sends = sendsByText(graph, fromUs);
  const timelines = new Map<string, TimelineMessage[] | undefined>();
  await mapLimit([...new Set([...accepted.values()].map((r) => r.conversationId))], 8, async (id) => {
    timelines.set(id, await outboundTimeline(http(), account, id));
  });
  const counts: Record<string, number> = { conversations: opened.length, accepted: accepted.size, lost: 0, duplicated: 0, stuck: 0, mismatched: 0 };
  let failed = 0;
  let notInTimeline = 0;
  let recordedTwice = 0;
  const examples: string[] = [];
  const note = (text: string) => examples.length < 10 && examples.push(text);
  for (const [text, reply] of accepted) {
    const got = sends.get(text) ?? [];
    if (got.length === 0) {
      counts.lost!++;
      note(`lost: reply ${reply.messageId} in ${reply.conversationId} ("${text}") never reached the fake Graph API`);
    }
    if (got.length > 1) counts.duplicated! += got.length - 1;
    const matches = (timelines.get(reply.conversationId) ?? []).filter((m) => m.messageId === reply.messageId);
    if (matches.length > 1) recordedTwice += matches.length - 1;
    const m = matches[0];
    const status: string | undefined = m?.delivery?.status;
    if (!m) {
      notInTimeline++;
      counts.mismatched!++;
      note(`mismatched: reply ${reply.messageId} missing from the timeline of ${reply.conversationId}`);
    } else if (status === 'queued') {
      counts.stuck!++;
      note(`stuck: ${reply.conversationId} ${reply.messageId} still queued (updatedAt ${m.delivery?.updatedAt}; ${got.length} sends at the fake)`);
    } else if (!status || !sentStatuses.has(status) || !got.some((r) => r.wamid === m.delivery?.providerMessageId)) {
      if (status === 'failed') failed++;
      counts.mismatched!++;
      note(
        `mismatched: ${reply.conversationId} ${reply.messageId} delivery ${JSON.stringify(m.delivery)}; fake answered ${got.map((r) => r.wamid).join(', ') || 'nothing'}`,
      );
    }
  }
  let unexpectedSends = 0;
  for (const [text, got] of sends) if (!accepted.has(text)) unexpectedSends += got.length;
  // The replies assigned the conversations: their moves, through the fault, add up to the views.
  const tabCounts = await checkKeptCounts(stack.db, account.id);
  Object.assign(counts, { failedStatus: failed, notInTimeline, recordedTwice, unexpectedSends, replyGaveUp: gaveUp, retriedReplies: retries, countsMismatched: tabCounts.mismatched, ...faultReport.counts });
  const mustBeZero = ['lost', 'stuck', 'mismatched', 'countsMismatched', ...(faultReport.mustBeZero ?? [])];
  const notes = [...faultReport.notes, `settle ${settled.ok ? 'done' : 'timed out'} in ${settled.at - settleStart} ms; duplicates are reported, not failed (Graph has no idempotency key)`, ...examples, ...tabCounts.examples];
  if (Object.keys(failures).length) notes.push(`reply tries not answered 200 (retried): ${JSON.stringify(failures)}`);
  return { name, passed: counts.accepted! > 0 && mustBeZero.every((k) => counts[k] === 0), counts, notes };
}

export const outboundKillWorker: Scenario = {
  name: 'outbound: kill -9 the worker repeatedly while replies go out to WhatsApp',
  async run(ctx) {
    const { stack } = ctx;
    const kills = ctx.quick ? 3 : 5;
    const upMs = ctx.quick ? 3_000 : 4_000;
    return outboundUnderFault(ctx, this.name, 'outkill', Math.max(1, Math.floor(ctx.conversations / 20)), async (progress) => {
      const notes: string[] = [];
      let done = 0;
      let downMs = 0;
      for (let k = 1; k <= kills; k++) {
        await sleep(upMs);
        if (progress.done()) {
          notes.push(`sending finished after ${done} kills`);
          break;
        }
        const worker = stack.workers[0]!;
        const sent = progress.accepted();
        ctx.log(`  kill -9 ${k} of ${kills}: worker pid ${worker.pid} (${sent} of ${progress.total} replies accepted)`);
        const t = Date.now();
        await worker.kill9();
        await sleep(1_000);
        const next = await stack.replaceWorker(worker);
        downMs += Date.now() - t;
        done++;
        ctx.log(`  worker restarted as pid ${next.pid} after ${Date.now() - t} ms`);
      }
      notes.unshift(`${done} kills, worker down ${downMs} ms in all (including each new worker's start)`);
      return { counts: { kills: done }, notes };
    });
  },
};

export const outboundRestartTemporal: Scenario = {
  name: 'outbound: restart the Temporal dev server while replies go out to WhatsApp',
  async run(ctx) {
    const { stack } = ctx;
    return outboundUnderFault(ctx, this.name, 'outtmprl', Math.floor(ctx.conversations / 3), async () => {
      ctx.log(`  stopping the Temporal dev server (pid ${stack.temporal.pid})`);
      const t = Date.now();
      await stack.stopTemporal();
      await sleep(2_000);
      await stack.startTemporal();
      const downMs = Date.now() - t;
      ctx.log(`  Temporal dev server back as pid ${stack.temporal.pid} after ${downMs} ms`);
      // Give a worker that is giving up on the server the time to exit, then replace it (counted).
      await sleep(2_000);
      const workerCrashed = await replaceExitedWorkers(ctx);
      const apiCrashed = ctx.api().proc.hasExited() ? 1 : 0;
      return { counts: { workerCrashed, apiCrashed }, mustBeZero: ['workerCrashed', 'apiCrashed'], notes: [`Temporal down ${downMs} ms (including its start)`] };
    });
  },
};

// --- WhatsApp webhook bodies (SPEC section 7; issue 28, goal 6) ------------------------------------

/**
 * The webhook answers once a body is kept and the account's inbox workflow told; the fan-out follows. So
 * a process killed right after a 200 must lose nothing: signed 100-message bodies (50 customers, two
 * messages each, the first body opening their conversations) are posted one after the other, paced; the
 * API is killed -9 right after the 200 of some of them and started again (posts meanwhile fail and are
 * posted again, as Meta would), one body is delivered twice, and the worker is killed -9 once while it
 * fans a body out. Verdict: every message of every body answered 200 in its timeline exactly once, and
 * each conversation's messages in the order of the bodies and of the body (out of order: 0), no body
 * left pending or failed.
 */
export const webhookKills: Scenario = {
  name: 'webhook: 100-message bodies; kill -9 the API right after some 200s and the worker once mid-fan-out',
  async run(ctx) {
    const { stack } = ctx;
    const http = () => ctx.api().http;
    const account = await createBenchAccount(http(), stack.platformKey, 'chaos-webhook');
    const wa = await configureWhatsAppChannel(http(), stack.platformKey, account);
    const g = group++;
    const customers = Array.from({ length: 50 }, (_, i) => customerId(g, i));
    const bodyCount = ctx.quick ? 12 : 30;
    const perCustomer = 2;
    const apiKillsAfter = new Set(ctx.quick ? [2, 5, 8] : [3, 10, 17, 24]);
    const redeliverAfter = ctx.quick ? 3 : 12;
    const workerKillAfter = ctx.quick ? 4 : 14;
    const bodies = Array.from({ length: bodyCount }, (_, j) => {
      const items: { customer: string; wamid: string }[] = [];
      for (let r = 0; r < perCustomer; r++) for (const customer of customers) items.push({ customer, wamid: `wamid.chaos8-${customer}-${j * perCustomer + r}` });
      const messages = items.map((i) => inboundTextBody({ phoneNumberId: wa.phoneNumberId, from: i.customer, wamid: i.wamid, text: `chaos 8 ${i.wamid}` }).entry[0].changes[0].value.messages[0]);
      const body = metaWebhookBody({ phoneNumberId: wa.phoneNumberId, messages });
      return { items, body, headers: signedHeaders(body, wa.appSecret) };
    });

    const ledger = new Ledger();
    const failures: Record<string, number> = {};
    let retries = 0;
    let gaveUp = 0;
    let apiKills = 0;
    let redelivered = 0;
    const background: Promise<void>[] = [];
    let workerKilledMidFanOut = 0;
    const post = async (b: (typeof bodies)[number]): Promise<boolean> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        if (await tryCounting(failures, 200, () => http().request('POST', `/webhooks/whatsapp/${account.id}`, undefined, b.body, 30_000, b.headers))) return true;
        retries++;
        if (Date.now() > deadline) return false;
        await sleep(500);
      }
    };

    const windowMs = ctx.quick ? 20_000 : 40_000;
    const t0 = Date.now();
    for (const [j, b] of bodies.entries()) {
      const due = t0 + (j * windowMs) / bodyCount;
      if (due > Date.now()) await sleep(due - Date.now());
      for (const i of b.items) ledger.attempt(i.wamid);
      if (!(await post(b))) {
        gaveUp++;
        continue;
      }
      for (const i of b.items) ledger.accept(conversationId(account.id, wa.channel, i.customer), i.wamid);
      if (apiKills < apiKillsAfter.size && apiKillsAfter.has(j)) {
        // Right after the 200: the body is kept and the inbox told, nothing of it fanned out yet (or little).
        const api = ctx.api();
        await api.proc.kill9();
        apiKills++;
        ctx.log(`  body ${j + 1} answered 200; API pid ${api.proc.pid} killed -9 at once`);
        // Started again in the background: the next bodies' posts fail meanwhile and are posted again.
        background.push(
          (async () => {
            await sleep(1_000);
            const next = await stack.replaceApi(api);
            ctx.log(`  API restarted as pid ${next.proc.pid}`);
          })(),
        );
      }
      if (j === redeliverAfter) {
        redelivered++;
        if (!(await post(b))) gaveUp++;
      }
      if (j === workerKillAfter) {
        background.push(
          (async () => {
            // The body was answered just now: its fan-out (about a second for 100 messages) is under way.
            await sleep(300);
            const worker = stack.workers[0]!;
            const pending = await collections(stack.db).inboundBodies.countDocuments({ accountId: account.id, state: 'pending' });
            if (pending > 0) workerKilledMidFanOut++;
            ctx.log(`  kill -9 worker pid ${worker.pid} (${pending} bodies pending)`);
            await worker.kill9();
            await sleep(1_000);
            const next = await stack.replaceWorker(worker);
            ctx.log(`  worker restarted as pid ${next.pid}`);
          })(),
        );
      }
    }
    await Promise.all(background);
    ctx.log(`  ${bodyCount - gaveUp} of ${bodyCount} bodies answered 200 (${retries} posts retried, ${apiKills} API kills); waiting for the fan-out`);

    const bodyDocs = collections(stack.db).inboundBodies;
    const fanned = await waitUntil(async () => (await bodyDocs.countDocuments({ accountId: account.id, state: 'pending' })) === 0, { timeoutMs: 240_000, intervalMs: 500 });
    ctx.log(`  ${fanned.ok ? 'every body fanned out' : 'bodies still pending after 240 s'} ${fanned.at - t0} ms after the first post`);
    const bodiesPending = await bodyDocs.countDocuments({ accountId: account.id, state: 'pending' });
    const bodiesFailed = await bodyDocs.countDocuments({ accountId: account.id, state: 'failed' });
    const bodiesKept = await bodyDocs.countDocuments({ accountId: account.id });

    // Order: each conversation's customer messages by seq must follow the message numbers (body, then place in it).
    const docs = await collections(stack.db).messages.find({ accountId: account.id, direction: 'inbound' }, { projection: { conversationId: 1, messageId: 1, seq: 1 } }).toArray();
    const byConversation = new Map<string, { seq: number; n: number }[]>();
    for (const d of docs) {
      const n = Number(d.messageId.split('-').at(-1));
      const list = byConversation.get(d.conversationId) ?? [];
      list.push({ seq: d.seq, n });
      byConversation.set(d.conversationId, list);
    }
    let outOfOrder = 0;
    const orderNotes: string[] = [];
    for (const [id, list] of byConversation) {
      list.sort((a, b) => a.seq - b.seq);
      for (let k = 1; k < list.length; k++) {
        if (list[k]!.n < list[k - 1]!.n) {
          outOfOrder++;
          if (orderNotes.length < 5) orderNotes.push(`out of order in ${id}: message ${list[k]!.n} after ${list[k - 1]!.n}`);
        }
      }
    }
    const report: DeliveryReport = { accepted: ledger.acceptedCount, gaveUp, retries, failures };
    const apiCrashed = ctx.api().proc.hasExited() ? 1 : 0;
    return settleAndCheck(ctx, this.name, account, ledger, report, {
      counts: { bodies: bodyCount, bodiesKept, bodiesPending, bodiesFailed, outOfOrder, apiKills, redelivered, workerKilledMidFanOut, apiCrashed },
      mustBeZero: ['outOfOrder', 'bodiesPending', 'bodiesFailed', 'apiCrashed'],
      notes: [`bodies posted over ${windowMs / 1000} s; kept ${bodiesKept} documents for ${bodyCount} bodies`, ...orderNotes],
    });
  },
};

export const scenarios: Scenario[] = [killWorker, restartTemporal, stopFerret, tripleDelivery, autoCloseWhileWorkerDown, outboundKillWorker, outboundRestartTemporal, webhookKills];
