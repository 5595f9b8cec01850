import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { FakeGraph, FakeGraphRequest } from '../test/support/fake-graph';
import { signMeta, startFakeGraph } from '../test/support/fake-graph';
import type { BenchAccount } from './accounts';
import { conversationId, conversationPath } from './accounts';
import type { Http, HttpReply } from './http-client';
import { mapLimit, sleep } from './load';
import type { BenchStack } from './stack';
import type { Ledger } from './verify';

/**
 * SPEC section 7 for the bench and chaos harnesses: a fake WhatsApp Cloud API (test/support/fake-graph.ts)
 * in the harness process, which every worker the stack starts uses as WHATSAPP_GRAPH_URL; a
 * `whatsapp_cloud` channel configured through the API; and the bookkeeping that matches what the fake
 * received with the replies the API accepted (by their unique text).
 */
export async function startGraphForStack(stack: BenchStack): Promise<FakeGraph> {
  const graph = await startFakeGraph();
  stack.workerEnv.WHATSAPP_GRAPH_URL = graph.url;
  return graph;
}

export interface WhatsAppChannel {
  /** The business phone number, digits (conversation ids use it). */
  channel: string;
  phoneNumberId: string;
  appSecret: string;
}

/** A `whatsapp_cloud` channel for the account, with a phone number id no other account uses. */
export async function configureWhatsAppChannel(http: Http, platformKey: string, account: BenchAccount): Promise<WhatsAppChannel> {
  const channel = `1555${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
  const phoneNumberId = `1140${String(randomInt(0, 1e9)).padStart(9, '0')}${randomInt(10, 99)}`;
  const appSecret = `bench-app-secret-${randomBytes(12).toString('hex')}`;
  const res = await http.request('PUT', `/v1/accounts/${account.id}/channels/${channel}`, platformKey, {
    provider: 'whatsapp_cloud',
    phoneNumberId,
    accessToken: `bench-token-${randomUUID()}`,
    appSecret,
    verifyToken: `bench-verify-${randomUUID()}`,
  });
  if (res.status !== 200) throw new Error(`channel ${channel} not configured: ${res.status} ${JSON.stringify(res.body)}`);
  return { channel, phoneNumberId, appSecret };
}

/**
 * Opens one conversation per customer with a customer message (service key), retrying anything but a
 * 202 with the same provider message id; returns the conversation ids accepted.
 */
export async function openConversations(opts: {
  http: () => Http;
  account: BenchAccount;
  channel: string;
  customers: string[];
  ledger?: Ledger;
  concurrency?: number;
  deadlineMs?: number;
}): Promise<string[]> {
  const deadline = Date.now() + (opts.deadlineMs ?? 120_000);
  const opened: string[] = [];
  await mapLimit(opts.customers, opts.concurrency ?? 16, async (customer) => {
    const messageId = `open-${opts.account.id}-${customer}`;
    opts.ledger?.attempt(messageId);
    for (;;) {
      try {
        const res = await opts.http().request('POST', `/v1/accounts/${opts.account.id}/messages`, opts.account.serviceKey, { channel: opts.channel, customer, messageId, text: 'Hello, I need help' }, 20_000);
        if (res.status === 202) {
          const id = conversationId(opts.account.id, opts.channel, customer);
          opts.ledger?.accept(id, messageId);
          opened.push(id);
          return;
        }
      } catch {
        // retried below
      }
      if (Date.now() > deadline) return;
      await sleep(250);
    }
  });
  return opened;
}

/** What the fake Graph API answered 200 for each text body: the wamids (more than one is a duplicate send). */
export function sendsByText(graph: FakeGraph, filter: (r: FakeGraphRequest) => boolean = () => true): Map<string, FakeGraphRequest[]> {
  const out = new Map<string, FakeGraphRequest[]>();
  for (const r of graph.requests) {
    if (r.answeredWith !== 200 || !filter(r)) continue;
    const text = r.body?.text?.body;
    if (typeof text !== 'string') continue;
    let list = out.get(text);
    if (!list) out.set(text, (list = []));
    list.push(r);
  }
  return out;
}

/** A timeline message as the API shows it (the fields the harness reads). */
export interface TimelineMessage {
  messageId: string;
  direction: 'inbound' | 'outbound';
  text: string | null;
  delivery: { status: string; providerMessageId: string | null; error: unknown; updatedAt: string } | null;
}

/** The business messages of one timeline, through the API, as the agent sees them. */
export async function outboundTimeline(http: Http, account: BenchAccount, id: string): Promise<TimelineMessage[] | undefined> {
  const res = await politely(() => http.request('GET', conversationPath(account.id, id, '/messages?limit=500'), account.agentKey, undefined, 30_000));
  if (res.status !== 200) return undefined;
  return ((res.body?.messages ?? []) as TimelineMessage[]).filter((m) => m.direction === 'outbound');
}

/**
 * A request tried again while the API answers 429 (an agent key's rate limit, SPEC section 12), after
 * the Retry-After it gives: a checker reading hundreds of timelines with one agent's key outruns the
 * limit now that a page is fast, and a refused read is not a missing message.
 */
export async function politely(request: () => Promise<HttpReply>, tries = 20): Promise<HttpReply> {
  for (let attempt = 1; ; attempt++) {
    const res = await request();
    if (res.status !== 429 || attempt >= tries) return res;
    const seconds = Number(res.headers['retry-after']);
    await sleep(Number.isFinite(seconds) && seconds > 0 ? seconds * 1_000 : 1_000);
  }
}

/** A Meta webhook POST, signed over the exact bytes sent (the client serializes the body the same way). */
export function signedHeaders(body: unknown, appSecret: string): Record<string, string> {
  return { 'x-hub-signature-256': signMeta(JSON.stringify(body), appSecret) };
}
