import os from 'node:os';
import { conversationId, conversationPath, createBenchAccount, customerId } from '../accounts';
import type { BenchContext } from '../context';
import { summarize } from '../load';
import type { LatencySummary } from '../load';
import { cpuSeconds, rssMiB } from '../proc-stats';
import { SseClient } from '../../test/support/sse-client';
import { decide, initialState } from '../../workflows/conversation/core/lifecycle';
import { defaultPolicy } from '../../workflows/conversation/core/policy';
import { toView } from '../../workflows/conversation/core/view';
import { channel, round } from './ingest';

/**
 * The account stream (SPEC section 8, store/STREAM.md): how long from the API's answer (202 for a
 * customer message, 200 for a reply) until a connected client has the event, with `stored`
 * conversations in the account; and what idle connected clients cost the API process.
 */
export interface StreamResult {
  stored: number;
  /** A customer's first message: the 202 starts a new conversation workflow. */
  customerMessageMs: LatencySummary;
  /** A customer's next message, to a conversation whose workflow is running (the usual case). */
  followUpMs: LatencySummary;
  /** Replies flush the view (and the log entry) before answering: about one poll; negative if the event came first. */
  replyMs: LatencySummary;
  /** For replies: from sending the request to the event at the client. */
  replyFromRequestMs: LatencySummary;
  /**
   * The customer messages' time split at the view's `updatedAt` (the workflow's clock when it decided):
   * 202 → decided is Temporal and the workflow; decided → event is persist, the log and the poller.
   */
  customerSplitMs: { toDecision: LatencySummary; decisionToEvent: LatencySummary };
  loadAverage: number[];
  idle: { clients: number; seconds: number; cpuPercentBaseline: number; cpuPercentWithClients: number; rssMiBBefore: number; rssMiBWithClients: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runStream(ctx: BenchContext): Promise<StreamResult> {
  const { stack, api, quick } = ctx;
  const stored = 10_000;
  const samples = quick ? 40 : 200;
  const idleClients = 100;
  const idleSeconds = quick ? 10 : 30;
  const account = await createBenchAccount(api.http, stack.platformKey, 'stream');

  // The stored conversations, seeded as the inbox phase does: what a workflow would have written.
  ctx.log(`stream: seeding ${stored} conversation views`);
  const views = stack.db.collection<{ _id: string } & Record<string, unknown>>('conversations');
  for (let seeded = 0; seeded < stored; ) {
    const batch = Array.from({ length: Math.min(1_000, stored - seeded) }, (_, j) => {
      const customer = customerId(7, seeded + j);
      const state = initialState({ conversationId: conversationId(account.id, channel, customer), accountId: account.id, channel, customer });
      const d = decide(state, { type: 'customerMessage', message: { messageId: `seed-${seeded + j}`, text: 'hello' } }, { kind: 'customer' }, defaultPolicy, Date.now() - 3600_000);
      if (!d.ok) throw new Error(d.message);
      const { id: _id, ...fields } = toView(d.state, defaultPolicy);
      return { _id, ...fields };
    });
    await views.insertMany(batch, { ordered: false });
    seeded += batch.length;
  }

  const streamUrl = `${api.baseUrl}/v1/accounts/${account.id}/stream`;
  const client = await SseClient.open(streamUrl, { authorization: `Bearer ${account.agentKey}` });
  await client.next((e) => e.type === 'ready');
  const arrivals = new Map<string, number>();
  const decisions = new Map<string, { updatedAt: number; arrivedAt: number }>();
  client.onEvent = (e) => {
    if (e.type === 'message') arrivals.set(`${e.data.conversationId}/${e.data.messageId}`, performance.now());
    if (e.type === 'conversation' && !decisions.has(e.data.id)) decisions.set(e.data.id, { updatedAt: Date.parse(e.data.updatedAt), arrivedAt: Date.now() });
  };
  // Keyed by conversation too: business messages' ids are numbered per conversation.
  const waitFor = async (conversation: string, messageId: string) => {
    const key = `${conversation}/${messageId}`;
    for (let i = 0; i < 1_000 && !arrivals.has(key); i++) await sleep(5);
    const at = arrivals.get(key);
    if (at === undefined) throw new Error(`stream: message ${messageId} never arrived`);
    return at;
  };

  ctx.log(`stream: ${samples} first customer messages, replies and next customer messages, one at a time, with a client connected`);
  const customerMs: number[] = [];
  const replyMs: number[] = [];
  const followUpMs: number[] = [];
  const replyFromRequestMs: number[] = [];
  const toDecision: number[] = [];
  const decisionToEvent: number[] = [];
  const loadAverage = os.loadavg().map((x) => round(x, 2));
  for (let i = 0; i < samples; i++) {
    const customer = customerId(8, i);
    const messageId = `wamid.stream-${i}`;
    const res = await api.http.post(`/v1/accounts/${account.id}/messages`, { channel, customer, messageId, text: `sample ${i}` }, account.serviceKey);
    const answered = performance.now();
    const answeredWall = Date.now();
    if (res.status !== 202) throw new Error(`stream: customer message answered ${res.status}`);
    customerMs.push((await waitFor(res.body.conversationId, messageId)) - answered);
    for (let w = 0; w < 100 && !decisions.has(res.body.conversationId); w++) await sleep(5);
    const decision = decisions.get(res.body.conversationId);
    if (decision) {
      toDecision.push(decision.updatedAt - answeredWall);
      decisionToEvent.push(decision.arrivedAt - decision.updatedAt);
    }
    // Random spacing, so samples do not line up with the poller's interval.
    await sleep(Math.random() * 100);
    const sent = performance.now();
    const reply = await api.http.post(conversationPath(account.id, res.body.conversationId, '/replies'), { text: `reply ${i}` }, account.agentKey);
    const replied = performance.now();
    if (reply.status !== 200) throw new Error(`stream: reply answered ${reply.status} ${JSON.stringify(reply.body)}`);
    const replyId = reply.body.messageId ?? reply.body.message?.messageId;
    if (typeof replyId !== 'string') throw new Error(`stream: the reply's answer names no messageId: ${JSON.stringify(reply.body)}`);
    const replyArrived = await waitFor(res.body.conversationId, replyId);
    replyMs.push(replyArrived - replied);
    replyFromRequestMs.push(replyArrived - sent);
    await sleep(Math.random() * 100);
    const followUpId = `wamid.stream-${i}-again`;
    const again = await api.http.post(`/v1/accounts/${account.id}/messages`, { channel, customer, messageId: followUpId, text: `again ${i}` }, account.serviceKey);
    const againAnswered = performance.now();
    if (again.status !== 202) throw new Error(`stream: follow-up message answered ${again.status}`);
    followUpMs.push((await waitFor(res.body.conversationId, followUpId)) - againAnswered);
    await sleep(Math.random() * 100);
  }
  client.close();

  // Idle cost: the API process's CPU and memory over the same interval without and with the clients.
  const pid = api.proc.pid;
  await sleep(2_000);
  const cpuOver = async () => {
    const c0 = cpuSeconds(pid);
    await sleep(idleSeconds * 1000);
    return round(((cpuSeconds(pid) - c0) / idleSeconds) * 100, 2);
  };
  const rssBefore = rssMiB(pid);
  const cpuPercentBaseline = await cpuOver();
  ctx.log(`stream: ${idleClients} idle clients for ${idleSeconds} s`);
  const idle = await Promise.all(Array.from({ length: idleClients }, () => SseClient.open(streamUrl, { authorization: `Bearer ${account.agentKey}` })));
  await Promise.all(idle.map((c) => c.next((e) => e.type === 'ready')));
  await sleep(1_000);
  const cpuPercentWithClients = await cpuOver();
  const rssWithClients = rssMiB(pid);
  for (const c of idle) c.close();

  const result: StreamResult = {
    stored,
    customerMessageMs: summarize(customerMs),
    followUpMs: summarize(followUpMs),
    replyMs: summarize(replyMs),
    replyFromRequestMs: summarize(replyFromRequestMs),
    customerSplitMs: { toDecision: summarize(toDecision), decisionToEvent: summarize(decisionToEvent) },
    loadAverage,
    idle: { clients: idleClients, seconds: idleSeconds, cpuPercentBaseline, cpuPercentWithClients, rssMiBBefore: rssBefore, rssMiBWithClients: rssWithClients },
  };
  ctx.log(
    `  202 → event p50 ${result.customerMessageMs.p50} p99 ${result.customerMessageMs.p99} ms ` +
      `(next message p50 ${result.followUpMs.p50} p99 ${result.followUpMs.p99}; 202 → decided p50 ${result.customerSplitMs.toDecision.p50} p99 ${result.customerSplitMs.toDecision.p99}; decided → event p50 ${result.customerSplitMs.decisionToEvent.p50} p99 ${result.customerSplitMs.decisionToEvent.p99}); 200 → event p50 ${result.replyMs.p50} p99 ${result.replyMs.p99} ms; ` +
      `${idleClients} idle clients: API CPU ${cpuPercentBaseline}% → ${cpuPercentWithClients}% of a core, RSS ${rssBefore} → ${rssWithClients} MiB`,
  );
  return result;
}
