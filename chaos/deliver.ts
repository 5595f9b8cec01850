import type { BenchAccount } from '../bench/accounts';
import { conversationId } from '../bench/accounts';
import type { Http, HttpReply } from '../bench/http-client';
import { sleep } from '../bench/load';
import type { Ledger } from '../bench/verify';

/**
 * Delivers customer messages the way a backend service would through an outage: a message that is not
 * answered 202 is sent again, with the same provider message id, until it is accepted or the deadline
 * passes. Only a 202 counts as accepted; every try is recorded as attempted (it may still land, once).
 */
export interface Delivery {
  customer: string;
  messageId: string;
  /** Copies sent at the same moment (the duplicate-delivery scenario sends three). */
  copies?: number;
}

export interface DeliveryReport {
  accepted: number;
  /** Messages never accepted before the deadline. */
  gaveUp: number;
  /** Tries answered with something other than 202 (or no answer), later retried. */
  retries: number;
  failures: Record<string, number>;
}

export const channel = 'wa-main';

/**
 * One try of a request through an outage: its answer when the status is `ok`, else null, with why it was
 * not counted in `failures` (the status and error code, or the error's message with its digits as N).
 */
export async function tryCounting(failures: Record<string, number>, ok: number, send: () => Promise<HttpReply>): Promise<HttpReply | null> {
  let why: string;
  try {
    const res = await send();
    if (res.status === ok) return res;
    why = `HTTP ${res.status} ${res.body?.error?.code ?? ''}`.trim();
  } catch (error) {
    why = error instanceof Error ? error.message.replace(/\d+/g, 'N').slice(0, 60) : 'error';
  }
  failures[why] = (failures[why] ?? 0) + 1;
  return null;
}

export async function deliver(opts: {
  http: () => Http;
  account: BenchAccount;
  ledger: Ledger;
  plan: Delivery[];
  concurrency: number;
  deadlineMs: number;
  /** Runs once, without pausing delivery, when this many messages have been accepted. */
  midway?: { afterAccepted: number; action: () => Promise<void> };
  log?: (line: string) => void;
}): Promise<DeliveryReport> {
  const report: DeliveryReport = { accepted: 0, gaveUp: 0, retries: 0, failures: {} };
  const deadline = Date.now() + opts.deadlineMs;
  let midway: Promise<void> | undefined;
  let next = 0;
  let lastLog = Date.now();
  const sendOnce = async (d: Delivery): Promise<boolean> => {
    opts.ledger.attempt(d.messageId);
    const body = { channel, customer: d.customer, messageId: d.messageId, text: `chaos ${d.messageId}` };
    return (await tryCounting(report.failures, 202, () => opts.http().request('POST', `/v1/accounts/${opts.account.id}/messages`, opts.account.serviceKey, body, 20_000))) !== null;
  };
  const lane = async () => {
    while (next < opts.plan.length) {
      const d = opts.plan[next++]!;
      for (;;) {
        const copies = await Promise.all(Array.from({ length: d.copies ?? 1 }, () => sendOnce(d)));
        if (copies.some(Boolean)) {
          opts.ledger.accept(conversationId(opts.account.id, channel, d.customer), d.messageId);
          report.accepted++;
          break;
        }
        report.retries++;
        if (Date.now() > deadline) {
          report.gaveUp++;
          break;
        }
        await sleep(250);
      }
      if (opts.midway && !midway && report.accepted >= opts.midway.afterAccepted) midway = opts.midway.action();
      if (opts.log && Date.now() - lastLog > 3_000) {
        lastLog = Date.now();
        opts.log(`  ${report.accepted} of ${opts.plan.length} accepted, ${report.retries} retried`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  await midway;
  return report;
}

/** A deterministic shuffle (mulberry32), so a failing order can be run again. */
export function shuffle<T>(items: T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
